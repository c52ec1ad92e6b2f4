"""Long texts: one segment count (GSM-7 / UCS-2) and a hard 1,600-character limit everywhere."""

from __future__ import annotations

from datetime import datetime

import pytest
from bs4 import BeautifulSoup
from flask import g
from sqlalchemy import func, select

from spoke import clock
from spoke.extensions import db
from spoke.models import Campaign, Message
from spoke.texting import inbound
from spoke.texting.segments import MAX_CHARACTERS, measure
from tests.factories import give_contacts, make_campaign, make_contacts, make_org, make_user

NOW = datetime(2026, 11, 27, 12, 0, 0)
HX = {"HX-Request": "true"}


@pytest.mark.parametrize(
    "text, encoding, segments",
    [
        ("", "GSM-7", 0),
        ("a", "GSM-7", 1),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("a" * 1600, "GSM-7", 11),
        ("Café, ¿qué tal? £5 @home", "GSM-7", 1),
        # The extension table ({ } [ ] ~ ^ | \ €) takes two septets per character.
        ("{" * 80, "GSM-7", 1),
        ("{" * 81, "GSM-7", 2),
        ("€" + "a" * 158, "GSM-7", 1),
        # One character outside GSM-7 switches the whole text to UCS-2.
        ("ç" + "a" * 69, "UCS-2", 1),
        ("ç" + "a" * 70, "UCS-2", 2),
        ("ç" + "a" * 133, "UCS-2", 2),
        ("ç" + "a" * 134, "UCS-2", 3),
        ("Vote 🗳", "UCS-2", 1),
        # An emoji outside the BMP is two UTF-16 units.
        ("🗳" * 35, "UCS-2", 1),
        ("🗳" * 36, "UCS-2", 2),
    ],
)
def test_measure_counts_segments_by_encoding(text, encoding, segments):
    length = measure(text)
    assert (length.encoding, length.segments) == (encoding, segments)
    assert length.characters == len(text)
    assert not length.too_long


def test_measure_flags_anything_over_the_hard_limit():
    assert MAX_CHARACTERS == 1600
    assert not measure("a" * 1600).too_long
    over = measure("a" * 1601)
    assert over.too_long and "1,600" in over.refusal


# --- Script section ----------------------------------------------------------------------------


@pytest.fixture
def admin_campaign(ctx, auth):
    clock.freeze(NOW)
    org = make_org()
    admin = make_user(org, "admin", name="Ada Admin")
    campaign = make_campaign(org, script="Hi {firstName}!")
    auth.login_as(admin)
    g.pop("_login_user", None)
    return campaign


def page_text(response) -> str:
    return " ".join(
        BeautifulSoup(response.get_data(as_text=True), "html.parser").get_text(" ").split()
    )


@pytest.mark.parametrize("headers", [HX, {}])
def test_a_script_over_the_limit_is_refused_and_nothing_is_saved(admin_campaign, client, headers):
    long_script = "Hi {firstName}, " + "x" * 100_000
    response = client.post(
        f"/campaigns/{admin_campaign.id}/script", data={"script": long_script}, headers=headers
    )
    assert response.status_code in (200, 422)  # the section's error, or the page with it
    shown = page_text(response)
    assert "1,600 characters" in shown
    db.session.expire_all()
    assert db.session.get(Campaign, admin_campaign.id).script == "Hi {firstName}!"


def test_a_script_whose_rendered_text_is_over_the_limit_is_refused(admin_campaign, client):
    make_contacts(admin_campaign, 1, first_name="B" * 200)
    script = "{firstName} " + "y" * 1500  # 1,512 typed, 1,701 for this contact
    response = client.post(
        f"/campaigns/{admin_campaign.id}/script", data={"script": script}, headers=HX
    )
    assert "1,600 characters" in page_text(response)
    db.session.expire_all()
    assert db.session.get(Campaign, admin_campaign.id).script == "Hi {firstName}!"


def test_the_script_preview_shows_characters_and_segments(admin_campaign, client):
    response = client.post(
        f"/campaigns/{admin_campaign.id}/script/preview",
        data={"script": "Hi {firstName} " + "a" * 160},
        headers=HX,
    )
    shown = page_text(response)
    assert "2 segments" in shown and "GSM-7" in shown
    page = client.get(f"/campaigns/{admin_campaign.id}")
    assert "1 segment" in page_text(page)


# --- Reply box -------------------------------------------------------------------------------


@pytest.fixture
def conversation(ctx, auth):
    """A texter holding a contact who replied to the initial."""
    clock.freeze(NOW)
    org = make_org()
    texter = make_user(org, "texter", name="Tina Texter")
    campaign = make_campaign(org, status="started", started_at=NOW)
    [cid] = make_contacts(campaign, 1)
    give_contacts(campaign, texter, 1)
    auth.login_as(texter)
    g.pop("_login_user", None)
    return cid


def test_the_reply_box_shows_a_counter_and_counts_what_is_typed(conversation, client):
    client.post(f"/texting/contacts/{conversation}/send")
    inbound.receive_inbound(db.session, "+15550000000", "Hi?", "SMq")
    db.session.commit()
    soup = BeautifulSoup(client.get(f"/texting/contacts/{conversation}").data, "html.parser")
    counter = soup.find(id="reply-count")
    assert counter is not None and "1,600" in counter.get_text()
    box = soup.find(id="reply-body")
    assert box["aria-describedby"].split()[0] == "reply-count"
    counted = client.post(
        box["hx-post"], data={"body": "ç" * 71}, headers={**HX, "HX-Target": "reply-count"}
    )
    assert counted.status_code == 200
    assert "71 / 1,600 characters" in page_text(counted) and "2 segments" in page_text(counted)


def test_a_reply_over_the_limit_is_refused_with_a_reason(conversation, client):
    client.post(f"/texting/contacts/{conversation}/send")
    inbound.receive_inbound(db.session, "+15550000000", "Hi?", "SMq")
    db.session.commit()
    response = client.post(
        f"/texting/contacts/{conversation}/reply", data={"body": "z" * (MAX_CHARACTERS + 1)}
    )
    assert response.status_code == 400
    assert "1,600 characters" in page_text(response)
    outbound = select(func.count(Message.id)).where(Message.direction == "out")
    assert db.session.scalar(outbound) == 1  # only the initial


def test_an_initial_longer_than_the_limit_is_refused_not_cut(ctx, auth, client):
    """A script saved before the limit existed: the texter is told, nothing is sent or cut."""
    clock.freeze(NOW)
    org = make_org()
    texter = make_user(org, "texter", name="Tina Texter")
    campaign = make_campaign(org, status="started", started_at=NOW, script="w" * 100_000)
    [cid] = make_contacts(campaign, 1)
    give_contacts(campaign, texter, 1)
    auth.login_as(texter)
    g.pop("_login_user", None)
    response = client.post(f"/texting/contacts/{cid}/send", headers=HX)
    assert "1,600 characters" in page_text(response)
    assert db.session.scalar(select(func.count(Message.id))) == 0
