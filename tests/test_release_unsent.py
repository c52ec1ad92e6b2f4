"""Release Unsent Initials: the window from assigned_at, what is never touched, chunks, the
shared job/CLI/ticker, and a send racing the sweep (on SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from jobs.release import release_unhandled
from spoke import clock
from spoke.assignment import claims, join, release, release_unsent
from spoke.assignment.manual import ensure_assignment
from spoke.extensions import db
from spoke.models import AssignmentEvent, CampaignContact, Message
from spoke.runtime.cli import release_unhandled_command
from spoke.runtime.ticker import start_ticker
from spoke.texting import messaging
from tests.factories import make_campaign, make_contacts, make_org, make_user

T0 = datetime(2031, 3, 9, 6, 30, 0)  # the clock is UTC; local DST changes do not move it
BLOCKED_BY = text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")


def assignment_id(campaign, user) -> int:
    assignment, _ = ensure_assignment(db.session, campaign.id, user.id)
    db.session.commit()
    return assignment.id


def held(campaign, holder_id, n, assigned_at, *, start=0, **extra) -> list[int]:
    """n contacts `holder_id` got at `assigned_at` and has not texted."""
    return make_contacts(
        campaign, n, start=start, assignment_id=holder_id, assigned_at=assigned_at, **extra
    )


def holder_of(contact_id):
    db.session.expire_all()
    return db.session.get(CampaignContact, contact_id).assignment_id


def unsent_events(campaign):
    db.session.expire_all()
    return db.session.scalars(
        select(AssignmentEvent)
        .where(
            AssignmentEvent.campaign_id == campaign.id, AssignmentEvent.reason == "release_unsent"
        )
        .order_by(AssignmentEvent.id)
    ).all()


def messages_to(contact_id) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Message).where(Message.contact_id == contact_id)
    )


@pytest.fixture
def world(ctx):
    clock.freeze(T0)
    org = make_org()
    texter = make_user(org, name="Tess Texter")
    campaign = make_campaign(
        org,
        status="started",
        dynamic_initials_enabled=True,
        release_unsent_enabled=True,
        release_unsent_minutes=60,
    )
    return org, texter, campaign, assignment_id(campaign, texter)


class TestWindow:
    def test_released_at_the_window_not_a_second_before(self, world):
        org, texter, campaign, a = world
        [due] = held(campaign, a, 1, T0 - timedelta(minutes=60))
        [almost] = held(campaign, a, 1, T0 - timedelta(minutes=60, seconds=-1), start=1)
        assert release_unsent.sweep_campaign(db.session, campaign.id) == 1
        assert holder_of(due) is None and holder_of(almost) == a
        clock.advance(seconds=1)
        assert release_unsent.sweep_campaign(db.session, campaign.id) == 1
        assert holder_of(almost) is None
        assert [(e.contact_count, e.contact_ids) for e in unsent_events(campaign)] == [
            (1, [due]),
            (1, [almost]),
        ]

    def test_minutes_are_per_campaign(self, world):
        org, texter, campaign, a = world
        campaign.release_unsent_minutes = 5
        db.session.commit()
        [c] = held(campaign, a, 1, T0 - timedelta(minutes=4, seconds=59))
        assert release_unsent.sweep_campaign(db.session, campaign.id) == 0
        clock.advance(seconds=1)
        assert release_unsent.sweep_campaign(db.session, campaign.id) == 1
        assert holder_of(c) is None

    def test_clock_is_assigned_at_not_updated_at(self, world):
        org, texter, campaign, a = world
        [old] = held(campaign, a, 1, T0 - timedelta(hours=2))
        [recent] = held(campaign, a, 1, T0 - timedelta(minutes=5), start=1)
        db.session.execute(
            update(CampaignContact).where(CampaignContact.id == old).values(updated_at=T0)
        )
        db.session.execute(
            update(CampaignContact)
            .where(CampaignContact.id == recent)
            .values(updated_at=T0 - timedelta(days=3))
        )
        db.session.commit()
        assert release_unsent.sweep_campaign(db.session, campaign.id) == 1
        assert holder_of(old) is None and holder_of(recent) == a

    def test_a_claimed_batch_gets_a_full_window_from_its_claim(self, world):
        org, texter, campaign, a = world
        campaign.initials_batch_size = 3
        db.session.commit()
        ids = make_contacts(campaign, 3)  # in the pool for hours; the clock starts at the claim
        db.session.execute(update(CampaignContact).values(created_at=T0 - timedelta(days=2)))
        db.session.commit()
        join.join_by_link(db.session, campaign.initials_join_token, texter.id)
        db.session.commit()
        assert claims.claim_initials(db.session, campaign.id, texter.id).contact_ids == ids
        db.session.commit()
        clock.advance(minutes=59, seconds=59)
        assert release_unsent.sweep_campaign(db.session, campaign.id) == 0
        clock.advance(seconds=1)
        assert release_unsent.sweep_campaign(db.session, campaign.id) == 3
        # Someone else claims them later: their window starts at their claim, not the first.
        second = make_user(org)
        join.join_by_link(db.session, campaign.initials_join_token, second.id)
        db.session.commit()
        clock.advance(minutes=30)
        assert claims.claim_initials(db.session, campaign.id, second.id).contact_ids == ids
        db.session.commit()
        clock.advance(minutes=59)
        assert release_unsent.sweep_campaign(db.session, campaign.id) == 0
        assert {holder_of(i) for i in ids} == {assignment_id(campaign, second)}
        clock.advance(minutes=1)
        assert release_unsent.sweep_campaign(db.session, campaign.id) == 3


class TestNeverReleased:
    @pytest.mark.parametrize(
        "extra",
        [
            {"message_status": "messaged", "last_outbound_at": T0 - timedelta(hours=3)},
            {"message_status": "convo", "last_outbound_at": T0 - timedelta(hours=3)},
            {"message_status": "needs_response", "last_inbound_at": T0 - timedelta(hours=3)},
            {"message_status": "closed"},
            {"opted_out": True},
            # still needs_message, but a text went out or came in: not an untouched initial
            {"last_outbound_at": T0 - timedelta(hours=3)},
            {"last_inbound_at": T0 - timedelta(hours=3)},
            {"assigned_at": None},  # no known clock
        ],
        ids=[
            "messaged",
            "convo",
            "needs_response",
            "closed",
            "opted_out",
            "outbound",
            "inbound",
            "no_assigned_at",
        ],
    )
    def test_touched_or_opted_out_stays(self, world, extra):
        org, texter, campaign, a = world
        values = {"assigned_at": T0 - timedelta(hours=5), **extra}
        ids = make_contacts(campaign, 3, assignment_id=a, **values)
        assert release_unsent.sweep_campaign(db.session, campaign.id) == 0
        assert all(holder_of(i) == a for i in ids)
        assert unsent_events(campaign) == []

    def test_contacts_with_real_messages_stay(self, world):
        org, texter, campaign, a = world
        sent, replied, waiting = held(campaign, a, 3, T0)
        messaging.send_initial(db.session, sent, texter.id)
        db.session.commit()
        contact = db.session.get(CampaignContact, replied)
        messaging.receive_inbound(db.session, contact.cell, "Who is this?", "SM-unsent-1")
        db.session.commit()
        assert messages_to(sent) == 1 and messages_to(replied) == 1
        clock.advance(hours=5)
        assert release_unsent.sweep_campaign(db.session, campaign.id) == 1
        assert holder_of(sent) == a and holder_of(replied) == a and holder_of(waiting) is None

    def test_pool_contacts_are_not_touched(self, world):
        org, texter, campaign, a = world
        make_contacts(campaign, 4)
        clock.advance(hours=5)
        assert release_unsent.sweep_campaign(db.session, campaign.id) == 0
        assert unsent_events(campaign) == []

    @pytest.mark.parametrize(
        "setting",
        [{"release_unsent_enabled": False}, {"status": "draft"}, {"status": "archived"}],
    )
    def test_campaign_not_eligible(self, world, setting):
        org, texter, campaign, a = world
        ids = held(campaign, a, 3, T0 - timedelta(hours=2))
        for k, v in setting.items():
            setattr(campaign, k, v)
        campaign.release_unhandled_enabled = True  # the other toggle does not release initials
        db.session.commit()
        assert release_unsent.sweep_campaign(db.session, campaign.id) == 0
        assert release_unhandled()["unsent_released"] == 0
        assert all(holder_of(i) == a for i in ids)


class TestSweep:
    def test_chunks_make_one_event_with_the_count(self, world):
        org, texter, campaign, a = world
        ids = held(campaign, a, 25, T0 - timedelta(hours=1))
        assert release_unsent.sweep_campaign(db.session, campaign.id, chunk=10) == 25
        [event] = unsent_events(campaign)
        assert event.contact_count == 25 and sorted(event.contact_ids) == sorted(ids)
        assert event.from_assignment_id is None and event.to_assignment_id is None
        assert event.detail == "released 25 unsent initials to the pool"
        assert all(holder_of(i) is None for i in ids)

    def test_killed_between_chunks_keeps_the_first_chunk_counted(self, world):
        org, texter, campaign, a = world
        held(campaign, a, 25, T0 - timedelta(hours=1))

        def kill(_released):
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            release_unsent.sweep_campaign(db.session, campaign.id, chunk=10, after_chunk=kill)
        db.session.rollback()
        assert [e.contact_count for e in unsent_events(campaign)] == [10]
        assert release_unsent.sweep_campaign(db.session, campaign.id, chunk=10) == 15
        assert [e.contact_count for e in unsent_events(campaign)] == [10, 15]

    def test_longest_held_released_first(self, world):
        org, texter, campaign, a = world
        newer = held(campaign, a, 5, T0 - timedelta(minutes=70))
        older = held(campaign, a, 5, T0 - timedelta(minutes=90), start=5)

        def stop(_released):
            raise RuntimeError("one chunk only")

        with pytest.raises(RuntimeError):
            release_unsent.sweep_campaign(db.session, campaign.id, chunk=5, after_chunk=stop)
        db.session.rollback()
        assert all(holder_of(i) is None for i in older)
        assert all(holder_of(i) == a for i in newer)


class TestSharedJobCliTicker:
    def test_one_job_runs_both_features_and_reports_each(self, world):
        org, texter, campaign, a = world
        campaign.release_unhandled_enabled = True
        db.session.commit()
        only_unhandled = make_campaign(org, status="started", release_unhandled_enabled=True)
        other_a = assignment_id(only_unhandled, texter)
        held(campaign, a, 4, T0 - timedelta(hours=2))
        held(only_unhandled, other_a, 2, T0 - timedelta(hours=2), start=100)
        make_contacts(
            campaign,
            3,
            start=200,
            assignment_id=a,
            assigned_at=T0 - timedelta(hours=2),
            message_status="needs_response",
            last_inbound_at=T0 - timedelta(hours=1),
            last_outbound_at=T0 - timedelta(hours=2),
        )
        assert release_unhandled() == {
            "campaigns_swept": 2,
            "released": 3,
            "by_campaign": {str(campaign.id): 3},
            "unsent_released": 4,
            "unsent_by_campaign": {str(campaign.id): 4},
        }
        reasons = db.session.scalars(
            select(AssignmentEvent.reason).where(AssignmentEvent.campaign_id == campaign.id)
        ).all()
        assert sorted(reasons) == ["release_unhandled", "release_unsent"]
        assert release_unhandled()["unsent_released"] == 0  # idempotent

    def test_cli_reports_unsent_initials(self, app, world):
        org, texter, campaign, a = world
        held(campaign, a, 4, T0 - timedelta(hours=1))
        out = app.test_cli_runner().invoke(release_unhandled_command)
        assert out.exit_code == 0, out.output
        assert "released 0 unhandled replies and 4 unsent initials to the pool" in out.output

    def test_ticker_releases_unsent_initials(self, app, world):
        org, texter, campaign, a = world
        ids = held(campaign, a, 3, T0 - timedelta(hours=1))
        ticker = start_ticker(app, interval=0.05)
        try:
            deadline = time.monotonic() + 20
            while any(holder_of(i) for i in ids) and time.monotonic() < deadline:
                db.session.rollback()
                time.sleep(0.05)
        finally:
            ticker.stop()
        assert all(holder_of(i) is None for i in ids)
        assert len(unsent_events(campaign)) == 1


class TestSendAndSweep:
    """Whichever commits first wins; the other sees it and does nothing."""

    def test_sweep_first_then_the_send_is_refused(self, world):
        org, texter, campaign, a = world
        [c] = held(campaign, a, 1, T0 - timedelta(hours=1))
        assert release_unsent.sweep_campaign(db.session, campaign.id) == 1
        with pytest.raises(messaging.SendRefused) as refused:
            messaging.send_initial(db.session, c, texter.id)
        db.session.rollback()
        assert refused.value.message == "Your assignment has changed"
        assert messages_to(c) == 0 and holder_of(c) is None

    def test_send_first_then_the_sweep_leaves_it(self, world):
        org, texter, campaign, a = world
        [c] = held(campaign, a, 1, T0 - timedelta(hours=1))
        messaging.send_initial(db.session, c, texter.id)
        db.session.commit()
        assert release_unsent.sweep_campaign(db.session, campaign.id) == 0
        assert holder_of(c) == a and messages_to(c) == 1

    def test_sweep_skips_a_contact_being_sent(self, app, world, backend):
        """PostgreSQL: the send holds the row lock, the sweep's SKIP LOCKED passes it by."""
        if backend != "postgresql":
            pytest.skip("SQLite's single writer cannot run the two at once")
        org, texter, campaign, a = world
        sending, other = held(campaign, a, 2, T0 - timedelta(hours=1))
        campaign_id = campaign.id
        released: list[int] = []

        def sweep() -> None:
            with app.app_context():
                released.append(release_unsent.sweep_campaign(db.session, campaign_id))
                db.session.remove()

        sender = Session(db.engine)
        try:
            messaging.send_initial(sender, sending, texter.id)  # row locked, not committed
            # The sweep runs while the send is open; it must not wait for it.
            thread = threading.Thread(target=sweep, daemon=True)
            thread.start()
            thread.join(timeout=30)
            assert not thread.is_alive(), "the sweep waited for the send's row lock"
            sender.commit()
        finally:
            sender.rollback()
            sender.close()
        assert released == [1]
        assert holder_of(sending) == a and messages_to(sending) == 1
        assert holder_of(other) is None
        [event] = unsent_events(campaign)
        assert event.contact_ids == [other]

    def test_a_send_waiting_on_the_sweep_is_refused(self, app, world, backend):
        """PostgreSQL: the sweep holds the row; the send waits for it, then refuses."""
        if backend != "postgresql":
            pytest.skip("SQLite's single writer cannot run the two at once")
        org, texter, campaign, a = world
        [c] = held(campaign, a, 1, T0 - timedelta(hours=1))
        texter_id = texter.id  # the thread must not touch this session's objects
        cutoff = release.cutoff_for(60)
        ids, _ = release_unsent.release_unsent_chunk(db.session, campaign.id, cutoff)
        assert ids == [c]  # released, locked, not committed
        sweep_pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        outcome: list[BaseException | None] = []

        def send() -> None:
            with app.app_context():
                sender = Session(db.engine)
                try:
                    messaging.send_initial(sender, c, texter_id)
                    sender.commit()
                    outcome.append(None)
                except BaseException as exc:  # reported below
                    sender.rollback()
                    outcome.append(exc)
                finally:
                    sender.close()

        thread = threading.Thread(target=send, daemon=True)
        thread.start()
        with db.engine.connect() as watcher:
            deadline = time.monotonic() + 30
            blocked = 0
            while not blocked and time.monotonic() < deadline and thread.is_alive():
                blocked = watcher.execute(BLOCKED_BY, {"pid": sweep_pid}).scalar()
                time.sleep(0.02)
        assert blocked == 1, "the send never waited on the sweep's lock"
        db.session.commit()
        thread.join(timeout=30)
        assert not thread.is_alive()
        [refused] = outcome
        assert isinstance(refused, messaging.SendRefused)
        assert refused.message == "Your assignment has changed"
        assert messages_to(c) == 0 and holder_of(c) is None
