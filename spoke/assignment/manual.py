"""Manual assignment from the Texters panel: texts to send, caps, adding and removing texters."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from spoke.assignment import events, sql
from spoke.assignment.textable import open_pool
from spoke.campaigns.hours import INITIALS_MARGIN
from spoke.models import Assignment, Campaign, Membership
from spoke.models import CampaignContact as CC
from spoke.transactions import begin_write, is_postgres, lock_row


class AssignmentError(Exception):
    """A refusal with a reason the admin can read."""


@dataclass
class ManualResult:
    assigned: int = 0
    returned: int = 0
    conversations_returned: int = 0
    wanted: int | None = 0
    held_unsent: int = 0
    # Why fewer than `wanted` were assigned: "pool", "cap" or "hours" ("" when all were).
    short_by: str = ""
    # With short_by "hours": when the next contacts open.
    hours_note: str = ""
    cap_changed: bool = False
    max_contacts: int | None = None
    added: bool = False
    message: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.assigned or self.returned or self.conversations_returned)


def ensure_assignment(
    session: Session,
    campaign_id: int,
    user_id: int,
    *,
    can_claim_initials: bool = False,
    can_claim_replies: bool = False,
) -> tuple[Assignment, bool]:
    """Get or create the texter's assignment, locked for this transaction; True if new.

    Relies on UNIQUE(user_id, campaign_id): a racing twin's insert is ignored, not doubled.
    """
    insert = postgresql.insert if is_postgres(session) else sqlite.insert
    # RETURNING tells an insert from an ignored one; the rowcount of INSERT .. ON CONFLICT
    # DO NOTHING is -1 through psycopg 3, so it cannot.
    new_id = session.scalar(
        insert(Assignment)
        .values(
            user_id=user_id,
            campaign_id=campaign_id,
            can_claim_initials=can_claim_initials,
            can_claim_replies=can_claim_replies,
            is_active=True,
        )
        .on_conflict_do_nothing()
        .returning(Assignment.id)
    )
    assignment_id = new_id or session.scalar(
        select(Assignment.id).where(
            Assignment.user_id == user_id, Assignment.campaign_id == campaign_id
        )
    )
    assignment = lock_row(session, Assignment, assignment_id)
    assert assignment is not None
    return assignment, new_id is not None


def _check_member(session: Session, campaign: Campaign, user_id: int) -> None:
    member = session.scalar(
        select(Membership.id).where(
            Membership.organization_id == campaign.organization_id, Membership.user_id == user_id
        )
    )
    if member is None:
        raise AssignmentError("That person is not a member of this organization.")


def _check_open(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise AssignmentError("No such campaign.")
    if campaign.status == "archived":
        raise AssignmentError("This campaign is archived.")
    return campaign


def add_texter(session: Session, campaign_id: int, user_id: int, *, actor_id: int | None) -> bool:
    """Put an organization member on the campaign (moving no contacts); True if newly active."""
    begin_write(session)
    campaign = _check_open(session, campaign_id)
    _check_member(session, campaign, user_id)
    assignment, created = ensure_assignment(
        session, campaign_id, user_id, can_claim_initials=True, can_claim_replies=True
    )
    if not created and assignment.is_active:
        return False
    assignment.is_active = True
    assignment.can_claim_initials = True
    assignment.can_claim_replies = True
    events.record(
        session,
        campaign_id=campaign_id,
        reason="manual",
        actor_id=actor_id,
        to_assignment_id=assignment.id,
        count=0,
        detail="added to the campaign",
    )
    return True


def set_texts_to_send(
    session: Session,
    campaign_id: int,
    user_id: int,
    wanted: int | None,
    *,
    actor_id: int | None,
    max_contacts: int | None | object = ...,
    also_conversations: bool = False,
) -> ManualResult:
    """Make the texter hold exactly `wanted` unsent initials (as far as the pool allows).

    Raising pulls pool contacts, lowering returns the excess unsent ones, conversations stay
    unless `also_conversations`; `wanted=None` keeps the count as it is. `max_contacts`
    (when given; None = no cap) is stored first and limits what is pulled. One transaction,
    one event when anything changed.
    """
    if wanted is not None and wanted < 0:
        raise AssignmentError("Texts to send cannot be negative.")
    if max_contacts not in (..., None) and int(max_contacts) < 0:  # type: ignore[call-overload]
        raise AssignmentError("Max contacts cannot be negative.")
    begin_write(session)
    campaign = _check_open(session, campaign_id)
    _check_member(session, campaign, user_id)
    assignment, created = ensure_assignment(
        session, campaign_id, user_id, can_claim_initials=True, can_claim_replies=True
    )
    result = ManualResult(wanted=wanted, added=created or not assignment.is_active)
    if result.added:
        assignment.can_claim_initials = assignment.can_claim_replies = True
    assignment.is_active = True
    if max_contacts is not ... and max_contacts != assignment.max_contacts:
        assignment.max_contacts = max_contacts  # type: ignore[assignment]
        result.cap_changed = True
    result.max_contacts = assignment.max_contacts

    held = sql.count(session, sql.held_unsent(assignment.id))
    if also_conversations:
        moved = sql.move(session, sql.held_conversations(assignment.id), None)
        result.conversations_returned = len(moved)
    ids: list[int] = []
    if wanted is not None and wanted > held:
        need = wanted - held
        if assignment.max_contacts is not None:
            total = sql.count(session, CC.assignment_id == assignment.id)
            room = max(0, assignment.max_contacts - total)
            if room < need:
                need, result.short_by = room, "cap"
        textable = open_pool(campaign, sql.pool_initials(campaign_id), INITIALS_MARGIN)
        if need and textable.where is not None:
            ids = sql.move(
                session,
                textable.where,
                assignment.id,
                limit=need,
                order_by=CC.id,
                skip_locked=True,
            )
        result.assigned = len(ids)
        if held + result.assigned < wanted and not result.short_by:
            result.hours_note = textable.closed_note(session)
            result.short_by = "hours" if result.hours_note else "pool"
    elif wanted is not None and wanted < held:
        # Return the most recently assigned excess; a row being sent right now is locked,
        # and once sent it no longer matches, so it is never pulled from under the texter.
        ids = sql.move(
            session,
            sql.held_unsent(assignment.id),
            None,
            limit=held - wanted,
            order_by=CC.id.desc(),
        )
        result.returned = len(ids)
    result.held_unsent = held + result.assigned - result.returned
    result.message = _describe(result)
    if result.changed or result.cap_changed or result.added:
        events.record(
            session,
            campaign_id=campaign_id,
            reason="manual",
            actor_id=actor_id,
            from_assignment_id=assignment.id
            if result.returned or result.conversations_returned
            else None,
            to_assignment_id=assignment.id if result.assigned or result.added else None,
            contact_ids=ids,
            count=result.assigned + result.returned + result.conversations_returned,
            detail=result.message,
        )
    return result


def _describe(r: ManualResult) -> str:
    parts = []
    if r.added:
        parts.append("added to the campaign")
    if r.assigned:
        parts.append(f"assigned {r.assigned}")
    if r.returned:
        parts.append(f"returned {r.returned} unsent to the pool")
    if r.conversations_returned:
        parts.append(f"returned {r.conversations_returned} conversations to the pool")
    if r.cap_changed:
        cap = "no cap" if r.max_contacts is None else str(r.max_contacts)
        parts.append(f"max contacts set to {cap}")
    if r.wanted is not None and r.held_unsent < r.wanted:
        why = {
            "cap": f"the cap of {r.max_contacts} contacts is reached",
            "hours": f"the others are outside texting hours, {r.hours_note}",
        }.get(r.short_by, "the pool ran out")
        parts.append(f"holds {r.held_unsent} of {r.wanted} wanted: {why}")
    return "; ".join(parts) or "no change"


def remove_texter(
    session: Session,
    campaign_id: int,
    user_id: int,
    *,
    actor_id: int | None,
    also_conversations: bool = False,
) -> ManualResult:
    """Take a texter off the campaign: unsent initials (and optionally conversations) return."""
    begin_write(session)
    assignment_id = session.scalar(
        select(Assignment.id).where(
            Assignment.campaign_id == campaign_id, Assignment.user_id == user_id
        )
    )
    if assignment_id is None:
        raise AssignmentError("That texter is not in this campaign.")
    return take_off(
        session, assignment_id, actor_id=actor_id, also_conversations=also_conversations
    )


def take_off(
    session: Session,
    assignment_id: int,
    *,
    actor_id: int | None,
    also_conversations: bool = False,
    why: str = "removed from the campaign",
) -> ManualResult:
    """Deactivate one assignment inside the caller's write transaction, returning its contacts."""
    assignment = lock_row(session, Assignment, assignment_id)
    assert assignment is not None
    result = ManualResult()
    unsent = sql.move(session, sql.held_unsent(assignment.id), None)
    result.returned = len(unsent)
    if also_conversations:
        result.conversations_returned = len(
            sql.move(session, sql.held_conversations(assignment.id), None)
        )
    assignment.is_active = False
    assignment.can_claim_initials = False
    assignment.can_claim_replies = False
    moved = _describe(result)
    result.message = why + ("" if moved == "no change" else f"; {moved}")
    events.record(
        session,
        campaign_id=assignment.campaign_id,
        reason="manual",
        actor_id=actor_id,
        from_assignment_id=assignment.id,
        contact_ids=unsent,
        count=result.returned + result.conversations_returned,
        detail=result.message,
    )
    return result
