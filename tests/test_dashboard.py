"""The campaign Dashboard: its numbers against a known day of texting, on a frozen clock."""

from __future__ import annotations

from datetime import datetime

import pytest
from bs4 import BeautifulSoup
from flask import g
from sqlalchemy import select

from spoke import clock
from spoke.assignment import done
from spoke.extensions import db
from spoke.models import Assignment, CampaignActivity, CampaignContact, Message
from spoke.reports import dashboard
from spoke.texting import messaging
from tests.factories import give_contacts, make_campaign, make_contacts, make_org, make_user

DAY = datetime(2026, 3, 10)  # New York is on daylight time (UTC-4): midnight is 04:00 UTC


def at(hour: int, minute: int = 0, day: datetime = DAY) -> datetime:
    return day.replace(hour=hour, minute=minute)


def held(campaign, user) -> list[int]:
    assignment_id = db.session.scalar(
        select(Assignment.id).where(
            Assignment.campaign_id == campaign.id, Assignment.user_id == user.id
        )
    )
    return list(
        db.session.scalars(
            select(CampaignContact.id)
            .where(CampaignContact.assignment_id == assignment_id)
            .order_by(CampaignContact.id)
        )
    )


def send(when: datetime, contact_id: int, user, body: str | None = None) -> None:
    clock.freeze(when)
    if body is None:
        messaging.send_initial(db.session, contact_id, user.id)
    else:
        messaging.send_reply(db.session, contact_id, user.id, body)
    db.session.commit()


def reply(when: datetime, contact_id: int) -> None:
    clock.freeze(when)
    contact = db.session.get(CampaignContact, contact_id)
    messaging.receive_inbound(
        db.session, contact.cell, "Yes!", f"SM{contact_id}{when:%H%M}", contact_id=contact_id
    )
    db.session.commit()


@pytest.fixture
def day(ctx):
    """A known day: Alice and Bob text, contacts reply, Bob is Done Texting; now is 16:00 UTC."""
    org = make_org()
    admin = make_user(org, role="owner", name="Ada Admin")
    alice = make_user(org, name="Alice Texter")
    bob = make_user(org, name="Bob Texter")
    campaign = make_campaign(org, status="started", default_timezone="America/New_York")
    make_contacts(campaign, 10)
    clock.freeze(at(20, day=DAY.replace(day=9)))
    give_contacts(campaign, alice, 4, actor=admin)
    give_contacts(campaign, bob, 3, actor=admin)
    a1, a2, a3, a4 = held(campaign, alice)
    b1, b2, b3 = held(campaign, bob)
    send(at(20, day=DAY.replace(day=9)), a1, alice)  # yesterday in New York
    for contact_id, user in ((a2, alice), (a3, alice), (b1, bob), (b2, bob)):
        send(at(14), contact_id, user)
    reply(at(14, 10), a1)
    reply(at(14, 10), a2)
    reply(at(14, 20), b1)
    send(at(14, 30), a1, alice, "Thanks!")  # waited 20 min
    send(at(15, 20), b1, bob, "Great")  # waited 60 min
    reply(at(15, 30), a3)
    reply(at(15, 35), b2)
    clock.freeze(at(15, 40))
    done.done_texting(db.session, campaign.id, bob.id)  # b3 (unsent) and b2 (reply) to the pool
    db.session.commit()
    send(at(15, 45), a2, alice, "See you there")  # waited 95 min
    clock.freeze(at(16))
    return {"org": org, "admin": admin, "alice": alice, "bob": bob, "campaign": campaign}


def test_dashboard_numbers_for_a_known_day(day):
    board = dashboard.campaign_dashboard(db.session, day["campaign"])
    assert board.pool_initials == 4  # three never assigned + Bob's released unsent one
    assert board.pool_replies == 1  # Bob's released reply
    assert board.held_unsent == 1 and board.held_replies == 1  # Alice's a4 and a3
    assert board.oldest_reply_at == at(15, 30)
    assert board.oldest_reply_age == "30 min"
    assert board.answered_last_hour == 2  # 15:20 and 15:45; 14:30 is over an hour ago
    assert board.median_answer_seconds == 3600  # of 20, 60 and 95 minutes
    assert board.median_answer == "1 h"
    rows = {t.name: t for t in board.texters}
    alice, bob = rows["Alice Texter"], rows["Bob Texter"]
    # Yesterday's initial (16:00 New York on the 9th) is not today's.
    assert (alice.sent_today, alice.answered_today) == (4, 2)
    assert (alice.unsent, alice.unhandled, alice.holding) == (1, 1, 2)
    assert alice.oldest_waiting == "30 min"
    assert (bob.sent_today, bob.answered_today, bob.holding, bob.oldest_waiting) == (3, 1, 0, "")


def test_chart_counts_every_15_minutes_from_the_first_text(day):
    board = dashboard.campaign_dashboard(db.session, day["campaign"])
    assert board.chart[0].at == at(20, day=DAY.replace(day=9))
    assert board.chart[-1].at == at(16)
    assert len(board.chart) == 20 * 4 + 1  # zeros included, so the line has no gaps
    active = {(b.at.hour, b.at.minute): (b.sent, b.received) for b in board.active_buckets}
    assert active == {
        (20, 0): (1, 0),
        (14, 0): (4, 2),
        (14, 15): (0, 1),
        (14, 30): (1, 0),
        (15, 15): (1, 0),
        (15, 30): (0, 2),
        (15, 45): (1, 0),
    }
    total = db.session.scalar(select(db.func.count()).select_from(Message))
    assert sum(b.sent + b.received for b in board.chart) == total


