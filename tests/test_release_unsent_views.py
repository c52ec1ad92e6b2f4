"""Release Unsent Initials as people see it: the setting, the texter's countdown, the admin's
numbers and history, and the schema (migration defaults, the sweep's partial index)."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from flask import g
from flask_migrate import upgrade
from sqlalchemy import select, text

from bench.common import throwaway_postgres
from spoke import clock, create_app
from spoke.assignment import panel, release, release_unsent, settings
from spoke.extensions import db
from spoke.models import Campaign, CampaignContact
from spoke.models import CampaignContact as CC
from tests.conftest import PG_URL
from tests.factories import give_contacts, make_campaign, make_contacts, make_org, make_user
from tests.test_assignment_settings import control, fieldset, form_values, settings_form

T0 = datetime(2031, 11, 2, 5, 30, 0)  # UTC, around a US DST change: the window is UTC-only
HX = {"HX-Request": "true"}
LABEL = "Release unsent initials held for how many minutes?"
RANGE_MESSAGE = "Enter a whole number from 5 to 10,080."


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def login(auth, user) -> None:
    auth.login_as(user)
    g.pop("_login_user", None)


def reload(campaign_id: int) -> Campaign:
    db.session.expire_all()
    return db.session.get(Campaign, campaign_id)


class World:
    """A texter given 3 contacts at T0 in a started campaign releasing unsent after 60 min."""

    def __init__(self) -> None:
        clock.freeze(T0)
        self.org = make_org()
        self.admin = make_user(self.org, "admin", name="Ada Admin")
        self.texter = make_user(self.org, "texter", name="Tina Texter")
        self.campaign = make_campaign(
            self.org, status="started", release_unsent_enabled=True, release_unsent_minutes=60
        )
        self.ids = make_contacts(self.campaign, 3)
        give_contacts(self.campaign, self.texter, 3, actor=self.admin)
        self.assignment_id = db.session.get(CampaignContact, self.ids[0]).assignment_id


@pytest.fixture
def w(ctx):
    return World()


def page_settings(client, campaign):
    return settings_form(soup_of(client.get(f"/campaigns/{campaign.id}")))


# --- the setting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, value", [("5", 5), ("60", 60), ("10080", 10080), (" 90 ", 90), ("1,440", 1440)]
)
def test_minutes_accepted(raw, value):
    assert settings.validate({"release_unsent_minutes": raw}) == (
        {"release_unsent_minutes": value},
        {},
    )


@pytest.mark.parametrize("raw", ["4", "0", "-60", "10081", "", "an hour", "1.5", "60m"])
def test_minutes_rejected_with_the_range(raw):
    assert settings.validate({"release_unsent_minutes": raw}) == (
        {},
        {"release_unsent_minutes": RANGE_MESSAGE},
    )


def test_fieldset_defaults_off_and_60(client, auth, ctx):
    org = make_org()
    campaign = make_campaign(org, status="started")
    login(auth, make_user(org, "admin"))
    group = fieldset(page_settings(client, campaign), "Release Unsent Initials")
    toggle = control(group, "Release Unsent Initials")
    assert toggle["type"] == "checkbox" and not toggle.has_attr("checked")
    minutes = control(group, LABEL)
    assert (minutes["value"], minutes["min"], minutes["max"]) == ("60", "5", "10080")


@pytest.mark.parametrize("hx", [True, False])
def test_toggle_and_minutes_save_inline(client, auth, w, hx):
    login(auth, w.admin)
    w.campaign.release_unsent_enabled = False
    db.session.commit()
    values = form_values(page_settings(client, w.campaign))
    values["release_unsent_enabled"] = ["", "on"]
    values["release_unsent_minutes"] = ["45"]
    url = f"/campaigns/{w.campaign.id}/assignment-settings"
    response = client.post(url, data=values, headers=HX if hx else {})
    if hx:
        group = fieldset(soup_of(response), "Release Unsent Initials")
        assert "Saved" in group.find("legend").get_text()
    else:
        assert response.status_code == 303
        group = fieldset(page_settings(client, w.campaign), "Release Unsent Initials")
    assert control(group, "Release Unsent Initials").has_attr("checked")
    assert control(group, LABEL)["value"] == "45"
    campaign = reload(w.campaign.id)
    assert (campaign.release_unsent_enabled, campaign.release_unsent_minutes) == (True, 45)
    # The other release feature is untouched.
    assert (campaign.release_unhandled_enabled, campaign.release_unhandled_minutes) == (False, 30)
    values["release_unsent_enabled"] = [""]
    client.post(url, data=values, headers=HX if hx else {})
    assert reload(w.campaign.id).release_unsent_enabled is False


@pytest.mark.parametrize("raw", ["4", "10081", "soon", ""])
def test_bad_minutes_shown_next_to_the_field_and_nothing_saved(client, auth, w, raw):
    login(auth, w.admin)
    values = form_values(page_settings(client, w.campaign))
    values["release_unsent_minutes"] = [raw]
    soup = soup_of(
        client.post(f"/campaigns/{w.campaign.id}/assignment-settings", data=values, headers=HX)
    )
    group = fieldset(soup, "Release Unsent Initials")
    field = control(group, LABEL)
    assert field["value"] == raw and field["aria-invalid"] == "true"
    assert soup.find(id=field["aria-describedby"]).get_text(strip=True) == RANGE_MESSAGE
    assert "Not saved" in soup.find(role="alert").get_text()
    assert "Saved" not in group.find("legend").get_text()
    assert reload(w.campaign.id).release_unsent_minutes == 60


# --- the texter's countdown --------------------------------------------------------------


def test_countdown_text_counts_from_assigned_at(w):
    def says():
        return release_unsent.countdown_text(db.session, w.campaign, w.assignment_id)

    clock.advance(minutes=46)
    assert says() == "Unsent texts go back to the pool in 14 min"
    clock.advance(minutes=13, seconds=30)
    assert says() == "Unsent texts go back to the pool in 1 min"
    clock.advance(seconds=30)
    assert says() == "Unsent texts go back to the pool within a minute"
    # What it says is when the sweep moves them.
    assert release_unsent.sweep_campaign(db.session, w.campaign.id) == 3
    assert says() == ""


def test_countdown_is_for_the_longest_held_and_gone_when_off_or_all_sent(w):
    more = make_contacts(w.campaign, 2, start=10)
    clock.advance(minutes=20)
    give_contacts(w.campaign, w.texter, 5, actor=w.admin)  # two more, 20 minutes later
    assert {db.session.get(CC, i).assignment_id for i in more} == {w.assignment_id}
    assert release_unsent.countdown_text(db.session, w.campaign, w.assignment_id) == (
        "Unsent texts go back to the pool in 40 min"
    )
    w.campaign.release_unsent_minutes = 200
    assert release_unsent.countdown_text(db.session, w.campaign, w.assignment_id) == (
        "Unsent texts go back to the pool in 3 h"
    )
    w.campaign.release_unsent_minutes = 215
    assert release_unsent.countdown_text(db.session, w.campaign, w.assignment_id) == (
        "Unsent texts go back to the pool in 3 h 15 min"
    )
    w.campaign.release_unsent_enabled = False
    assert release_unsent.countdown_text(db.session, w.campaign, w.assignment_id) == ""
    w.campaign.release_unsent_enabled = True
    db.session.execute(
        CC.__table__.update()
        .where(CC.assignment_id == w.assignment_id)
        .values(message_status="messaged", last_outbound_at=T0)
    )
    assert release_unsent.countdown_text(db.session, w.campaign, w.assignment_id) == ""
    db.session.rollback()


def countdown_on(response) -> str:
    found = soup_of(response).select_one(".unsent-countdown")
    return found.get_text(" ", strip=True) if found is not None else ""


def test_texter_sees_the_countdown_on_their_initials(client, auth, w):
    login(auth, w.texter)
    clock.advance(minutes=46)
    send_page = f"/texting/campaigns/{w.campaign.id}/send"
    campaign_page = f"/texting/campaigns/{w.campaign.id}"
    expected = "Unsent texts go back to the pool in 14 min"
    assert countdown_on(client.get(send_page)) == expected
    assert countdown_on(client.get(campaign_page)) == expected
    # Sending one swaps in the next contact, countdown included (with its clock moved on).
    clock.advance(minutes=2)
    response = client.post(f"/texting/contacts/{w.ids[0]}/send", headers=HX)
    assert "Sent to" in response.get_data(as_text=True)
    assert countdown_on(response) == "Unsent texts go back to the pool in 12 min"
    # Off: no countdown anywhere.
    w.campaign.release_unsent_enabled = False
    db.session.commit()
    assert countdown_on(client.get(send_page)) == ""
    assert countdown_on(client.get(campaign_page)) == ""


def test_no_countdown_for_a_texter_holding_nothing(client, auth, w):
    other = make_user(w.org, "texter")
    give_contacts(w.campaign, other, 0, actor=w.admin)
    login(auth, other)
    assert countdown_on(client.get(f"/texting/campaigns/{w.campaign.id}")) == ""
    assert countdown_on(client.get(f"/texting/campaigns/{w.campaign.id}/send")) == ""


# --- the admin's numbers and history -----------------------------------------------------


def test_admin_stats_and_history(client, auth, w):
    clock.advance(minutes=61)
    assert release_unsent.sweep_campaign(db.session, w.campaign.id) == 3
    make_contacts(w.campaign, 2, start=10)
    give_contacts(w.campaign, w.texter, 2, actor=w.admin)
    stats = release.release_stats(db.session, w.campaign)
    assert (stats.unsent_held, stats.unsent_released_last_hour, stats.released_last_hour) == (
        2,
        3,
        0,
    )
    login(auth, w.admin)
    soup = soup_of(client.get(f"/campaigns/{w.campaign.id}/release-stats", headers=HX))
    items = {
        li.get_text(" ", strip=True) for li in soup.select("ul[aria-label='Unsent initials'] li")
    }
    assert items == {
        "2 Unsent initials held by texters",
        "3 Unsent initials released in the last hour",
    }
    assert "60 minutes of being assigned" in soup.get_text(" ", strip=True)
    history = panel.assignment_history(db.session, w.campaign.id)
    [row] = [r for r in history if r.why == "Release Unsent Initials"]
    assert (row.who, row.count, row.detail) == (
        "spoke",
        3,
        "released 3 unsent initials to the pool",
    )


# --- schema ------------------------------------------------------------------------------


@pytest.fixture
def empty_database_url(backend, tmp_path):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    with throwaway_postgres(PG_URL, "spoke_test_unsent") as url:
        yield url


def test_migration_gives_existing_campaigns_the_defaults(empty_database_url, tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": empty_database_url,
            "SECRET_KEY": "x",
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        }
    )
    with app.app_context():
        upgrade(revision="38d67f0e41b4")
        # Raw SQL: the model's organization has columns later migrations add.
        org = SimpleNamespace(
            id=db.session.scalar(
                text(
                    "INSERT INTO organization (name, created_at) VALUES ('Org', CURRENT_TIMESTAMP) "
                    "RETURNING id"
                )
            )
        )
        db.session.execute(
            text(
                "INSERT INTO campaign (organization_id, title, description, status, script, "
                "custom_field_names, dynamic_initials_enabled, initials_batch_size, "
                "require_replies_handled, dynamic_replies_enabled, replies_batch_size, "
                "release_unhandled_enabled, release_unhandled_minutes, initials_join_token, "
                "replies_join_token, created_at) VALUES (:org, 'Old', '', 'started', '', '[]', "
                "true, 200, false, false, 25, true, 30, 'a', 'b', CURRENT_TIMESTAMP)"
            ),
            {"org": org.id},
        )
        db.session.commit()
        upgrade()
        row = db.session.execute(
            text("SELECT release_unsent_enabled, release_unsent_minutes FROM campaign")
        ).one()
        assert (bool(row[0]), row[1]) == (False, 60)
        db.session.remove()
        db.engine.dispose()


def test_the_sweep_pick_can_use_its_partial_index(w, backend):
    pick = (
        select(CC.id)
        .where(release_unsent.due(w.campaign.id, release.cutoff_for(60)))
        .order_by(CC.assigned_at, CC.id)
        .limit(500)
    )
    compiled = pick.compile(db.engine)
    conn = db.session.connection()
    if backend == "postgresql":
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # tiny table: prove it is usable
        plan = [r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)]
    else:
        params = tuple(compiled.params[name] for name in compiled.positiontup)
        plan = [r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)]
    db.session.rollback()
    assert any("ix_contact_held_unsent" in line for line in plan), plan
