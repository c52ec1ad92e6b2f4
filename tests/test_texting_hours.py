"""Texting hours: claims, manual raises, the send guard and Message Review, on a frozen clock.

US daylight saving time in 2026 starts on Sunday 8 March and ends on Sunday 1 November.
Campaigns here enforce 9:00 am-9:00 pm (the defaults) unless a test says otherwise.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select, update

from spoke import clock
from spoke.assignment import claims, join, manual
from spoke.assignment import review as review_domain
from spoke.extensions import db
from spoke.models import Assignment, Campaign, CampaignContact, Message
from spoke.texting import messaging
from tests.factories import make_campaign, make_contacts, make_org, make_user

NY, CHI, LA = "America/New_York", "America/Chicago", "America/Los_Angeles"


@pytest.fixture
def world(ctx):
    org = make_org()
    admin = make_user(org, "admin", name="Ada Admin")
    texter = make_user(org, "texter", name="Tina Texter")
    campaign = make_campaign(
        org,
        title="Hours Drive",
        status="started",
        texting_hours_enforced=True,
        dynamic_initials_enabled=True,
        dynamic_replies_enabled=True,
        initials_batch_size=100,
    )
    join.join_by_link(db.session, campaign.initials_join_token, texter.id)
    db.session.commit()
    return org, admin, texter, campaign


def zones_of(ids: list[int]) -> list[str]:
    db.session.expire_all()
    rows = db.session.scalars(select(CampaignContact.timezone).where(CampaignContact.id.in_(ids)))
    return sorted(set(rows))


def contacts(campaign: Campaign, zone: str, n: int, start: int, **overrides) -> list[int]:
    return make_contacts(campaign, n, start=start, timezone=zone, **overrides)


def replies_waiting(ids: list[int]) -> None:
    db.session.execute(
        update(CampaignContact)
        .where(CampaignContact.id.in_(ids))
        .values(message_status="needs_response", last_inbound_at=clock.now())
    )
    db.session.commit()


def test_claim_takes_only_contacts_inside_their_hours(world):
    _org, _admin, texter, campaign = world
    contacts(campaign, LA, 4, 0)  # lowest ids: a claim in id order would take them first
    contacts(campaign, NY, 3, 100)
    contacts(campaign, CHI, 2, 200)
    # 14:30 UTC on a Monday after the change: 10:30 am EDT, 9:30 am CDT, 7:30 am PDT.
    clock.freeze(datetime(2026, 3, 9, 14, 30))
    result = claims.claim_initials(db.session, campaign.id, texter.id)
    db.session.commit()
    assert result.claimed == 5
    assert zones_of(result.contact_ids) == [CHI, NY]


@pytest.mark.parametrize(
    ("at", "opens"),
    [
        # Same UTC time either side of the spring change: 8:30 am EST, then 9:30 am EDT.
        (datetime(2026, 3, 7, 13, 30), False),
        (datetime(2026, 3, 9, 13, 30), True),
        # Either side of the autumn change: 9:30 am EDT, then 8:30 am EST.
        (datetime(2026, 10, 31, 13, 30), True),
        (datetime(2026, 11, 2, 13, 30), False),
    ],
)
def test_daylight_saving_moves_the_hours_with_the_local_clock(world, at, opens):
    _org, _admin, texter, campaign = world
    contacts(campaign, NY, 3, 0)
    clock.freeze(at)
    result = claims.claim_initials(db.session, campaign.id, texter.id)
    assert result.claimed == (3 if opens else 0), result.message


def test_initials_keep_ten_minutes_before_the_stop_time_replies_do_not(world):
    _org, _admin, texter, campaign = world
    initial_ids = contacts(campaign, CHI, 2, 0)
    reply_ids = contacts(campaign, CHI, 2, 100)
    replies_waiting(reply_ids)
    # 8:50 pm CST: inside the hours, but within 10 minutes of 9:00 pm.
    clock.freeze(datetime(2026, 1, 16, 2, 50))
    assert claims.claim_initials(db.session, campaign.id, texter.id).claimed == 0
    db.session.rollback()
    got = claims.claim_replies(db.session, campaign.id, texter.id)
    db.session.commit()
    assert sorted(got.contact_ids) == reply_ids
    # A minute earlier (8:49 pm) the initials are handed out.
    clock.freeze(datetime(2026, 1, 16, 2, 49))
    got = claims.claim_initials(db.session, campaign.id, texter.id)
    assert sorted(got.contact_ids) == initial_ids


def test_refusal_says_the_hours_and_when_the_next_ones_open(world):
    _org, _admin, texter, campaign = world
    contacts(campaign, CHI, 3, 0)
    # 6:50 am CST.
    clock.freeze(datetime(2026, 1, 15, 12, 50))
    result = claims.claim_initials(db.session, campaign.id, texter.id)
    assert result.claimed == 0
    assert result.message == (
        "No contacts can be texted right now: texting hours are 9:00 am–9:00 pm in each "
        "contact's time zone. The next ones open at 9:00 am Central (in 2 h 10 min)."
    )


def test_next_opening_skips_zones_with_nobody_waiting(world):
    _org, _admin, texter, campaign = world
    contacts(campaign, NY, 2, 0, message_status="messaged")  # nothing left to send in NY
    contacts(campaign, LA, 2, 100)
    # 8:00 am EST, 5:00 am PST: New York opens first, but only Los Angeles has initials.
    clock.freeze(datetime(2026, 1, 15, 13, 0))
    result = claims.claim_initials(db.session, campaign.id, texter.id)
    assert result.refusal.endswith("The next ones open at 9:00 am Pacific (in 4 h).")


def test_an_empty_pool_is_not_blamed_on_the_hours(world):
    _org, _admin, texter, campaign = world
    contacts(campaign, NY, 2, 0, message_status="messaged")
    clock.freeze(datetime(2026, 1, 15, 3, 0))  # 10:00 pm EST
    result = claims.claim_initials(db.session, campaign.id, texter.id)
    assert result.refusal == "There are no more texts to send in this campaign right now."


def test_replies_claim_hands_out_only_replies_inside_their_hours(world):
    _org, _admin, texter, campaign = world
    ny = contacts(campaign, NY, 2, 0)
    la = contacts(campaign, LA, 2, 100)
    replies_waiting(ny + la)
    clock.freeze(datetime(2026, 6, 1, 13, 30))  # 9:30 am EDT, 6:30 am PDT
    result = claims.claim_replies(db.session, campaign.id, texter.id)
    db.session.commit()
    assert sorted(result.contact_ids) == ny
    # Later the Pacific replies open; nobody took them meanwhile.
    clock.freeze(datetime(2026, 6, 1, 16, 0))  # 9:00 am PDT
    db.session.execute(
        update(CampaignContact).where(CampaignContact.id.in_(ny)).values(message_status="convo")
    )
    db.session.commit()
    assert sorted(claims.claim_replies(db.session, campaign.id, texter.id).contact_ids) == la


def test_hours_not_enforced_claims_at_any_time(world):
    _org, _admin, texter, campaign = world
    campaign.texting_hours_enforced = False
    db.session.commit()
    contacts(campaign, NY, 3, 0)
    clock.freeze(datetime(2026, 1, 15, 8, 0))  # 3:00 am EST
    assert claims.claim_initials(db.session, campaign.id, texter.id).claimed == 3


def test_manual_raise_takes_only_contacts_inside_their_hours(world):
    _org, admin, texter, campaign = world
    la = contacts(campaign, LA, 4, 0)
    ny = contacts(campaign, NY, 3, 100)
    clock.freeze(datetime(2026, 3, 9, 14, 30))  # 10:30 am EDT, 7:30 am PDT
    result = manual.set_texts_to_send(db.session, campaign.id, texter.id, 5, actor_id=admin.id)
    db.session.commit()
    assert result.assigned == 3
    db.session.expire_all()
    held = db.session.scalars(
        select(CampaignContact.id).where(CampaignContact.assignment_id.is_not(None))
    ).all()
    assert sorted(held) == ny and not set(held) & set(la)
    assert result.message == (
        "assigned 3; holds 3 of 5 wanted: the others are outside texting hours, "
        "the next ones open at 9:00 am Pacific (in 1 h 30 min)"
    )


def _held_contact(
    campaign: Campaign, texter, zone: str, start: int = 0, **overrides
) -> CampaignContact:
    (contact_id,) = contacts(campaign, zone, 1, start, **overrides)
    db.session.execute(
        update(CampaignContact)
        .where(CampaignContact.id == contact_id)
        .values(assignment_id=join_assignment(campaign, texter))
    )
    db.session.commit()
    return db.session.get(CampaignContact, contact_id)


def join_assignment(campaign: Campaign, texter) -> int:
    return db.session.scalar(
        select(Assignment.id).where(
            Assignment.campaign_id == campaign.id, Assignment.user_id == texter.id
        )
    )


def messages_of(contact_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Message).where(Message.contact_id == contact_id)
    )


@pytest.mark.parametrize(
    ("at", "allowed"),
    [
        (datetime(2026, 7, 2, 0, 59, 59), True),  # 8:59:59 pm EDT
        (datetime(2026, 7, 2, 1, 0, 0), False),  # 9:00 pm EDT: the stop minute
        (datetime(2026, 7, 1, 12, 59, 0), False),  # 8:59 am EDT
        (datetime(2026, 7, 1, 13, 0, 0), True),  # 9:00 am EDT: the start minute
    ],
)
def test_send_guard_refuses_an_initial_outside_the_contacts_hours(world, at, allowed):
    _org, _admin, texter, campaign = world
    contact = _held_contact(campaign, texter, NY)
    clock.freeze(at)
    if allowed:
        messaging.send_initial(db.session, contact.id, texter.id)
        db.session.commit()
        assert messages_of(contact.id) == 1
        return
    with pytest.raises(messaging.SendRefused) as refused:
        messaging.send_initial(db.session, contact.id, texter.id)
    db.session.rollback()
    local = "9:00 pm" if at.hour == 1 else "8:59 am"
    wait = "12 h" if at.hour == 1 else "1 min"
    assert refused.value.code == "outside_hours"
    assert refused.value.message == (
        f"It is {local} Eastern time for this contact, outside texting hours "
        f"(9:00 am–9:00 pm). They can be texted from 9:00 am (in {wait}). Nothing was sent."
    )
    db.session.expire_all()
    assert messages_of(contact.id) == 0
    assert db.session.get(CampaignContact, contact.id).message_status == "needs_message"


def test_send_guard_refuses_a_reply_outside_the_contacts_hours(world, client, auth):
    _org, _admin, texter, campaign = world
    contact = _held_contact(campaign, texter, LA, message_status="needs_response")
    clock.freeze(datetime(2026, 7, 1, 13, 0))  # 6:00 am PDT
    auth.login_as(texter)
    response = client.post(
        f"/texting/contacts/{contact.id}/reply", data={"body": "Yes, see you there"}
    )
    page = " ".join(BeautifulSoup(response.data, "html.parser").get_text(" ").split())
    if response.status_code == 303:
        page = " ".join(
            BeautifulSoup(client.get(response.location).data, "html.parser").get_text(" ").split()
        )
    assert "It is 6:00 am Pacific time for this contact" in page
    assert "They can be texted from 9:00 am (in 3 h)." in page
    db.session.expire_all()
    assert messages_of(contact.id) == 0
    assert db.session.get(CampaignContact, contact.id).message_status == "needs_response"


def test_message_review_textable_now(world, client, auth):
    org, admin, _texter, campaign = world
    anytime = make_campaign(org, title="No hours", status="started")
    ny = contacts(campaign, NY, 3, 0)
    contacts(campaign, LA, 4, 100)
    contacts(campaign, NY, 1, 200, opted_out=True)
    any_ids = contacts(anytime, LA, 2, 300)
    clock.freeze(datetime(2026, 3, 9, 14, 30))  # 10:30 am EDT, 7:30 am PDT
    f, errors = review_domain.parse_filter(db.session, org.id, {"textable": "1"})
    assert not errors and f.params() == {"textable": "1"}
    rows = review_domain.page(db.session, f).rows
    assert sorted(c.id for c in rows) == sorted(ny + any_ids)
    auth.login_as(admin)
    soup = BeautifulSoup(client.get("/review?textable=1").data, "html.parser")
    assert soup.find("input", id="f-textable").has_attr("checked")
    assert len(soup.select("tbody tr")) == 5
    one, _ = review_domain.parse_filter(
        db.session, org.id, {"textable": "1", "campaign": str(campaign.id)}
    )
    assert review_domain.count(db.session, one) == 3


def test_bulk_job_on_textable_now_moves_only_textable_contacts(world):
    from spoke.assignment import review_jobs

    org, admin, texter, campaign = world
    clock.freeze(datetime(2026, 3, 9, 14, 30))  # 10:30 am EDT, 7:30 am PDT
    ny = [_held_contact(campaign, texter, NY).id]
    la = [_held_contact(campaign, texter, LA, start=50).id]
    args = {"textable": "1", "campaign": str(campaign.id)}
    f, _ = review_domain.parse_filter(db.session, org.id, args)
    bulk = review_jobs.create_bulk_action(
        db.session, f, args, action="unassign", texter_ids=[], user_id=admin.id, total=1
    )
    db.session.commit()
    review_jobs.run_bulk_action(db.session, bulk.id)
    db.session.commit()
    db.session.expire_all()
    held = {c.id: c.assignment_id for c in db.session.scalars(select(CampaignContact))}
    assert held[ny[0]] is None and held[la[0]] is not None
