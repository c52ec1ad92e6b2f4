"""Dynamic assignment: a texter claims a batch of initials or of replies from the pool."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from spoke.assignment import events, sql
from spoke.assignment.textable import open_pool
from spoke.campaigns.hours import INITIALS_MARGIN, NONE
from spoke.models import Assignment, Campaign
from spoke.models import CampaignContact as CC
from spoke.transactions import begin_write, lock_row


@dataclass
class ClaimResult:
    """What a claim did: `claimed` contacts, or `refusal` saying why none; `next` is where to go."""

    kind: str  # "initials" or "replies"
    claimed: int = 0
    batch_size: int = 0
    refusal: str = ""
    next: str = ""  # "initials", "replies" or "" (the campaign page)
    contact_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.claimed > 0

    @property
    def message(self) -> str:
        if self.refusal:
            return self.refusal
        if self.claimed < self.batch_size:
            return f"You got {self.claimed} of {self.batch_size}: no more are waiting."
        if self.kind == "initials":
            return f"You got {_plural(self.claimed, 'text', 'texts')} to send."
        return f"You got {_plural(self.claimed, 'reply', 'replies')} to answer."


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _locked_assignment(session: Session, campaign_id: int, user_id: int) -> Assignment | None:
    assignment_id = session.scalar(
        select(Assignment.id).where(
            Assignment.campaign_id == campaign_id, Assignment.user_id == user_id
        )
    )
    return None if assignment_id is None else lock_row(session, Assignment, assignment_id)


def _room_under_cap(session: Session, assignment: Assignment) -> int | None:
    if assignment.max_contacts is None:
        return None
    held = sql.count(session, CC.assignment_id == assignment.id)
    return max(0, assignment.max_contacts - held)


def claim_initials(session: Session, campaign_id: int, user_id: int) -> ClaimResult:
    """Claim up to the batch size of pool contacts that need their initial."""
    return _claim(session, campaign_id, user_id, _INITIALS)


def claim_replies(session: Session, campaign_id: int, user_id: int) -> ClaimResult:
    """Claim up to the replies batch size of unassigned replies, oldest waiting first."""
    return _claim(session, campaign_id, user_id, _REPLIES)


@dataclass(frozen=True)
class _Kind:
    name: str
    reason: str
    batch_size: Callable[[Campaign], int]
    pool: Callable[[int], ColumnElement[bool]]
    order_by: Any
    refusal: Callable[[Session, Campaign, Assignment], tuple[str, str] | None]
    empty: str
    # How long before the stop time a contact is no longer handed out.
    margin: timedelta = NONE


def _claim(session: Session, campaign_id: int, user_id: int, kind: _Kind) -> ClaimResult:
    """One claim, one transaction: lock the texter's assignment, check, take, record."""
    begin_write(session)
    campaign = session.get(Campaign, campaign_id)
    result = ClaimResult(kind=kind.name)
    if campaign is None:
        result.refusal = "No such campaign."
        return result
    result.batch_size = size = kind.batch_size(campaign)
    assignment = _locked_assignment(session, campaign_id, user_id)
    refusal = _common_refusal(campaign, assignment, kind) or kind.refusal(
        session,
        campaign,
        assignment,  # type: ignore[arg-type]
    )
    if refusal:
        result.refusal, result.next = refusal
        return result
    assert assignment is not None
    room = _room_under_cap(session, assignment)
    if room == 0:
        result.refusal = _cap_refusal(assignment)
        return result
    if room is not None:
        size = min(size, room)
    # Only the pool, only zones inside texting hours: a contact someone holds is never taken.
    textable = open_pool(campaign, kind.pool(campaign_id), kind.margin)
    ids: list[int] = []
    if textable.where is not None:
        ids = sql.move(
            session,
            textable.where,
            assignment.id,
            limit=size,
            order_by=kind.order_by,
            skip_locked=True,
        )
    result.batch_size, result.claimed, result.contact_ids = size, len(ids), ids
    if not ids:
        result.refusal = textable.closed_refusal(session) or kind.empty
        return result
    result.next = kind.name
    events.record(
        session,
        campaign_id=campaign_id,
        reason=kind.reason,
        actor_id=user_id,
        to_assignment_id=assignment.id,
        contact_ids=ids,
        detail=result.message,
    )
    return result


