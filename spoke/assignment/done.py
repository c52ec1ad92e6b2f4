"""Done Texting: a texter hands their unsent initials and unhandled replies back to the pool."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from spoke.assignment import events, sql
from spoke.models import Assignment
from spoke.transactions import begin_write, lock_row


@dataclass
class DoneResult:
    """What Done Texting released; conversations already answered stay with the texter."""

    initials: int = 0
    replies: int = 0
    found: bool = True

    @property
    def released(self) -> int:
        return self.initials + self.replies

    @property
    def message(self) -> str:
        if not self.found:
            return "You are not a texter in this campaign."
        if not self.released:
            return "Nothing to release: you have no unsent texts or unhandled replies here."
        parts = []
        if self.initials:
            parts.append(_plural(self.initials, "unsent text", "unsent texts"))
        if self.replies:
            parts.append(_plural(self.replies, "unhandled reply", "unhandled replies"))
        return (
            f"Released {' and '.join(parts)} to the pool. "
            "Conversations you have already answered stay yours."
        )


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def pending_counts(session: Session, assignment_id: int) -> tuple[int, int]:
    """How many unsent initials and unhandled replies Done Texting would release now."""
    return (
        sql.count(session, sql.held_unsent(assignment_id)),
        sql.count(session, sql.held_unhandled(assignment_id)),
    )


def done_texting(session: Session, campaign_id: int, user_id: int) -> DoneResult:
    """Release the texter's unsent initials and unhandled replies in one transaction."""
    begin_write(session)
    assignment_id = session.scalar(
        select(Assignment.id).where(
            Assignment.campaign_id == campaign_id, Assignment.user_id == user_id
        )
    )
    if assignment_id is None:
        return DoneResult(found=False)
    # Lock the assignment so a concurrent claim (which checks held counts under the same
    # lock) sees either all of this release or none of it.
    assignment = lock_row(session, Assignment, assignment_id)
    assert assignment is not None
    initials = sql.move(session, sql.held_unsent(assignment.id), None)
    replies = sql.move(session, sql.held_unhandled(assignment.id), None)
    result = DoneResult(initials=len(initials), replies=len(replies))
    if result.released:
        events.record(
            session,
            campaign_id=campaign_id,
            reason="done_texting",
            actor_id=user_id,
            from_assignment_id=assignment.id,
            contact_ids=initials + replies,
            detail=result.message,
        )
    return result
