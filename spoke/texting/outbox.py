"""The outbox sweep: re-queue texts the queue lost, give back texts a dead worker held.

The `message` row is the outbox. A view commits it as `queued` and then enqueues its
delivery; when that enqueue fails (Redis down) or the job is lost, the row still says
`queued`. A row `queued` for longer than `requeue_after` seconds is handed back to the
queue (and its clock reset, so one sweep a minute adds at most one extra job per text).
A row `sending` for longer than `sending_timeout` seconds was claimed by a worker that
died before recording the provider's answer: it goes back to `queued` and out again.
Delivery claims each row before sending (`spoke.texting.delivery.claim`), so a re-queued
text that was in fact still waiting in the queue is sent once, not twice.

The clock is `message.status_at`, set on every status change; the partial index
`ix_message_outbox` (status, status_at) WHERE status IN ('queued', 'sending') serves both
statements. Each is one guarded UPDATE over a `FOR UPDATE SKIP LOCKED` subquery, so two
sweeps running at once take disjoint rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, select, text, update
from sqlalchemy.orm import Session

from spoke import clock, transactions
from spoke.models import Message

log = logging.getLogger(__name__)

REQUEUE_AFTER = 120  # seconds a text may wait in `queued` before it is enqueued again
# Seconds a text may stay `sending`: above the provider's HTTP timeout (30 s) and the
# delivery job's timeout (spoke.runtime.tasks), so only a dead worker's rows come back.
SENDING_TIMEOUT = 300
BATCH = 1000  # rows per status per sweep; the next sweep takes the rest
# The partial index's own predicate, spelled out: SQLite uses a partial index only when the
# query repeats its WHERE term literally (a bound IN list does not count).
_IN_OUTBOX = text("message.status IN ('queued', 'sending')")


@dataclass
class OutboxSweep:
    """What one sweep did: ids re-queued (waited too long) and given back (stuck sending)."""

    requeued: list[int] = field(default_factory=list)
    given_back: list[int] = field(default_factory=list)

    @property
    def message_ids(self) -> list[int]:
        """Every message the caller must enqueue for delivery after committing."""
        return self.requeued + self.given_back


def stale_ids(status: str, cutoff: datetime, limit: int) -> Select[tuple[int]]:
    """Ids of messages in `status` since before `cutoff`, oldest first, locked, skipping locked."""
    return (
        select(Message.id)
        .where(_IN_OUTBOX)
        .where(Message.status == status, Message.status_at < cutoff)
        .order_by(Message.status_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def _move(session: Session, status: str, cutoff: datetime, now: datetime, limit: int) -> list[int]:
    """Set stale `status` rows to `queued` with the clock at `now`; return their ids."""
    moved = session.scalars(
        update(Message)
        .where(Message.id.in_(stale_ids(status, cutoff, limit)), Message.status == status)
        .values(status="queued", status_at=now)
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(moved)


def sweep(
    session: Session,
    *,
    requeue_after: float = REQUEUE_AFTER,
    sending_timeout: float = SENDING_TIMEOUT,
    limit: int = BATCH,
) -> OutboxSweep:
    """Give back stuck `sending` rows, re-queue overdue `queued` ones; the caller enqueues."""
    transactions.begin_write(session)
    now = clock.now()
    result = OutboxSweep()
    # Given-back rows get status_at = now, so the second statement does not take them again.
    result.given_back = _move(
        session, "sending", now - timedelta(seconds=sending_timeout), now, limit
    )
    result.requeued = _move(session, "queued", now - timedelta(seconds=requeue_after), now, limit)
    if result.given_back:
        log.warning(
            "outbox: gave back %d texts left sending by a stopped worker: %s",
            len(result.given_back),
            result.given_back,
        )
    if result.requeued:
        log.info("outbox: re-queued %d texts that waited too long", len(result.requeued))
    return result
