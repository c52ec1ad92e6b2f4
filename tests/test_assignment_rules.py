"""The assignment rules in the domain layer: manual counts, claims, refusals, joins."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from spoke.assignment import claims, join, manual
from spoke.clock import now
from spoke.extensions import db
from spoke.models import Assignment, AssignmentEvent, CampaignContact, Membership, TeamMember
from tests.factories import give_contacts, make_campaign, make_contacts, make_org, make_user


def held(assignment_user, campaign, status=None):
    q = (
        select(func.count())
        .select_from(CampaignContact)
        .join(Assignment, CampaignContact.assignment_id == Assignment.id)
        .where(Assignment.user_id == assignment_user.id, Assignment.campaign_id == campaign.id)
    )
    if status:
        q = q.where(CampaignContact.message_status == status)
    return db.session.scalar(q)


def pool(campaign):
    return db.session.scalar(
        select(func.count())
        .select_from(CampaignContact)
        .where(CampaignContact.campaign_id == campaign.id, CampaignContact.assignment_id.is_(None))
    )


def events(campaign, reason=None):
    q = select(AssignmentEvent).where(AssignmentEvent.campaign_id == campaign.id)
    if reason:
        q = q.where(AssignmentEvent.reason == reason)
    return db.session.scalars(q.order_by(AssignmentEvent.id)).all()


@pytest.fixture
def world(ctx):
    org = make_org()
    admin = make_user(org, role="admin")
    texter = make_user(org)
    campaign = make_campaign(org, status="started")
    make_contacts(campaign, 50)
    return org, admin, texter, campaign


def mark(ids, status, **extra):
    for contact in db.session.scalars(select(CampaignContact).where(CampaignContact.id.in_(ids))):
        contact.message_status = status
        for k, v in extra.items():
            setattr(contact, k, v)
    db.session.commit()


def held_ids(user, campaign):
    return db.session.scalars(
        select(CampaignContact.id)
        .join(Assignment, CampaignContact.assignment_id == Assignment.id)
        .where(Assignment.user_id == user.id, Assignment.campaign_id == campaign.id)
    ).all()


class TestManual:
    def test_raise_lower_unchanged_remove_keep_conversations(self, world):
        org, admin, texter, campaign = world
        assert give_contacts(campaign, texter, 10, actor=admin) == 10
        ids = held_ids(texter, campaign)
        mark(ids[:3], "needs_response", last_inbound_at=now())  # live conversations
        r = manual.set_texts_to_send(db.session, campaign.id, texter.id, 7, actor_id=admin.id)
        db.session.commit()
        assert (r.assigned, r.returned) == (0, 0)  # 7 unsent held already: unchanged
        r = manual.set_texts_to_send(db.session, campaign.id, texter.id, 4, actor_id=admin.id)
        db.session.commit()
        assert r.returned == 3
        assert held(texter, campaign, "needs_message") == 4
        assert held(texter, campaign, "needs_response") == 3  # conversations stay
        n_events = len(events(campaign, "manual"))
        r = manual.set_texts_to_send(db.session, campaign.id, texter.id, 4, actor_id=admin.id)
        db.session.commit()
        assert not r.changed and len(events(campaign, "manual")) == n_events
        r = manual.remove_texter(db.session, campaign.id, texter.id, actor_id=admin.id)
        db.session.commit()
        assert r.returned == 4 and held(texter, campaign) == 3
        r = manual.set_texts_to_send(
            db.session, campaign.id, texter.id, 0, actor_id=admin.id, also_conversations=True
        )
        db.session.commit()
        assert r.conversations_returned == 3 and held(texter, campaign) == 0
        assert pool(campaign) == 50

    def test_more_than_pool_assigns_what_there_is(self, world):
        org, admin, texter, campaign = world
        r = manual.set_texts_to_send(db.session, campaign.id, texter.id, 80, actor_id=admin.id)
        db.session.commit()
        assert r.assigned == 50
        assert "holds 50 of 80" in r.message

    def test_cap_limits_manual_and_zero_cap_means_nothing_more(self, world):
        org, admin, texter, campaign = world
        r = manual.set_texts_to_send(
            db.session, campaign.id, texter.id, 20, actor_id=admin.id, max_contacts=5
        )
        db.session.commit()
        assert r.assigned == 5
        r = manual.set_texts_to_send(
            db.session, campaign.id, texter.id, 20, actor_id=admin.id, max_contacts=0
        )
        db.session.commit()
        assert r.assigned == 0 and held(texter, campaign) == 5

    def test_non_member_refused(self, world):
        org, admin, texter, campaign = world
        outsider = make_user(make_org("Other"))
        with pytest.raises(manual.AssignmentError):
            manual.set_texts_to_send(db.session, campaign.id, outsider.id, 3, actor_id=admin.id)
        db.session.rollback()


class TestClaimInitials:
    def enable(self, campaign, **kw):
        campaign.dynamic_initials_enabled = True
        for k, v in kw.items():
            setattr(campaign, k, v)
        db.session.commit()

    def join(self, campaign, user, kind="initials"):
        token = campaign.initials_join_token if kind == "initials" else campaign.replies_join_token
        assert join.join_by_link(db.session, token, user.id) is not None
        db.session.commit()

    def test_claim_batch_then_refused_until_sent(self, world):
        org, admin, texter, campaign = world
        self.enable(campaign, initials_batch_size=20)
        self.join(campaign, texter)
        r = claims.claim_initials(db.session, campaign.id, texter.id)
        db.session.commit()
        assert r.claimed == 20 and r.message == "You got 20 texts to send."
        r = claims.claim_initials(db.session, campaign.id, texter.id)
        db.session.commit()
        assert not r.ok and r.refusal == "Send your 20 texts before asking for more."
        mark(held_ids(texter, campaign), "messaged")
        r = claims.claim_initials(db.session, campaign.id, texter.id)
        db.session.commit()
        assert r.claimed == 20
        mark(held_ids(texter, campaign), "messaged")
        r = claims.claim_initials(db.session, campaign.id, texter.id)
        db.session.commit()
        assert r.claimed == 10 and r.message == "You got 10 of 20: no more are waiting."
        mark(held_ids(texter, campaign), "messaged")
        r = claims.claim_initials(db.session, campaign.id, texter.id)
        db.session.commit()
        assert r.refusal == "There are no more texts to send in this campaign right now."
        assert [e.contact_count for e in events(campaign, "claim_initials")] == [20, 20, 10]

    @pytest.mark.parametrize(
        "setup, expected",
        [
            ({"status": "draft"}, "This campaign is not started."),
            ({"dynamic_initials_enabled": False}, "Dynamic Assignment for Initials is turned off"),
        ],
    )
    def test_refusals_campaign(self, world, setup, expected):
        org, admin, texter, campaign = world
        self.enable(campaign)
        self.join(campaign, texter)
        for k, v in setup.items():
            setattr(campaign, k, v)
        db.session.commit()
        r = claims.claim_initials(db.session, campaign.id, texter.id)
        db.session.commit()
        assert r.claimed == 0 and r.refusal.startswith(expected)

    def test_refused_when_not_in_campaign(self, world):
        org, admin, texter, campaign = world
        self.enable(campaign)
        r = claims.claim_initials(db.session, campaign.id, texter.id)
        assert r.refusal == "You are not a texter in this campaign."

    def test_finish_replies_first(self, world):
        org, admin, texter, campaign = world
        self.enable(campaign, initials_batch_size=5, require_replies_handled=True)
        self.join(campaign, texter)
        claims.claim_initials(db.session, campaign.id, texter.id)
        db.session.commit()
        ids = held_ids(texter, campaign)
        mark(ids, "messaged")
        mark(ids[:2], "needs_response", last_inbound_at=now())
        r = claims.claim_initials(db.session, campaign.id, texter.id)
        db.session.commit()
        assert r.refusal == "Answer your 2 replies before asking for more texts to send."
        assert r.next == "replies"
        campaign.require_replies_handled = False
        db.session.commit()
        assert claims.claim_initials(db.session, campaign.id, texter.id).claimed == 5

    def test_cap(self, world):
        org, admin, texter, campaign = world
        self.enable(campaign, initials_batch_size=10)
        self.join(campaign, texter)
        a = db.session.scalar(select(Assignment).where(Assignment.user_id == texter.id))
        a.max_contacts = 15
        db.session.commit()
        assert claims.claim_initials(db.session, campaign.id, texter.id).claimed == 10
        db.session.commit()
        mark(held_ids(texter, campaign), "messaged")
        r = claims.claim_initials(db.session, campaign.id, texter.id)
        db.session.commit()
        assert r.claimed == 5
        mark(held_ids(texter, campaign), "messaged")
        r = claims.claim_initials(db.session, campaign.id, texter.id)
        assert r.refusal == "You have reached your limit of 15 contacts in this campaign."

    def test_opted_out_never_claimed(self, world):
        org, admin, texter, campaign = world
        self.enable(campaign, initials_batch_size=100)
        ids = db.session.scalars(select(CampaignContact.id)).all()
        mark(ids[:10], "closed", opted_out=True)
        self.join(campaign, texter)
        assert claims.claim_initials(db.session, campaign.id, texter.id).claimed == 40


class TestClaimReplies:
    def test_takes_only_pool_replies_oldest_first(self, world):
        org, admin, texter, campaign = world
        other = make_user(org)
        campaign.dynamic_replies_enabled = True
        campaign.replies_batch_size = 3
        db.session.commit()
        give_contacts(campaign, other, 10)
        held_by_other = held_ids(other, campaign)
        mark(held_by_other, "needs_response", last_inbound_at=now())
        pool_ids = db.session.scalars(
            select(CampaignContact.id).where(CampaignContact.assignment_id.is_(None))
        ).all()[:5]
        from datetime import timedelta

        for i, cid in enumerate(pool_ids):
            mark([cid], "needs_response", last_inbound_at=now() - timedelta(minutes=10 - i))
        join.join_by_link(db.session, campaign.replies_join_token, texter.id)
        db.session.commit()
        r = claims.claim_replies(db.session, campaign.id, texter.id)
        db.session.commit()
        assert r.claimed == 3
        assert sorted(held_ids(texter, campaign)) == sorted(pool_ids[:3])
        assert sorted(held_ids(other, campaign)) == sorted(held_by_other)
        r = claims.claim_replies(db.session, campaign.id, texter.id)
        assert r.refusal == "Answer your 3 replies before asking for more."
        db.session.rollback()
        mark(held_ids(texter, campaign), "convo")
        r = claims.claim_replies(db.session, campaign.id, texter.id)
        db.session.commit()
        assert r.message == "You got 2 of 3: no more are waiting."
        mark(held_ids(texter, campaign), "convo")
        r = claims.claim_replies(db.session, campaign.id, texter.id)
        assert r.refusal == "No replies are waiting to be answered right now."

    def test_toggle_off(self, world):
        org, admin, texter, campaign = world
        give_contacts(campaign, texter, 1)
        r = claims.claim_replies(db.session, campaign.id, texter.id)
        assert r.refusal == "Dynamic Assignment for Replies is turned off for this campaign."


class TestJoin:
    def test_join_idempotent_adds_org_teams_campaign(self, world):
        from spoke.models import CampaignTeam, Team

        org, admin, texter, campaign = world
        stranger = make_user(None)
        team = Team(organization_id=org.id, name="Volunteers")
        db.session.add(team)
        db.session.flush()
        db.session.add(CampaignTeam(campaign_id=campaign.id, team_id=team.id))
        campaign.dynamic_initials_enabled = True
        db.session.commit()
        for _ in range(3):
            assert join.join_by_link(db.session, campaign.initials_join_token, stranger.id)
            db.session.commit()
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(Membership)
                .where(Membership.user_id == stranger.id)
            )
            == 1
        )
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(TeamMember)
                .where(TeamMember.user_id == stranger.id)
            )
            == 1
        )
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(Assignment)
                .where(Assignment.user_id == stranger.id)
            )
            == 1
        )
        assert len(events(campaign, "join")) == 1

    def test_link_lifecycle(self, world):
        org, admin, texter, campaign = world
        token = campaign.initials_join_token
        assert join.find_link(db.session, token) is None  # toggle off
        campaign.dynamic_initials_enabled = True
        db.session.commit()
        assert join.find_link(db.session, token).kind == "initials"
        assert join.find_link(db.session, campaign.replies_join_token) is None
        new = join.regenerate_link(db.session, campaign.id, "initials")
        db.session.commit()
        assert join.find_link(db.session, token) is None
        assert join.find_link(db.session, new) is not None
        assert len(new) >= 22  # >= 128 bits of url-safe base64
        campaign.status = "archived"
        db.session.commit()
        assert join.find_link(db.session, new) is None
        assert join.join_by_link(db.session, new, texter.id) is None


def test_insert_ignore_reports_whether_it_inserted(ctx):
    from spoke.assignment import sql

    org = make_org()
    user = make_user(None)
    values = {"organization_id": org.id, "user_id": user.id, "role": "texter"}
    assert sql.insert_ignore(db.session, Membership, values) is True
    assert sql.insert_ignore(db.session, Membership, values) is False
    db.session.commit()
