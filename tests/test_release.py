"""Release Unhandled Replies: the predicate, the boundary, chunks, concurrency, job/CLI/ticker."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from flask import g, render_template_string
from sqlalchemy import func, select, update

from jobs.release import release_unhandled
from spoke import clock
from spoke.assignment import claims, join, release
from spoke.assignment.manual import ensure_assignment
from spoke.extensions import db
from spoke.models import AssignmentEvent, CampaignContact
from spoke.runtime.cli import release_unhandled_command
from spoke.runtime.ticker import start_ticker
from tests.factories import make_campaign, make_contacts, make_org, make_user
from tests.helpers import run_threads

T0 = datetime(2031, 5, 4, 12, 0, 0)


def assignment_id(campaign, user) -> int:
    assignment, _ = ensure_assignment(db.session, campaign.id, user.id)
    db.session.commit()
    return assignment.id


def replies(campaign, holder_id, n, inbound_at, *, start=0, **extra) -> list[int]:
    """n contacts held by `holder_id` whose reply came in at `inbound_at`, unanswered."""
    values = {
        "assignment_id": holder_id,
        "message_status": "needs_response",
        "last_inbound_at": inbound_at,
        "last_outbound_at": inbound_at - timedelta(minutes=10),
    }
    values.update(extra)
    return make_contacts(campaign, n, start=start, **values)


def login(auth, user):
    """Log in as `user`; the test's app context caches the previous user in `g`."""
    auth.login_as(user)
    g.pop("_login_user", None)


def holder_of(contact_id):
    db.session.expire_all()
    return db.session.get(CampaignContact, contact_id).assignment_id


def release_events(campaign):
    return db.session.scalars(
        select(AssignmentEvent)
        .where(AssignmentEvent.campaign_id == campaign.id)
        .where(AssignmentEvent.reason == "release_unhandled")
        .order_by(AssignmentEvent.id)
    ).all()


def pool_count(campaign):
    return db.session.scalar(
        select(func.count())
        .select_from(CampaignContact)
        .where(CampaignContact.campaign_id == campaign.id, CampaignContact.assignment_id.is_(None))
    )


@pytest.fixture
def world(ctx):
    clock.freeze(T0)
    org = make_org()
    texter = make_user(org, name="Tess Texter")
    campaign = make_campaign(
        org, status="started", release_unhandled_enabled=True, release_unhandled_minutes=30
    )
    return org, texter, campaign, assignment_id(campaign, texter)


class TestBoundary:
    def test_exactly_n_minutes_released_one_second_less_not(self, world):
        org, texter, campaign, a = world
        [due] = replies(campaign, a, 1, T0 - timedelta(minutes=30))
        [almost] = replies(
            campaign, a, 1, T0 - timedelta(minutes=30) + timedelta(seconds=1), start=1
        )
        assert release.sweep_campaign(db.session, campaign.id) == 1
        assert holder_of(due) is None
        assert holder_of(almost) == a
        clock.advance(seconds=1)
        assert release.sweep_campaign(db.session, campaign.id) == 1
        assert holder_of(almost) is None
        assert [e.contact_count for e in release_events(campaign)] == [1, 1]

    def test_minutes_setting_is_per_campaign(self, world):
        org, texter, campaign, a = world
        campaign.release_unhandled_minutes = 1
        db.session.commit()
        [c] = replies(campaign, a, 1, T0 - timedelta(seconds=59))
        assert release.sweep_campaign(db.session, campaign.id) == 0
        clock.advance(seconds=1)
        assert release.sweep_campaign(db.session, campaign.id) == 1
        assert holder_of(c) is None

    def test_clock_is_last_inbound_not_updated_at(self, world):
        org, texter, campaign, a = world
        [old] = replies(campaign, a, 1, T0 - timedelta(hours=2))
        [recent] = replies(campaign, a, 1, T0 - timedelta(minutes=5), start=1)
        # An unrelated write (a name fix) bumps updated_at on the old one...
        db.session.execute(
            update(CampaignContact)
            .where(CampaignContact.id == old)
            .values(first_name="Fixed", updated_at=T0)
        )
        # ...and the recent one's row has not been written for days.
        db.session.execute(
            update(CampaignContact)
            .where(CampaignContact.id == recent)
            .values(updated_at=T0 - timedelta(days=3))
        )
        db.session.commit()
        assert release.sweep_campaign(db.session, campaign.id) == 1
        assert holder_of(old) is None and holder_of(recent) == a


