"""Release Unhandled Replies: replies a texter left waiting too long go back to the pool.

A contact is released when it is in `needs_response`, held by someone, not opted out, its
latest inbound message has waited at least the campaign's `release_unhandled_minutes`, and
nothing was sent to it after that inbound. The clock is `last_inbound_at`: an unrelated
write (which bumps `updated_at`) never resets it. The one other time that counts is
`assigned_at`, when the current holder got the contact: a reply released and then claimed
by someone else gives that texter a full window instead of being taken back at once.

The sweep works in bounded chunks with one `assignment_event` per sweep (see
`release_sweep`). The same job, ticker and CLI also run Release Unsent Initials
(`release_unsent`): `sweep_all` sweeps both in every campaign that has either turned on.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from spoke.assignment import release_sweep, release_unsent, sql
from spoke.assignment.release_sweep import CHUNK, release_chunk
from spoke.assignment.release_sweep import cutoff_for as cutoff_for  # used by callers
from spoke.clock import now
from spoke.models import AssignmentEvent, Campaign
from spoke.models import CampaignContact as CC

log = logging.getLogger(__name__)


def releasable(campaign_id: int, cutoff: datetime) -> ColumnElement[bool]:
    """Held unhandled replies whose last inbound is at or before `cutoff`, unanswered since.

    The first three terms match the partial index ix_contact_held_needs_response
    (campaign_id, last_inbound_at) WHERE assignment_id IS NOT NULL AND needs_response.
    """
    return and_(
        CC.campaign_id == campaign_id,
        CC.assignment_id.is_not(None),
        sql.status_is("needs_response"),
        CC.last_inbound_at <= cutoff,
        sql.NOT_OPTED_OUT,
        or_(CC.assigned_at.is_(None), CC.assigned_at <= cutoff),
        or_(CC.last_outbound_at.is_(None), CC.last_outbound_at < CC.last_inbound_at),
    )


def release_unhandled_chunk(
    session: Session,
    campaign_id: int,
    cutoff: datetime,
    *,
    limit: int = CHUNK,
    event_id: int | None = None,
) -> tuple[list[int], int | None]:
    """Release up to `limit` releasable replies, oldest first, in one write transaction.

    Records the sweep's event in the same transaction: a new one when `event_id` is None,
    else that event's count is raised. Returns the released ids and the event id (None
    when nothing moved). The caller commits.
    """
    return release_chunk(
        session,
        campaign_id,
        releasable(campaign_id, cutoff),
        order_by=(CC.last_inbound_at, CC.id),
        reason="release_unhandled",
        noun="unhandled replies",
        limit=limit,
        event_id=event_id,
    )


def sweep_campaign(
    session: Session,
    campaign_id: int,
    *,
    chunk: int = CHUNK,
    after_chunk: Callable[[int], None] | None = None,
) -> int:
    """Release the campaign's overdue unhandled replies chunk by chunk; return how many.

    `after_chunk(released_so_far)` runs after each commit (tests use it to kill a sweep
    between chunks).
    """
    return release_sweep.sweep_campaign(
        session,
        campaign_id,
        eligible=_eligible,
        minutes=lambda campaign: campaign.release_unhandled_minutes,
        release=release_unhandled_chunk,
        noun="unhandled replies",
        chunk=chunk,
        after_chunk=after_chunk,
    )


def _eligible(campaign: Campaign) -> bool:
    return campaign.status == "started" and bool(campaign.release_unhandled_enabled)


@dataclass
class SweepSummary:
    """What one run of the release job did: replies released, and unsent initials released."""

    campaigns: int = 0
    released: int = 0
    by_campaign: dict[int, int] = field(default_factory=dict)
    unsent_released: int = 0
    unsent_by_campaign: dict[int, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "campaigns_swept": self.campaigns,
            "released": self.released,
            "by_campaign": {str(k): v for k, v in self.by_campaign.items()},
            "unsent_released": self.unsent_released,
            "unsent_by_campaign": {str(k): v for k, v in self.unsent_by_campaign.items()},
        }


def sweep_all(session: Session, *, chunk: int = CHUNK) -> SweepSummary:
    """Sweep every started campaign with Release Unhandled Replies or Unsent Initials on."""
    campaign_ids = session.scalars(
        select(Campaign.id)
        .where(
            Campaign.status == "started",
            or_(
                Campaign.release_unhandled_enabled.is_(True),
                Campaign.release_unsent_enabled.is_(True),
            ),
        )
        .order_by(Campaign.id)
    ).all()
    session.commit()  # end the read; each chunk starts its own write transaction
    summary = SweepSummary()
    for campaign_id in campaign_ids:
        summary.campaigns += 1
        # Each sweep checks its own toggle; a campaign may have one on and not the other.
        n = sweep_campaign(session, campaign_id, chunk=chunk)
        summary.released += n
        if n:
            summary.by_campaign[campaign_id] = n
        n = release_unsent.sweep_campaign(session, campaign_id, chunk=chunk)
        summary.unsent_released += n
        if n:
            summary.unsent_by_campaign[campaign_id] = n
    return summary


def seconds_until_release(
    contact: CC, campaign: Campaign, at: datetime | None = None
) -> float | None:
    """Seconds until the sweep may release this reply; None if it will not be released."""
    if not campaign.release_unhandled_enabled or campaign.status != "started":
        return None
    if (
        contact.message_status != "needs_response"
        or contact.assignment_id is None
        or contact.opted_out
        or contact.last_inbound_at is None
    ):
        return None
    if contact.last_outbound_at is not None and contact.last_outbound_at >= contact.last_inbound_at:
        return None
    started = max(contact.last_inbound_at, contact.assigned_at or contact.last_inbound_at)
    due = started + timedelta(minutes=campaign.release_unhandled_minutes)
    return (due - (at or now())).total_seconds()


def countdown_text(contact: CC, campaign: Campaign, at: datetime | None = None) -> str:
    """What the texter reads next to an unhandled reply: "released in 12 min", or ""."""
    left = seconds_until_release(contact, campaign, at)
    if left is None:
        return ""
    if left <= 0:
        return "released within a minute"
    return f"released in {math.ceil(left / 60)} min"


@dataclass
class ReleaseStats:
    """The admin's numbers: unhandled replies now, unsent initials held, recent releases."""

    unhandled: int
    held: int
    in_pool: int
    released_last_hour: int
    enabled: bool
    minutes: int
    unsent_held: int = 0
    unsent_released_last_hour: int = 0
    unsent_enabled: bool = False
    unsent_minutes: int = 60