def _cap_refusal(assignment: Assignment) -> str:
    return f"You have reached your limit of {assignment.max_contacts} contacts in this campaign."


@dataclass
class ClaimPreview:
    """What a claim button would do now: take up to `size`, or be refused with `reason`."""

    kind: str
    size: int = 0
    reason: str = ""

    @property
    def label(self) -> str:
        """The button's words, with the batch size: "Get 200 more texts to send"."""
        if self.kind == "initials":
            return f"Get {_plural(self.size, 'more text', 'more texts')} to send"
        return f"Get {_plural(self.size, 'more reply', 'more replies')} to answer"


def preview_claim(
    session: Session, campaign: Campaign, assignment: Assignment | None, kind_name: str
) -> ClaimPreview:
    """Run a claim's checks without claiming (no lock, no write), for the texter's buttons.

    The claim itself checks again inside its transaction; this only decides whether the
    button is offered, disabled with the reason beside it, or labelled with its size.
    """
    kind = _INITIALS if kind_name == "initials" else _REPLIES
    preview = ClaimPreview(kind=kind.name, size=kind.batch_size(campaign))
    refusal = _common_refusal(campaign, assignment, kind)
    if refusal is None and assignment is not None:
        refusal = kind.refusal(session, campaign, assignment)
    if refusal is not None:
        preview.reason = refusal[0]
        return preview
    assert assignment is not None
    room = _room_under_cap(session, assignment)
    if room == 0:
        preview.reason = _cap_refusal(assignment)
        return preview
    if room is not None:
        preview.size = min(preview.size, room)
    textable = open_pool(campaign, kind.pool(campaign.id), kind.margin)
    waiting = textable.where is not None and session.scalar(
        select(CC.id).where(textable.where).limit(1)
    )
    if not waiting:
        preview.reason = textable.closed_refusal(session) or kind.empty
    return preview


def _common_refusal(
    campaign: Campaign, assignment: Assignment | None, kind: _Kind
) -> tuple[str, str] | None:
    if campaign.status != "started":
        return "This campaign is not started.", ""
    enabled = (
        campaign.dynamic_initials_enabled
        if kind.name == "initials"
        else campaign.dynamic_replies_enabled
    )
    if not enabled:
        label = "Initials" if kind.name == "initials" else "Replies"
        return f"Dynamic Assignment for {label} is turned off for this campaign.", ""
    if assignment is None or not assignment.is_active:
        return "You are not a texter in this campaign.", ""
    return None


def _initials_refusal(
    session: Session, campaign: Campaign, assignment: Assignment
) -> tuple[str, str] | None:
    unsent = sql.count(session, sql.held_unsent(assignment.id))
    if unsent:
        return (
            f"Send your {_plural(unsent, 'text', 'texts')} before asking for more.",
            "initials",
        )
    if campaign.require_replies_handled:
        unhandled = sql.count(session, sql.held_unhandled(assignment.id))
        if unhandled:
            return (
                f"Answer your {_plural(unhandled, 'reply', 'replies')} before asking for "
                "more texts to send.",
                "replies",
            )
    return None


def _replies_refusal(
    session: Session, campaign: Campaign, assignment: Assignment
) -> tuple[str, str] | None:
    unhandled = sql.count(session, sql.held_unhandled(assignment.id))
    if unhandled:
        return (
            f"Answer your {_plural(unhandled, 'reply', 'replies')} before asking for more.",
            "replies",
        )
    return None


_INITIALS = _Kind(
    name="initials",
    reason="claim_initials",
    batch_size=lambda c: c.initials_batch_size,
    pool=sql.pool_initials,
    order_by=CC.id,
    refusal=_initials_refusal,
    empty="There are no more texts to send in this campaign right now.",
    margin=INITIALS_MARGIN,
)
_REPLIES = _Kind(
    name="replies",
    reason="claim_replies",
    batch_size=lambda c: c.replies_batch_size,
    pool=sql.pool_replies,
    order_by=(CC.last_inbound_at, CC.id),
    refusal=_replies_refusal,
    empty="No replies are waiting to be answered right now.",
)
