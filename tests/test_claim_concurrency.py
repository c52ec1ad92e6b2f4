"""Claims under real concurrency: threads with their own sessions against one database."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from spoke.assignment import claims, join
from spoke.clock import now
from spoke.extensions import db
from spoke.models import Assignment, CampaignContact
from tests.factories import give_contacts, make_campaign, make_contacts, make_org, make_user
from tests.helpers import run_threads

THREADS = 32
BATCH = 7
CAP = 20


def test_32_texters_drain_the_pool_without_overlap(app):
    with app.app_context():
        org = make_org()
        campaign = make_campaign(
            org, status="started", dynamic_initials_enabled=True, initials_batch_size=BATCH
        )
        total = 1000
        make_contacts(campaign, total)
        texters = [make_user(org) for _ in range(THREADS)]
        for i, t in enumerate(texters):
            join.join_by_link(db.session, campaign.initials_join_token, t.id)
            db.session.commit()
            if i % 4 == 0:
                db.session.execute(
                    update(Assignment).where(Assignment.user_id == t.id).values(max_contacts=CAP)
                )
                db.session.commit()
        campaign_id, texter_ids = campaign.id, [t.id for t in texters]

    batches: dict[int, list[list[int]]] = {i: [] for i in range(THREADS)}

    def claimer(i):
        user_id = texter_ids[i]
        for _ in range(400):
            result = claims.claim_initials(db.session, campaign_id, user_id)
            db.session.commit()
            if not result.ok:
                assert result.refusal in (
                    "There are no more texts to send in this campaign right now.",
                    f"You have reached your limit of {CAP} contacts in this campaign.",
                ), result.refusal
                return
            batches[i].append(result.contact_ids)
            # "Send" them so the next claim is allowed.
            db.session.execute(
                update(CampaignContact)
                .where(CampaignContact.id.in_(result.contact_ids))
                .values(message_status="messaged")
            )
            db.session.commit()
        raise AssertionError("claimer never finished")

    run_threads(app, claimer, THREADS)

    with app.app_context():
        all_ids = [cid for bs in batches.values() for b in bs for cid in b]
        assert len(all_ids) == len(set(all_ids)), "a contact was claimed twice"
        assert all(len(b) <= BATCH for bs in batches.values() for b in bs)
        pool = db.session.scalar(
            select(func.count()).where(
                CampaignContact.campaign_id == campaign_id, CampaignContact.assignment_id.is_(None)
            )
        )
        assert pool == 0
        assert len(all_ids) + pool == total
        held = Counter(
            db.session.scalars(
                select(Assignment.user_id).join(
                    CampaignContact, CampaignContact.assignment_id == Assignment.id
                )
            )
        )
        for i, user_id in enumerate(texter_ids):
            claimed = sum(len(b) for b in batches[i])
            assert held[user_id] == claimed  # the database agrees with what each was told
            if i % 4 == 0:
                assert claimed <= CAP


def test_double_click_yields_one_batch(app):
    with app.app_context():
        org = make_org()
        campaign = make_campaign(
            org, status="started", dynamic_initials_enabled=True, initials_batch_size=10
        )
        make_contacts(campaign, 100)
        texter = make_user(org)
        join.join_by_link(db.session, campaign.initials_join_token, texter.id)
        db.session.commit()
        campaign_id, user_id = campaign.id, texter.id
    results = []

    def click(_):
        results.append(claims.claim_initials(db.session, campaign_id, user_id))
        db.session.commit()

    run_threads(app, click, 2)
    assert sorted(r.claimed for r in results) == [0, 10]
    refused = next(r for r in results if not r.ok)
    assert refused.refusal == "Send your 10 texts before asking for more."


@pytest.mark.parametrize("claimers", [8])
def test_replies_claims_never_move_a_held_reply(app, claimers):
    with app.app_context():
        org = make_org()
        campaign = make_campaign(
            org, status="started", dynamic_replies_enabled=True, replies_batch_size=5
        )
        make_contacts(campaign, 200)
        holder = make_user(org)
        give_contacts(campaign, holder, 60)
        t0 = now() - timedelta(hours=1)
        # Every contact has replied: 60 held by `holder`, 140 waiting in the pool.
        db.session.execute(
            update(CampaignContact).values(message_status="needs_response", last_inbound_at=t0)
        )
        db.session.commit()
        holder_assignment = db.session.scalar(
            select(Assignment.id).where(Assignment.user_id == holder.id)
        )
        texters = [make_user(org) for _ in range(claimers)]
        for t in texters:
            join.join_by_link(db.session, campaign.replies_join_token, t.id)
            db.session.commit()
        campaign_id, ids = campaign.id, [t.id for t in texters]

    got: list[list[int]] = []

    def claimer(i):
        for _ in range(100):
            r = claims.claim_replies(db.session, campaign_id, ids[i])
            db.session.commit()
            if not r.ok:
                return
            got.append(r.contact_ids)
            db.session.execute(
                update(CampaignContact)
                .where(CampaignContact.id.in_(r.contact_ids))
                .values(message_status="convo")
            )
            db.session.commit()

    run_threads(app, claimer, claimers)
    with app.app_context():
        flat = [c for b in got for c in b]
        assert len(flat) == len(set(flat)) == 140
        still_held = db.session.scalar(
            select(func.count()).where(CampaignContact.assignment_id == holder_assignment)
        )
        assert still_held == 60