class TestNeverReleased:
    @pytest.mark.parametrize(
        "extra",
        [
            {"message_status": "convo"},
            {"message_status": "messaged"},
            {"message_status": "closed"},
            {"message_status": "needs_message"},
            {"message_status": "closed", "opted_out": True},
            {"message_status": "needs_response", "opted_out": True},
            # answered after the reply (status not yet moved on): handled
            {"last_outbound_at": T0 - timedelta(hours=1)},
            {"last_outbound_at": T0 - timedelta(hours=2)},  # same second as the inbound
            {"last_inbound_at": None},
        ],
        ids=[
            "convo",
            "messaged",
            "closed",
            "needs_message",
            "opted_out_closed",
            "opted_out_needs_response",
            "outbound_after_inbound",
            "outbound_same_time",
            "no_inbound",
        ],
    )
    def test_handled_or_opted_out_stays(self, world, extra):
        org, texter, campaign, a = world
        values = {"last_inbound_at": T0 - timedelta(hours=2)}
        values.update(extra)
        inbound = values.pop("last_inbound_at")
        ids = make_contacts(
            campaign,
            3,
            assignment_id=a,
            message_status=values.pop("message_status", "needs_response"),
            last_inbound_at=inbound,
            last_outbound_at=values.pop("last_outbound_at", T0 - timedelta(hours=3)),
            **values,
        )
        assert release.sweep_campaign(db.session, campaign.id) == 0
        assert all(holder_of(i) == a for i in ids)
        assert release_events(campaign) == []

    def test_already_unassigned_not_touched_and_no_event(self, world):
        org, texter, campaign, a = world
        replies(campaign, None, 5, T0 - timedelta(hours=2))
        assert release.sweep_campaign(db.session, campaign.id) == 0
        assert release_events(campaign) == []

    @pytest.mark.parametrize(
        "setting",
        [{"release_unhandled_enabled": False}, {"status": "draft"}, {"status": "archived"}],
    )
    def test_campaign_not_eligible(self, world, setting):
        org, texter, campaign, a = world
        ids = replies(campaign, a, 3, T0 - timedelta(hours=2))
        for k, v in setting.items():
            setattr(campaign, k, v)
        db.session.commit()
        assert release.sweep_campaign(db.session, campaign.id) == 0
        assert release_unhandled()["released"] == 0
        assert all(holder_of(i) == a for i in ids)


