"""Release Unsent Initials: contacts a texter claimed and never texted go back to the pool.

A held contact is due when it still waits for its initial (`needs_message`, not opted out),
has no message either way (`last_outbound_at` and `last_inbound_at` both NULL), and its
current holder got it at least the campaign's `release_unsent_minutes` ago. The clock is
`assigned_at`: a batch claimed again after a release gets a full window, and an unrelated
write (which bumps `updated_at`) never resets it. A held contact without `assigned_at` has
no known clock and is left alone.

The sweep is the one Release Unhandled Replies runs (`release.sweep_all`, its job, ticker
and CLI), in chunks with one `release_unsent` event per sweep (`release_sweep`).

A send and a sweep never both win. `messaging.send_initial` locks the contact (FOR UPDATE)
in the transaction that marks it messaged, and the sweep picks with SKIP LOCKED: it skips a
contact being sent, which is no longer due once the send commits. If the sweep locks it
first, the send waits, finds the contact back in the pool and refuses ("Your assignment has
changed"). SQLite's single writer puts the two in one order or the other, with the same
outcomes.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from spoke.assignment import release_sweep, sql
from spoke.assignment.release_sweep import CHUNK, release_chunk
from spoke.clock import now
from spoke.models import Campaign
from spoke.models import CampaignContact as CC

log = logging.getLogger(__name__)

REASON = "release_unsent"


def held_untouched() -> ColumnElement[bool]:
    """Held contacts never texted, never heard from, not opted out.

    All but the opted_out term are the predicate of ix_contact_held_unsent, which serves
    both the sweep (campaign_id, assigned_at) and the admin's count.
    """
    return and_(
        CC.assignment_id.is_not(None),
        sql.status_is("needs_message"),
        sql.NOT_OPTED_OUT,
        CC.last_inbound_at.is_(None),
        CC.last_outbound_at.is_(None),
    )


def due(campaign_id: int, cutoff: datetime) -> ColumnElement[bool]:
    """The campaign's held unsent initials assigned at or before `cutoff`."""
    return and_(CC.campaign_id == campaign_id, held_untouched(), CC.assigned_at <= cutoff)


def eligible(campaign: Campaign) -> bool:
    """True when the campaign is running with Release Unsent Initials on."""
    return campaign.status == "started" and bool(campaign.release_unsent_enabled)


def release_unsent_chunk(
    session: Session,
    campaign_id: int,
    cutoff: datetime,
    *,
    limit: int = CHUNK,
    event_id: int | None = None,
) -> tuple[list[int], int | None]:
    """Release up to `limit` due unsent initials, longest held first, in one transaction."""
    return release_chunk(
        session,
        campaign_id,
        due(campaign_id, cutoff),
        order_by=(CC.assigned_at, CC.id),
        reason=REASON,
        noun="unsent initials",
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
    """Release the campaign's overdue unsent initials chunk by chunk; return how many."""
    return release_sweep.sweep_campaign(
        session,
        campaign_id,
        eligible=eligible,
        minutes=lambda campaign: campaign.release_unsent_minutes,
        release=release_unsent_chunk,
        noun="unsent initials",
        chunk=chunk,
        after_chunk=after_chunk,
    )


def held_count(session: Session, campaign_id: int) -> int:
    """How many unsent initials texters hold in the campaign (what the sweep watches)."""
    return sql.count(session, and_(CC.campaign_id == campaign_id, held_untouched()))


def seconds_until_release(
    session: Session, campaign: Campaign, assignment_id: int, at: datetime | None = None
) -> float | None:
    """Seconds until the texter's longest-held unsent initial may go back; None if never."""
    if not eligible(campaign):
        return None
    first = session.scalar(
        select(func.min(CC.assigned_at)).where(CC.assignment_id == assignment_id, held_untouched())
    )
    if first is None:
        return None
    deadline = first + timedelta(minutes=campaign.release_unsent_minutes)
    return (deadline - (at or now())).total_seconds()


def in_words(seconds: float) -> str:
    """A time ahead, relative and rounded up: "in 14 min", "in 1 h 5 min", "within a minute"."""
    if seconds <= 0:
        return "within a minute"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"in {minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"in {hours} h {minutes} min" if minutes else f"in {hours} h"


def countdown_text(
    session: Session, campaign: Campaign, assignment_id: int, at: datetime | None = None
) -> str:
    """What the texter reads on their initials: "Unsent texts go back to the pool in 14 min"."""
    left = seconds_until_release(session, campaign, assignment_id, at)
    if left is None:
        return ""
    return f"Unsent texts go back to the pool {in_words(left)}"
