"""Input: one parser for numbers from requests; out-of-range or odd input never answers 500."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from flask import g
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from spoke import clock, parsing
from spoke.extensions import db
from spoke.models import Assignment, Campaign, CampaignContact, Message, Team
from spoke.texting import inbound, messaging
from spoke.views import _params as url_params
from tests.factories import give_contacts, make_campaign, make_contacts, make_org, make_user

HX = {"HX-Request": "true"}
HUGE = "10000000000"  # 11 digits: beyond PostgreSQL's integer
BAD_NUMBERS = [HUGE, "2147483648", "\u00b2", "\u0661", "\uff11", "--1", "1e3", "0x10", "+1"]
TOKEN = "twilio-auth-token"
TOO_LONG = f"Enter at most {parsing.MAX_MINUTES:,} minutes (ten years)."
MINUTES_MESSAGES = ("Enter a whole number of minutes, 0 or more.", TOO_LONG)


# --- the pure parser ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, low, high, value",
    [
        ("0", 0, 10, 0),
        (" 7 ", 0, 10, 7),
        ("007", 0, 10, 7),
        ("2147483647", 0, parsing.INT32_MAX, parsing.INT32_MAX),
        ("2147483648", 0, parsing.INT32_MAX, None),
        (HUGE, 0, parsing.INT32_MAX, None),
        ("9" * 5000, 0, parsing.INT32_MAX, None),  # int() would refuse it with ValueError
        ("\u00b2", 0, 10, None),  # "²".isdigit() is True
        ("\u0661", 0, 10, None),  # Arabic-Indic one: int() reads it as 1
        ("\uff11", 0, 10, None),  # fullwidth one
        ("-1", 0, 10, None),
        ("-1", -5, 10, -1),
        ("--1", -5, 10, None),
        ("-", -5, 10, None),
        ("+1", 0, 10, None),
        ("1.0", 0, 10, None),
        ("1_000", 0, 10_000, None),  # int() accepts underscores
        ("", 0, 10, None),
        (None, 0, 10, None),
        ("11", 0, 10, None),
    ],
)
def test_whole_number_takes_ascii_digits_within_bounds(raw, low, high, value):
    assert parsing.whole_number(raw, low, high) == value


def test_id_lists_keep_order_drop_repeats_and_flag_bad_values():
    assert parsing.record_ids(["3", "1", "3"]) == ([3, 1], True)
    assert parsing.record_ids(["3", HUGE, "\u00b2", "0"]) == ([3], False)
    assert parsing.minutes(str(parsing.MAX_MINUTES)) == parsing.MAX_MINUTES
    assert parsing.minutes(HUGE) is None


@pytest.mark.parametrize(
    "target, path",
    [
        ("/campaigns?x=1", "/campaigns?x=1"),
        ("/%0D%0A//evil.com", "/%0D%0A//evil.com"),  # still percent-encoded: a plain path
        ("/\r\n//evil.com", None),
        ("/\t/evil.com", None),
        ("/\x00", None),
        ("/\x85//evil.com", None),
        ("//evil.com", None),
        ("/\\evil.com", None),
        ("https://evil.com/", None),
        ("javascript:alert(1)", None),
        ("campaigns", None),
        ("", None),
    ],
)
def test_local_path_accepts_only_same_site_paths(target, path):
    assert parsing.local_path(target) == path


# --- the app --------------------------------------------------------------------------------


@pytest.fixture
def app_config(app_config):
    app_config["TWILIO_AUTH_TOKEN"] = TOKEN
    return app_config


@pytest.fixture
def w(ctx, auth):
    """An admin logged in; a started campaign whose texter holds 3 contacts, one replied."""
    clock.freeze(clock.now())
    org = make_org()
    admin = make_user(org, "admin", name="Ada Admin")
    texter = make_user(org, "texter", name="Tina Texter")
    team = Team(organization_id=org.id, name="Ours")
    db.session.add(team)
    campaign = make_campaign(org, status="started", started_at=clock.now())
    ids = make_contacts(campaign, 3)
    give_contacts(campaign, texter, 3)
    messaging.send_initial(db.session, ids[0], texter.id)
    db.session.commit()
    auth.login_as(admin)
    g.pop("_login_user", None)
    return {"org": org, "admin": admin, "texter": texter, "campaign": campaign, "ids": ids}


def text_of(response) -> str:
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    return " ".join(page.get_text(" ").split())


def rows(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def id_rules(app):
    """Every route with an `int` in its path, and the methods it answers."""
    for rule in app.url_map.iter_rules():
        ints = [
            name
            for name, conv in rule._converters.items()
            if isinstance(conv, url_params.IdConverter)
        ]
        if ints:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method, ints


@pytest.mark.parametrize("raw", ["2147483648", HUGE, "99999999999999999999"])
def test_an_id_beyond_the_integer_column_is_404_on_every_route(w, client, app, raw):
    checked = 0
    for rule, method, ints in id_rules(app):
        values = {name: 1 for name in rule.arguments}
        values.update({name: "KIND" for name in rule.arguments if name not in ints})
        for name in ints:
            # The huge value in this argument only (the others stay 1).
            url = rule.build({**values, name: 424242})[1].replace("424242", raw)
            response = client.open(url, method=method)
            assert response.status_code == 404, (url, method, response.status_code)
            checked += 1
    assert checked > 30


def test_a_campaign_id_beyond_the_column_is_a_plain_404(w, client):
    assert client.get("/campaigns/2147483648").status_code == 404
    assert client.get("/campaigns/\u0661").status_code == 404
    assert client.get(f"/campaigns/{w['campaign'].id}").status_code == 200


@pytest.mark.parametrize("raw", BAD_NUMBERS)
def test_message_review_filter_fields_say_what_is_wrong(w, client, raw):
    assert client.get("/review", query_string={"campaign": raw}).status_code == 404
    response = client.get("/review", query_string={"texter": raw})
    assert response.status_code == 200
    assert "Choose a texter from the list." in text_of(response)
    response = client.get("/review", query_string={"unhandled": raw})
    assert response.status_code == 200
    assert any(message in text_of(response) for message in MINUTES_MESSAGES)
    for name in ("after", "before"):
        response = client.get("/review", query_string={name: raw})
        assert response.status_code == 200 and "First0" in text_of(response)


def test_unhandled_minutes_far_in_the_past_are_refused_not_overflowed(w, client):
    response = client.get("/review", query_string={"unhandled": "10000000000"})
    assert response.status_code == 200
    assert TOO_LONG in text_of(response)
    response = client.get("/review", query_string={"unhandled": str(parsing.MAX_MINUTES)})
    assert response.status_code == 200
    assert not any(message in text_of(response) for message in MINUTES_MESSAGES)


@pytest.mark.parametrize("raw", BAD_NUMBERS)
def test_bulk_actions_refuse_ids_that_are_not_ids(w, client, raw):
    held = (
        rows(Assignment),
        db.session.scalar(select(func.count()).where(CampaignContact.assignment_id.is_not(None))),
    )
    response = client.post(
        "/review/bulk",
        data={"scope": "selected", "action": "unassign", "contact_ids": [str(w["ids"][0]), raw]},
        headers=HX,
    )
    assert response.status_code == 200
    assert "Select rows from the list." in text_of(response)
    response = client.post(
        "/review/bulk",
        data={
            "scope": "selected",
            "action": "reassign",
            "contact_ids": w["ids"][0],
            "texters": raw,
        },
    )
    assert response.status_code == 422
    assert "Choose texters from the list." in text_of(response)
    assert held == (
        rows(Assignment),
        db.session.scalar(select(func.count()).where(CampaignContact.assignment_id.is_not(None))),
    )


@pytest.mark.parametrize("raw", BAD_NUMBERS)
def test_add_texter_and_team_member_refuse_ids_that_are_not_ids(w, client, raw):
    campaign = w["campaign"]
    response = client.post(f"/campaigns/{campaign.id}/texters", data={"user_id": raw}, headers=HX)
    assert response.status_code == 200
    assert "Choose a texter to add." in text_of(response)
    team = db.session.scalars(select(Team)).one()
    response = client.post(f"/teams/{team.id}/members", data={"user_id": raw}, headers=HX)
    assert response.status_code == 200
    assert "Choose a member to add." in text_of(response)
    assert rows(Assignment) == 1
    db.session.refresh(team)
    assert team.members == []


@pytest.mark.parametrize("raw", BAD_NUMBERS)
def test_basics_refuses_team_ids_that_are_not_ids(w, client, raw):
    campaign = w["campaign"]
    response = client.post(
        f"/campaigns/{campaign.id}/basics",
        data={"title": "Changed", "team_ids": raw},
        headers=HX,
    )
    assert response.status_code == 200
    assert "Choose teams from this organization." in text_of(response)
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).title != "Changed"


@pytest.mark.parametrize("raw", BAD_NUMBERS)
def test_a_reply_with_an_odd_seen_marker_is_sent_once(w, client, raw):
    cid = w["ids"][0]
    cell = db.session.get(CampaignContact, cid).cell
    inbound.receive_inbound(db.session, cell, "Yes", "SMyes")
    db.session.commit()
    response = client.post(
        f"/texting/contacts/{cid}/reply", data={"body": "Thanks!", "seen": raw}, headers=HX
    )
    assert response.status_code == 200
    assert rows(Message) == 3


@pytest.mark.parametrize("raw", ["--1", "-1", "\u00b2", HUGE, "1 000", "-"])
def test_batch_size_refuses_odd_numbers(w, client, raw):
    campaign = w["campaign"]
    before = campaign.initials_batch_size
    response = client.post(
        f"/campaigns/{campaign.id}/assignment-settings",
        data={"initials_batch_size": raw},
        headers=HX,
    )
    assert response.status_code == 200
    assert "Enter a whole number from 1 to 10,000." in text_of(response)
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).initials_batch_size == before


def test_batch_size_still_reads_thousands_separators(w, client):
    campaign = w["campaign"]
    client.post(
        f"/campaigns/{campaign.id}/assignment-settings",
        data={"initials_batch_size": "1,000"},
        headers=HX,
    )
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).initials_batch_size == 1000


@pytest.mark.parametrize(
    "next_url", ["/%0D%0A//evil.com", "/%09/evil.com", "/%E2%80%A8//evil.com", "/%C2%85//x"]
)
def test_login_next_with_control_characters_goes_home(ctx, client, next_url):
    org = make_org()
    user = make_user(org, "admin", email="ada@example.org")
    response = client.get(f"/login?next={next_url}")
    assert response.status_code == 200
    response = client.post(
        f"/login?next={next_url}", data={"email": user.email, "password": "password123"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_a_signed_webhook_with_a_message_sid_over_64_characters_is_refused(w, client):
    cell = db.session.get(CampaignContact, w["ids"][0]).cell
    before = rows(Message)
    for url, params in (
        ("/webhooks/twilio/sms", {"From": cell, "Body": "STOP", "MessageSid": "SM" + "a" * 63}),
        ("/webhooks/twilio/status", {"MessageStatus": "delivered", "MessageSid": "S" * 65}),
    ):
        signature = RequestValidator(TOKEN).compute_signature("http://localhost" + url, params)
        response = client.post(url, data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 400
    assert rows(Message) == before
    db.session.expire_all()
    assert not db.session.get(CampaignContact, w["ids"][0]).opted_out


@pytest.mark.parametrize(
    ("raw", "matches"),
    [
        ("0", True),
        ("7", True),
        ("999999999", True),
        ("1999999999", True),
        ("2147483647", True),
        ("2147483648", False),
        ("2147483650", False),
        ("9999999999", False),
        ("0123456789", False),
        ("\u0661", False),
    ],
)
def test_the_url_id_pattern_stops_at_the_integer_column(raw, matches):
    """The bound is in the URL pattern, so no rule matches a larger id (404, never 405)."""
    pattern = re.compile(f"^{url_params.IdConverter.regex}$")
    assert bool(pattern.match(raw)) is matches
