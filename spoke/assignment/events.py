"""The append-only audit of assignment changes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from spoke.clock import now
from spoke.models import AssignmentEvent

# Keep the ids of small changes; bulk changes record only their count.
MAX_IDS_KEPT = 500

REASONS = (
    "manual",
    "claim_initials",
    "claim_replies",
    "release_unhandled",
    "release_unsent",
    "done_texting",
    "message_review",
    "join",
)


def record(
    session: Session,
    *,
    campaign_id: int,
    reason: str,
    actor_id: int | None,
    from_assignment_id: int | None = None,
    to_assignment_id: int | None = None,
    contact_ids: Sequence[int] = (),
    count: int | None = None,
    detail: str = "",
) -> AssignmentEvent:
    """Add one event to the session's transaction."""
    assert reason in REASONS, reason
    ids = list(contact_ids)
    event = AssignmentEvent(
        campaign_id=campaign_id,
        reason=reason,
        actor_id=actor_id,
        from_assignment_id=from_assignment_id,
        to_assignment_id=to_assignment_id,
        contact_count=len(ids) if count is None else count,
        contact_ids=ids if 0 < len(ids) <= MAX_IDS_KEPT else None,
        detail=detail,
        created_at=now(),
    )
    session.add(event)
    return event