def release_stats(session: Session, campaign: Campaign, at: datetime | None = None) -> ReleaseStats:
    """Count the campaign's unhandled replies (held / in the pool), unsent initials held by
    texters, and what each release feature returned to the pool in the last hour."""
    rows = session.execute(
        select(CC.assignment_id.is_(None), func.count())
        .where(CC.campaign_id == campaign.id, sql.status_is("needs_response"))
        .group_by(CC.assignment_id.is_(None))
    ).all()
    in_pool = sum(n for unassigned, n in rows if unassigned)
    held = sum(n for unassigned, n in rows if not unassigned)
    since = (at or now()) - timedelta(hours=1)
    released = dict(
        session.execute(
            select(AssignmentEvent.reason, func.sum(AssignmentEvent.contact_count))
            .where(
                AssignmentEvent.campaign_id == campaign.id,
                AssignmentEvent.created_at >= since,
                AssignmentEvent.reason.in_(("release_unhandled", release_unsent.REASON)),
            )
            .group_by(AssignmentEvent.reason)
        ).all()
    )
    return ReleaseStats(
        unhandled=held + in_pool,
        held=held,
        in_pool=in_pool,
        released_last_hour=int(released.get("release_unhandled") or 0),
        enabled=bool(campaign.release_unhandled_enabled),
        minutes=campaign.release_unhandled_minutes,
        unsent_held=release_unsent.held_count(session, campaign.id),
        unsent_released_last_hour=int(released.get(release_unsent.REASON) or 0),
        unsent_enabled=bool(campaign.release_unsent_enabled),
        unsent_minutes=campaign.release_unsent_minutes,
    )
