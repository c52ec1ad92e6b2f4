"""What a texter sees: their campaigns with counts, the next initial, replies, threads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from spoke.models import Assignment, AssignmentEvent, Campaign, CampaignContact, Message, OptOut

PAST_STATUSES = ("messaged", "convo", "closed")


@dataclass(frozen=True)
class Counts:
    initials: int = 0
    replies: int = 0
    past: int = 0


def _initial_pending() -> Any:
    """Held contacts still waiting for their initial (and not on the opt-out list)."""
    return and_(
        CampaignContact.message_status == "needs_message",
        CampaignContact.opted_out.is_(False),
        ~exists().where(
            OptOut.organization_id == Campaign.organization_id,
            OptOut.cell == CampaignContact.cell,
        ),
    )


def _counts_query(user_id: int) -> Select[Any]:
    def tally(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return (
        select(
            Campaign,
            Assignment.id,
            tally(_initial_pending()),
            tally(CampaignContact.message_status == "needs_response"),
            tally(CampaignContact.message_status.in_(PAST_STATUSES)),
        )
        .join(Assignment, Assignment.campaign_id == Campaign.id)
        .outerjoin(CampaignContact, CampaignContact.assignment_id == Assignment.id)
        .where(Assignment.user_id == user_id)
        .group_by(Campaign.id, Assignment.id)
    )


def my_campaigns(session: Session, user_id: int, org_id: int) -> list[tuple[Campaign, Counts]]:
    """Started campaigns where the user is an active texter or holds contacts, with counts.

    One grouped query for all campaigns.
    """
    query = (
        _counts_query(user_id)
        .where(Campaign.organization_id == org_id, Campaign.status == "started")
        .having(or_(Assignment.is_active.is_(True), func.count(CampaignContact.id) > 0))
        .order_by(
            func.coalesce(Campaign.started_at, Campaign.created_at).desc(), Campaign.id.desc()
        )
    )
    return [
        (campaign, Counts(int(i), int(r), int(p)))
        for campaign, _aid, i, r, p in session.execute(query).all()
    ]


def campaign_counts(session: Session, user_id: int, campaign_id: int) -> Counts:
    """The user's counts in one campaign (zeros when they have no assignment there)."""
    row = session.execute(_counts_query(user_id).where(Campaign.id == campaign_id)).first()
    if row is None:
        return Counts()
    return Counts(int(row[2]), int(row[3]), int(row[4]))


def _pending_initials(assignment_id: int) -> Select[Any]:
    return (
        select(CampaignContact)
        .join(Campaign, Campaign.id == CampaignContact.campaign_id)
        .where(CampaignContact.assignment_id == assignment_id, _initial_pending())
    )


def next_initial(session: Session, assignment_id: int) -> CampaignContact | None:
    """The held contact to send the next initial to (lowest id first)."""
    query = _pending_initials(assignment_id).order_by(CampaignContact.id).limit(1)
    return session.scalars(query).first()


def initials_left(session: Session, assignment_id: int) -> int:
    """How many held contacts still wait for their initial."""
    query = _pending_initials(assignment_id).with_only_columns(func.count(CampaignContact.id))
    return int(session.scalar(query) or 0)


def _last_inbound_body() -> Any:
    return (
        select(Message.body)
        .where(Message.contact_id == CampaignContact.id, Message.direction == "in")
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def replies(session: Session, assignment_id: int, limit: int = 200) -> list[tuple[Any, str]]:
    """Held contacts waiting for an answer, oldest reply first, with that reply's text."""
    query = (
        select(CampaignContact, _last_inbound_body())
        .where(
            CampaignContact.assignment_id == assignment_id,
            CampaignContact.message_status == "needs_response",
        )
        .order_by(CampaignContact.last_inbound_at.asc(), CampaignContact.id.asc())
        .limit(limit)
    )
    return [(contact, body or "") for contact, body in session.execute(query).all()]


def next_reply(session: Session, assignment_id: int, after: int | None = None) -> int | None:
    """The id of the oldest held reply waiting (other than contact `after`)."""
    query = (
        select(CampaignContact.id)
        .where(
            CampaignContact.assignment_id == assignment_id,
            CampaignContact.message_status == "needs_response",
        )
        .order_by(CampaignContact.last_inbound_at.asc(), CampaignContact.id.asc())
        .limit(1)
    )
    if after is not None:
        query = query.where(CampaignContact.id != after)
    return session.scalar(query)


def past_conversations(
    session: Session, assignment_id: int, limit: int = 100
) -> list[CampaignContact]:
    """Held contacts already texted, most recent activity first."""
    inbound, outbound = CampaignContact.last_inbound_at, CampaignContact.last_outbound_at
    latest = case((inbound > outbound, inbound), else_=func.coalesce(outbound, inbound))
    query = (
        select(CampaignContact)
        .where(
            CampaignContact.assignment_id == assignment_id,
            CampaignContact.message_status.in_(PAST_STATUSES),
        )
        # Never-texted (skipped) contacts last, on both databases.
        .order_by(latest.is_(None), latest.desc(), CampaignContact.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def thread(session: Session, contact_id: int) -> list[Message]:
    """The contact's messages, oldest first."""
    query = (
        select(Message)
        .where(Message.contact_id == contact_id)
        .order_by(Message.created_at.asc(), Message.id.asc())
    )
    return list(session.scalars(query))


# Moves that can take a texter's unsent initials back to the pool.
_RELEASES = ("done_texting", "release_unsent", "manual", "message_review")


def initials_went_back(session: Session, assignment_id: int) -> bool | None:
    """Why a texter has nothing to send: True if their unsent texts last went back to the pool,
    False if they sent their batch, None if they never had any."""
    last = session.execute(
        select(AssignmentEvent.reason, AssignmentEvent.from_assignment_id)
        .where(
            AssignmentEvent.contact_count > 0,
            or_(
                AssignmentEvent.to_assignment_id == assignment_id,
                and_(
                    AssignmentEvent.from_assignment_id == assignment_id,
                    AssignmentEvent.to_assignment_id.is_(None),
                    AssignmentEvent.reason.in_(_RELEASES),
                ),
            ),
        )
        .order_by(AssignmentEvent.id.desc())
        .limit(1)
    ).first()
    if last is None:
        return None
    return last.from_assignment_id == assignment_id