class TestSweep:
    def test_chunks_make_one_event_with_the_count(self, world):
        org, texter, campaign, a = world
        ids = replies(campaign, a, 25, T0 - timedelta(hours=1))
        assert release.sweep_campaign(db.session, campaign.id, chunk=10) == 25
        [event] = release_events(campaign)
        assert event.contact_count == 25
        assert sorted(event.contact_ids) == sorted(ids)
        assert event.from_assignment_id is None and event.to_assignment_id is None
        assert pool_count(campaign) == 25

    def test_killed_between_chunks(self, world):
        org, texter, campaign, a = world
        replies(campaign, a, 25, T0 - timedelta(hours=1))

        class Killed(Exception):
            pass

        def kill(_released):
            raise Killed

        with pytest.raises(Killed):
            release.sweep_campaign(db.session, campaign.id, chunk=10, after_chunk=kill)
        db.session.rollback()
        # The first chunk is complete and counted; the rest is untouched.
        assert pool_count(campaign) == 10
        assert [e.contact_count for e in release_events(campaign)] == [10]
        # A rerun finishes the job.
        assert release.sweep_campaign(db.session, campaign.id, chunk=10) == 15
        assert pool_count(campaign) == 25
        assert [e.contact_count for e in release_events(campaign)] == [10, 15]

    def test_oldest_waiting_released_first(self, world):
        org, texter, campaign, a = world
        newer = replies(campaign, a, 5, T0 - timedelta(minutes=40))
        older = replies(campaign, a, 5, T0 - timedelta(minutes=50), start=5)

        def stop(_released):
            raise RuntimeError("stop after one chunk")

        with pytest.raises(RuntimeError):
            release.sweep_campaign(db.session, campaign.id, chunk=5, after_chunk=stop)
        db.session.rollback()
        assert all(holder_of(i) is None for i in older)
        assert all(holder_of(i) == a for i in newer)

    def test_second_reply_after_release_waits_in_pool_then_claimed_oldest_first(self, world):
        org, texter, campaign, a = world
        [c] = replies(campaign, a, 1, T0 - timedelta(minutes=31))
        [other] = replies(campaign, None, 1, T0 - timedelta(minutes=20), start=1)
        assert release.sweep_campaign(db.session, campaign.id) == 1
        # The contact writes again: still unhandled, the clock restarts, nobody holds it.
        clock.advance(minutes=5)
        db.session.execute(
            update(CampaignContact)
            .where(CampaignContact.id == c)
            .values(message_status="needs_response", last_inbound_at=clock.now())
        )
        db.session.commit()
        clock.advance(minutes=60)
        assert release.sweep_campaign(db.session, campaign.id) == 0
        assert holder_of(c) is None
        # The replies claim picks it up, oldest waiting first.
        campaign.dynamic_replies_enabled = True
        campaign.replies_batch_size = 1
        db.session.commit()
        second = make_user(org)
        join.join_by_link(db.session, campaign.replies_join_token, second.id)
        db.session.commit()
        result = claims.claim_replies(db.session, campaign.id, second.id)
        db.session.commit()
        assert result.contact_ids == [other]
        db.session.execute(
            update(CampaignContact)
            .where(CampaignContact.id == other)
            .values(message_status="convo")
        )
        db.session.commit()
        result = claims.claim_replies(db.session, campaign.id, second.id)
        db.session.commit()
        assert result.contact_ids == [c]


def test_reply_claimed_after_release_gets_a_full_window(world):
    org, texter, campaign, a = world
    [c] = replies(campaign, a, 1, T0 - timedelta(minutes=31))
    assert release.sweep_campaign(db.session, campaign.id) == 1
    campaign.dynamic_replies_enabled = True
    db.session.commit()
    second = make_user(org)
    join.join_by_link(db.session, campaign.replies_join_token, second.id)
    db.session.commit()
    clock.advance(minutes=1)
    assert claims.claim_replies(db.session, campaign.id, second.id).contact_ids == [c]
    db.session.commit()
    clock.advance(minutes=1)
    assert release.sweep_campaign(db.session, campaign.id) == 0
    assert holder_of(c) is not None


def test_two_sweeps_at_once(app):
    eligible = 300
    with app.app_context():
        clock.freeze(T0)
        org = make_org()
        texter = make_user(org)
        campaign = make_campaign(
            org, status="started", release_unhandled_enabled=True, release_unhandled_minutes=30
        )
        a = assignment_id(campaign, texter)
        replies(campaign, a, eligible, T0 - timedelta(hours=1))
        replies(campaign, a, 50, T0 - timedelta(minutes=5), start=eligible)  # not yet due
        campaign_id = campaign.id
    released: list[int] = []

    def sweep(i):
        if i < 2:
            released.append(release.sweep_campaign(db.session, campaign_id, chunk=20))
        else:
            released.append(release_unhandled()["released"])

    run_threads(app, sweep, 3)
    with app.app_context():
        assert sum(released) == eligible
        counts = [e.contact_count for e in release_events(campaign)]
        assert all(n > 0 for n in counts) and sum(counts) == eligible
        assert pool_count(campaign) == eligible


