"""The chunked sweep both release features share: one event per sweep, each chunk committed.

Release Unhandled Replies (`release`) and Release Unsent Initials (`release_unsent`) differ
only in which held contacts are due, their order and the words of the event. Each chunk is
its own transaction holding both the moved rows and the sweep's single `assignment_event`
(inserted by the first chunk, its count raised by the next ones), so a sweep killed between
chunks leaves committed chunks complete and counted, and the rest untouched for the next
run. Concurrent sweeps take disjoint rows (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's
single writer serialises).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from spoke.assignment import events, sql
from spoke.clock import now
from spoke.models import AssignmentEvent, Campaign
from spoke.transactions import begin_write

log = logging.getLogger(__name__)

CHUNK = 500


def cutoff_for(minutes: int, at: datetime | None = None) -> datetime:
    """The latest start time that has waited `minutes` at time `at` (default: now)."""
    return (at or now()) - timedelta(minutes=minutes)


def release_chunk(
    session: Session,
    campaign_id: int,
    due: ColumnElement[bool],
    *,
    order_by: tuple[Any, ...],
    reason: str,
    noun: str,
    limit: int = CHUNK,
    event_id: int | None = None,
) -> tuple[list[int], int | None]:
    """Release up to `limit` contacts matching `due`, in `order_by`, in one write transaction.

    Records the sweep's event in the same transaction: a new one when `event_id` is None,
    else that event's count is raised. `noun` names what moved ("unhandled replies").
    Returns the released ids and the event id (None when nothing moved). The caller commits.
    """
    begin_write(session)
    ids = sql.move(session, due, None, limit=limit, order_by=order_by, skip_locked=True)
    if not ids:
        return ids, event_id
    if event_id is None:
        event = events.record(
            session,
            campaign_id=campaign_id,
            reason=reason,
            actor_id=None,
            contact_ids=ids,
            detail=f"released {len(ids)} {noun} to the pool",
        )
        session.flush()
        return ids, event.id
    event = session.get(AssignmentEvent, event_id)
    assert event is not None
    event.contact_count += len(ids)
    kept = (event.contact_ids or []) + ids
    event.contact_ids = kept if len(kept) <= events.MAX_IDS_KEPT else None
    event.detail = f"released {event.contact_count} {noun} to the pool"
    return ids, event_id


# release_one(limit, event_id) -> (released ids, event id)
ChunkFn = Callable[[int, int | None], tuple[list[int], int | None]]


def sweep_chunks(
    session: Session,
    release_one: ChunkFn,
    *,
    chunk: int = CHUNK,
    after_chunk: Callable[[int], None] | None = None,
) -> int:
    """Call `release_one(chunk, event_id)` and commit until a chunk comes back short.

    `after_chunk(released_so_far)` runs after each commit that moved something (tests use
    it to kill a sweep between chunks). Returns how many contacts were released.
    """
    released = 0
    event_id: int | None = None
    while True:
        ids, event_id = release_one(chunk, event_id)
        session.commit()
        released += len(ids)
        if ids and after_chunk is not None:
            after_chunk(released)
        # Fewer than a chunk: the rest is done, or locked by a concurrent sweep moving it.
        if len(ids) < chunk:
            return released


# release(session, campaign_id, cutoff, limit=..., event_id=...) -> (released ids, event id)
RuleChunk = Callable[..., tuple[list[int], int | None]]


def sweep_campaign(
    session: Session,
    campaign_id: int,
    *,
    eligible: Callable[[Campaign], bool],
    minutes: Callable[[Campaign], int],
    release: RuleChunk,
    noun: str,
    chunk: int = CHUNK,
    after_chunk: Callable[[int], None] | None = None,
) -> int:
    """Run one release rule over one campaign, chunk by chunk; return how many it released.

    Each chunk is committed here (the sweep is many transactions by design). The cutoff is
    fixed at the start, from the campaign's `minutes`, so a long sweep has a definite end.
    """
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or not eligible(campaign):
        session.commit()
        return 0
    cutoff = cutoff_for(minutes(campaign))
    released = sweep_chunks(
        session,
        lambda limit, event_id: release(
            session, campaign_id, cutoff, limit=limit, event_id=event_id
        ),
        chunk=chunk,
        after_chunk=after_chunk,
    )
    if released:
        log.info("released %s %s in campaign %s", released, noun, campaign_id)
    return released