def test_a_duplicate_webhook_is_counted_once(day):
    campaign = day["campaign"]
    contact = db.session.scalars(
        select(CampaignContact).where(CampaignContact.campaign_id == campaign.id)
    ).first()
    for _ in range(2):
        messaging.receive_inbound(db.session, contact.cell, "Hi", "SMdup", contact_id=contact.id)
        db.session.commit()
    received = db.session.scalar(
        select(db.func.sum(CampaignActivity.received)).where(
            CampaignActivity.campaign_id == campaign.id, CampaignActivity.bucket_at == at(16)
        )
    )
    assert received == 1


def test_a_refused_send_counts_nothing(day):
    campaign, alice = day["campaign"], day["alice"]
    a1 = held(campaign, alice)[0]
    before = dashboard.campaign_dashboard(db.session, campaign)
    with pytest.raises(messaging.SendRefused):
        messaging.send_reply(db.session, a1, alice.id, "")
    db.session.rollback()
    with pytest.raises(messaging.SendRefused):
        messaging.send_initial(db.session, a1, alice.id)  # already sent
    db.session.rollback()
    after = dashboard.campaign_dashboard(db.session, campaign)
    assert [t.sent_today for t in after.texters] == [t.sent_today for t in before.texters]


def test_start_of_day_is_midnight_in_the_campaign_zone():
    assert dashboard.start_of_day(at(3), "America/New_York") == at(4, day=DAY.replace(day=9))
    assert dashboard.start_of_day(at(16), "America/New_York") == at(4)
    assert dashboard.start_of_day(at(16), "Asia/Kathmandu") == at(18, 15, DAY.replace(day=9))


def login(auth, user):
    auth.login_as(user)
    g.pop("_login_user", None)


def test_dashboard_page_full_and_as_a_polled_fragment(day, client, auth):
    login(auth, day["admin"])
    url = f"/campaigns/{day['campaign'].id}/dashboard"
    page = client.get(url)
    assert page.status_code == 200
    soup = BeautifulSoup(page.data, "html.parser")
    assert soup.find("h1").get_text(strip=True).startswith("Dashboard")
    stats = {s["data-stat"]: s.get_text(strip=True) for s in soup.select("[data-stat]")}
    assert stats == {
        "pool-initials": "4",
        "pool-replies": "1",
        "held-unsent": "1",
        "held-replies": "1",
        "oldest-reply": "30 min",
        "answered-hour": "2",
        "median-answer": "1 h",
    }
    alice_row = soup.select_one(f"tr[data-texter='{day['alice'].id}']")
    cells = [c.get_text(" ", strip=True) for c in alice_row.find_all(["th", "td"])]
    assert cells == ["Alice Texter", "4", "2", "2 (1 + 1)", "30 min"]
    poller = soup.select_one("#dashboard")
    assert poller["hx-get"] == url and "load delay:15s" in poller["hx-trigger"]
    assert poller.has_attr("data-poll-when-visible")
    assert soup.select_one(f"a[href='{url}']").get_text() == "Refresh"  # works without JS
    chart = soup.select_one("#dash-chart")
    assert chart["data-chart-lib"].endswith("vendor/uplot/uPlot.iife.min.js")
    table = soup.select("#dash-chart-table tbody tr")
    assert len(table) == 7  # the chart's active buckets, newest first
    assert [td.get_text() for td in table[0].find_all("td")] == ["1", "0"]
    assert soup.find("script", string=True) is None  # no inline script: the CSP forbids it
    assert not soup.select("[style]")
    # The Export section is there for an owner.
    assert soup.select_one("#export form[action$='/export']")

    fragment = client.get(url, headers={"HX-Request": "true"})
    frag = BeautifulSoup(fragment.data, "html.parser")
    assert frag.find("html") is None and frag.select_one("#dashboard")
    assert frag.select_one("[data-stat=pool-initials]").get_text() == "4"
    assert "HX-Request" in fragment.headers["Vary"]


def test_dashboard_updates_on_the_next_poll(day, client, auth):
    login(auth, day["admin"])
    url = f"/campaigns/{day['campaign'].id}/dashboard"
    alice_a4 = held(day["campaign"], day["alice"])[3]
    send(at(16, 5), alice_a4, day["alice"])
    frag = BeautifulSoup(client.get(url, headers={"HX-Request": "true"}).data, "html.parser")
    assert frag.select_one("[data-stat=held-unsent]").get_text() == "0"
    row = frag.select_one(f"tr[data-texter='{day['alice'].id}']")
    assert row.find_all("td")[0].get_text() == "5"


def test_dashboard_is_for_staff_of_the_organization(day, client, auth):
    url = f"/campaigns/{day['campaign'].id}/dashboard"
    login(auth, day["alice"])
    assert client.get(url).status_code == 403
    outsider_org = make_org("Other Org")
    outsider = make_user(outsider_org, role="owner")
    login(auth, outsider)
    assert client.get(url).status_code == 404
    supervolunteer = make_user(day["org"], role="supervolunteer")
    login(auth, supervolunteer)
    page = BeautifulSoup(client.get(url).data, "html.parser")
    assert page.select_one("#dashboard")
    assert page.select_one("#export") is None  # exporting is for admins and owners


def test_empty_campaign_dashboard(ctx, client, auth):
    org = make_org()
    admin = make_user(org, role="admin")
    campaign = make_campaign(org)
    login(auth, admin)
    soup = BeautifulSoup(client.get(f"/campaigns/{campaign.id}/dashboard").data, "html.parser")
    assert soup.select_one("[data-stat=median-answer]").get_text() == "No answers yet"
    assert soup.select_one("#dash-chart") is None
    assert "No texts sent or received yet." in soup.get_text()