class TestJobCliTicker:
    def test_job_sweeps_every_eligible_campaign_and_reports(self, world):
        org, texter, campaign, a = world
        other = make_campaign(
            org, status="started", release_unhandled_enabled=True, release_unhandled_minutes=60
        )
        off = make_campaign(org, status="started")
        replies(campaign, a, 3, T0 - timedelta(minutes=45))
        replies(other, assignment_id(other, texter), 2, T0 - timedelta(minutes=45))
        replies(off, assignment_id(off, texter), 2, T0 - timedelta(hours=5))
        result = release_unhandled()
        assert result == {
            "campaigns_swept": 2,
            "released": 3,
            "by_campaign": {str(campaign.id): 3},
            "unsent_released": 0,
            "unsent_by_campaign": {},
        }
        assert release_unhandled()["released"] == 0  # idempotent
        assert len(release_events(campaign)) == 1

    def test_cli_runs_one_sweep(self, app, world):
        org, texter, campaign, a = world
        replies(campaign, a, 4, T0 - timedelta(hours=1))
        out = app.test_cli_runner().invoke(release_unhandled_command)
        assert out.exit_code == 0, out.output
        assert "released 4 unhandled replies" in out.output
        assert pool_count(campaign) == 4

    def test_ticker_sweeps_until_stopped(self, app, world):
        org, texter, campaign, a = world
        ids = replies(campaign, a, 3, T0 - timedelta(hours=1))
        ticker = start_ticker(app, interval=0.05)
        try:
            deadline = time.monotonic() + 20
            while pool_count(campaign) < 3 and time.monotonic() < deadline:
                db.session.rollback()
                time.sleep(0.05)
        finally:
            ticker.stop()
        assert not ticker.is_alive()
        assert ticker.runs >= 1
        assert all(holder_of(i) is None for i in ids)
        runs = ticker.runs
        time.sleep(0.2)
        assert ticker.runs == runs  # stopped means stopped


class TestCountdownAndStats:
    def test_countdown_text(self, world):
        org, texter, campaign, a = world
        [cid] = replies(campaign, a, 1, T0 - timedelta(minutes=18))
        contact = db.session.get(CampaignContact, cid)
        assert release.countdown_text(contact, campaign) == "released in 12 min"
        clock.advance(minutes=11, seconds=30)
        assert release.countdown_text(contact, campaign) == "released in 1 min"
        clock.advance(seconds=30)
        assert release.countdown_text(contact, campaign) == "released within a minute"
        campaign.release_unhandled_enabled = False
        assert release.countdown_text(contact, campaign) == ""

    def test_countdown_fragment(self, app, world):
        org, texter, campaign, a = world
        [due, answered] = replies(campaign, a, 2, T0 - timedelta(minutes=18))
        db.session.execute(
            update(CampaignContact)
            .where(CampaignContact.id == answered)
            .values(message_status="convo", last_outbound_at=T0)
        )
        db.session.commit()
        tpl = '{% include "texting/_release_countdown.html" %}'
        with app.test_request_context():
            shown = render_template_string(
                tpl, contact=db.session.get(CampaignContact, due), campaign=campaign
            )
            hidden = render_template_string(
                tpl, contact=db.session.get(CampaignContact, answered), campaign=campaign
            )
        assert BeautifulSoup(shown, "html.parser").get_text(strip=True) == "released in 12 min"
        assert hidden.strip() == ""

    def test_admin_stats(self, app, client, auth, world):
        org, texter, campaign, a = world
        admin = make_user(org, role="admin")
        replies(campaign, a, 4, T0 - timedelta(minutes=45))
        replies(campaign, a, 2, T0 - timedelta(minutes=5), start=4)
        replies(campaign, None, 1, T0 - timedelta(minutes=5), start=6)
        release.sweep_campaign(db.session, campaign.id)
        clock.advance(minutes=61)
        # Two more overdue now; the first release is more than an hour old.
        release.sweep_campaign(db.session, campaign.id)
        stats = release.release_stats(db.session, campaign)
        assert (stats.unhandled, stats.held, stats.in_pool) == (7, 0, 7)
        assert stats.released_last_hour == 2

        login(auth, admin)
        url = f"/campaigns/{campaign.id}/release-stats"
        r = client.get(url, headers={"HX-Request": "true"})
        assert r.status_code == 200
        soup = BeautifulSoup(r.data, "html.parser")
        items = {li.get_text(" ", strip=True) for li in soup.select("li")}
        assert {"7 Unhandled replies", "2 Released in the last hour"} <= items
        assert soup.find("div")["hx-target"] == "this"
        r = client.get(url)
        assert r.status_code == 303 and r.location.endswith(f"/campaigns/{campaign.id}")
        login(auth, texter)
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 403
        stranger = make_user(make_org("Other"), role="admin")
        login(auth, stranger)
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 404
