"""Message Review bulk actions on everything matching a filter, run as a job (BulkAction).

The web request records a queued BulkAction (the filter as submitted) and enqueues a job;
the job re-parses and re-checks the filter, then runs the same chunked bulk_unassign or
bulk_reassign, committing the progress count and the walk's cursor with each chunk so a page
can poll it. A worker that dies leaves the action "running" with no progress: after
STALL_MINUTES the page says it stopped, and Resume queues it again to continue after the
cursor (a guarded status change, so a double click starts one job).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, update
from sqlalchemy.orm import Session

from spoke.assignment.review import CampaignNotFound, ReviewError, ReviewFilter, parse_filter
from spoke.assignment.review_bulk import (
    CHUNK,
    BulkResult,
    Cursor,
    Progress,
    bulk_reassign,
    bulk_unassign,
    texter_names,
)
from spoke.clock import now
from spoke.models import BulkAction
from spoke.models.messages import STALL_MINUTES
from spoke.transactions import begin_write

JOB_THRESHOLD = 5000  # more matches than this: a job with a progress page, not the request
RUNNING = ("queued", "running")
FILTER_FIELDS = ("campaign", "texter", "status", "unhandled", "q", "textable", "answer")
INTERRUPTED = (
    "It stopped: the server restarted while it ran. The conversations moved before that stay "
    "moved; Resume continues from where it stopped."
)
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
    does nothing. Chunks committed before an error stay moved. A resumed action continues
    after its cursor, counting on from its `moved`.
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
    start = _cursor(bulk)
    walk: dict[str, Any] = {
        "actor_id": bulk.user_id,
        "chunk": chunk or CHUNK,
        "on_chunk": chunk_progress(bulk_action_id, start),
        "start": start,
        "moved": bulk.moved,
    }
    try:
        f, errors = parse_filter(
            session, bulk.organization_id, bulk.filter_args, country_code=country_code
        )
        if errors:
            raise ReviewError(errors)
        if bulk.action == "unassign":
            result = bulk_unassign(session, f, **walk)
        else:
            result = bulk_reassign(session, f, bulk.texter_ids, **walk)
    except Superseded:
        session.rollback()  # another run of this action moved on: leave it to that run
        return session.get(BulkAction, bulk_action_id)
    except (ReviewError, CampaignNotFound) as exc:
        return _finish(session, bulk_action_id, "failed", error=_refusal(exc))
    except Exception as exc:
        _finish(session, bulk_action_id, "failed", error=f"The bulk action stopped: {exc}")
        raise
    return _finish(session, bulk_action_id, "done", message=result.message, moved=result.moved)


class Superseded(Exception):
    """Another run of this bulk action (after a Resume) moved its cursor on."""


def _cursor(bulk: BulkAction) -> Cursor | None:
    if bulk.resume_campaign_id is None or bulk.resume_contact_id is None:
        return None
    return (bulk.resume_campaign_id, bulk.resume_contact_id)


def _at_cursor(cursor: Cursor | None) -> ColumnElement[bool]:
    if cursor is None:
        return BulkAction.resume_campaign_id.is_(None)
    return and_(
        BulkAction.resume_campaign_id == cursor[0], BulkAction.resume_contact_id == cursor[1]
    )


def chunk_progress(bulk_action_id: int, start: Cursor | None) -> Progress:
    """Record each chunk's count and cursor in its transaction, if the cursor is still ours.

    A worker thought dead that wakes up after a Resume finds the cursor moved on: it raises
    Superseded, so its chunk rolls back and nothing is moved twice.
    """
    expected = [start]

    def progress(session: Session, result: BulkResult) -> None:
        recorded = session.execute(
            update(BulkAction)
            .where(BulkAction.id == bulk_action_id, _at_cursor(expected[0]))
            .values(
                moved=result.moved,
                resume_campaign_id=result.cursor[0] if result.cursor else None,
                resume_contact_id=result.cursor[1] if result.cursor else None,
                updated_at=now(),
            )
        ).rowcount
        if not recorded:
            raise Superseded(f"bulk action {bulk_action_id} was resumed elsewhere")
        expected[0] = result.cursor

    return progress


def resume_bulk_action(session: Session, bulk_action_id: int, *, at: datetime) -> str | None:
    """Queue a stopped bulk action again to continue after its cursor; or say why not.

    Stopped means failed, or queued/running with no progress for STALL_MINUTES. One guarded
    UPDATE, so of two clicks only the first queues it (the caller enqueues the job).
    """
    begin_write(session)
    stalled = and_(
        BulkAction.status.in_(RUNNING),
        BulkAction.updated_at < at - timedelta(minutes=STALL_MINUTES),
    )
    resumed = session.execute(
        update(BulkAction)
        .where(BulkAction.id == bulk_action_id, or_(BulkAction.status == "failed", stalled))
        .values(status="queued", error="", message="", finished_at=None, updated_at=at)
    ).rowcount
    if resumed:
        return None
    bulk = session.get_one(BulkAction, bulk_action_id)
    if bulk.status == "done":
        return "It has already finished: there is nothing left to resume."
    return "It is already running; this page shows how far it got."


def fail_interrupted(session: Session) -> int:
    """Mark bulk actions left queued or running by a previous process as failed; return how many.

    Only for the embedded mode, where they run on this process's threads: at start-up none
    of them can still be running. Their page then offers Resume.
    """
    begin_write(session)
    stuck = session.execute(
        update(BulkAction)
        .where(BulkAction.status.in_(RUNNING))
        .values(status="failed", error=INTERRUPTED, finished_at=now(), updated_at=now())
    ).rowcount
    session.commit()
    return stuck


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
