"""Message Review bulk actions on everything matching a filter, run as a job (BulkAction).

The web request records a queued BulkAction (the filter as submitted) and enqueues a job;
the job re-parses and re-checks the filter, then runs the same chunked bulk_unassign or
bulk_reassign, committing the progress count with each chunk so a page can poll it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from spoke.assignment.review import CampaignNotFound, ReviewError, ReviewFilter, parse_filter
from spoke.assignment.review_bulk import (
    CHUNK,
    BulkResult,
    bulk_reassign,
    bulk_unassign,
    texter_names,
)
from spoke.clock import now
from spoke.models import BulkAction
from spoke.transactions import begin_write

JOB_THRESHOLD = 5000  # more matches than this: a job with a progress page, not the request
RUNNING = ("queued", "running")
FILTER_FIELDS = ("campaign", "texter", "status", "unhandled", "q", "textable")
_GONE = {
    "texter": "The texter in the filter is no longer a member of the organization.",
    "texters": "A texter to reassign to is no longer a member of the organization.",
}


def create_bulk_action(
    session: Session,
    f: ReviewFilter,
    args: Mapping[str, str],
    *,
    action: str,
    texter_ids: Sequence[int],
    user_id: int,
    total: int,
) -> BulkAction:
    """Record a queued bulk action on everything matching the filter `args` (as submitted)."""
    if action == "reassign":
        texter_names(session, f.organization_id, texter_ids)
    bulk = BulkAction(
        organization_id=f.organization_id,
        user_id=user_id,
        action=action,
        filter_args={k: args[k] for k in FILTER_FIELDS if args.get(k)},
        texter_ids=list(dict.fromkeys(texter_ids)),
        total=total,
        status="queued",
    )
    session.add(bulk)
    session.flush()
    return bulk


def run_bulk_action(
    session: Session, bulk_action_id: int, *, country_code: str = "1", chunk: int | None = None
) -> BulkAction | None:
    """Run a queued bulk action once: re-check its filter, move in chunks, record the outcome.

    Returns None when it is not queued (already run, running, or unknown): a retried job
    does nothing. Chunks committed before an error stay moved.
    """
    begin_write(session)
    started = session.execute(
        update(BulkAction)
        .where(BulkAction.id == bulk_action_id, BulkAction.status == "queued")
        .values(status="running", updated_at=now())
    ).rowcount
    session.commit()
    bulk = session.get(BulkAction, bulk_action_id) if started else None
    if bulk is None:
        return None
    chunk = chunk or CHUNK

    def progress(session: Session, result: BulkResult) -> None:
        session.execute(
            update(BulkAction)
            .where(BulkAction.id == bulk_action_id)
            .values(moved=result.moved, updated_at=now())
        )

    try:
        f, errors = parse_filter(
            session, bulk.organization_id, bulk.filter_args, country_code=country_code
        )
        if errors:
            raise ReviewError(errors)
        if bulk.action == "unassign":
            result = bulk_unassign(
                session, f, actor_id=bulk.user_id, chunk=chunk, on_chunk=progress
            )
        else:
            result = bulk_reassign(
                session, f, bulk.texter_ids, actor_id=bulk.user_id, chunk=chunk, on_chunk=progress
            )
    except (ReviewError, CampaignNotFound) as exc:
        return _finish(session, bulk_action_id, "failed", error=_refusal(exc))
    except Exception as exc:
        _finish(session, bulk_action_id, "failed", error=f"The bulk action stopped: {exc}")
        raise
    return _finish(session, bulk_action_id, "done", message=result.message, moved=result.moved)


def _refusal(exc: ReviewError | CampaignNotFound) -> str:
    """Why the stored filter or texters no longer hold (they were valid when submitted)."""
    if isinstance(exc, CampaignNotFound):
        return "The campaign in the filter is no longer in this organization."
    return " ".join(
        _GONE.get(field, f"The filter is no longer valid: {message}")
        for field, message in exc.errors.items()
    )


def _finish(session: Session, bulk_action_id: int, status: str, **values: Any) -> BulkAction:
    """Record the outcome in its own transaction (`moved` stays as the chunks committed it)."""
    session.rollback()
    begin_write(session)
    bulk = session.get_one(BulkAction, bulk_action_id)
    bulk.status, bulk.finished_at = status, now()
    for name, value in values.items():
        setattr(bulk, name, value[:2000] if isinstance(value, str) else value)
    session.commit()
    return bulk


def not_started(session: Session, bulk_action_id: int, error: str) -> None:
    """Mark a bulk action failed if its job never started (e.g. the queue was unreachable)."""
    begin_write(session)
    session.execute(
        update(BulkAction)
        .where(BulkAction.id == bulk_action_id, BulkAction.status == "queued")
        .values(status="failed", error=error[:2000], finished_at=now(), updated_at=now())
    )
    session.commit()
