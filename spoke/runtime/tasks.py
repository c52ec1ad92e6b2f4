"""Run a job: on RQ when REDIS_URL is set, otherwise in this process.

Web code commits first, then calls `enqueue` with the job's dotted name (one of the names
below). Jobs are plain functions in `jobs/` that take ids and open their own app context,
so both paths run the same code. Naming jobs by string keeps `spoke` from importing `jobs`.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import current_app

log = logging.getLogger(__name__)

DELIVER = "jobs.sending.deliver"
RUN_IMPORT = "jobs.imports.run_import"
RUN_BULK_ACTION = "jobs.review.run_bulk_action"
RELEASE_UNHANDLED = "jobs.release.release_unhandled"
SWEEP_OUTBOX = "jobs.outbox.sweep_outbox"
RUN_EXPORT = "jobs.exports.run_export"

# A delivery is short: the provider's HTTP call is bounded at 30 s (providers.py) and the
# outbox gives back a row left `sending` after 300 s, so the job must end well before that.
DELIVER_TIMEOUT = 120
# A delivery that raises (a database blip; provider refusals are recorded, not raised) is
# retried by RQ with a backoff; the retries wait in RQ's scheduler (`rq worker --with-scheduler`).
DELIVER_RETRY_INTERVALS = (10, 30, 60)


def resolve(name: str) -> Callable[..., Any]:
    """The job function named `name` ("package.module.function")."""
    module_name, _, func_name = name.rpartition(".")
    return getattr(importlib.import_module(module_name), func_name)


def run(name: str, *args: Any) -> Any:
    """Run job `name` now, in this process (the ticker and the CLI use this)."""
    return resolve(name)(*args)


def redis_connection(url: str | None = None):  # type: ignore[no-untyped-def]
    from redis import Redis

    # Bounded: a web request enqueueing to an unreachable Redis answers in seconds, not minutes.
    return Redis.from_url(
        url or current_app.config["REDIS_URL"], socket_connect_timeout=3, socket_timeout=10
    )


def queue(url: str | None = None, name: str | None = None):  # type: ignore[no-untyped-def]
    from rq import Queue

    return Queue(name or current_app.config["RQ_QUEUE"], connection=redis_connection(url))


def enqueue(name: str, *args: Any, background: bool = False) -> None:
    """Run job `name` with `args`.

    With Redis: an RQ job. Without: inline, or on a daemon thread when `background` is set
    (long work such as imports, so the request returns and a progress bar can poll).
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("REDIS_URL"):
        queue().enqueue(name, *args, **_rq_options(name))
        return
    func = resolve(name)
    if background and app.config.get("JOBS_IN_THREAD", True):
        thread = threading.Thread(target=_run_with_app, args=(app, func, args), daemon=True)
        thread.start()
        return
    func(*args)


def _rq_options(name: str) -> dict[str, Any]:
    if name != DELIVER:
        return {"job_timeout": 3600}
    from rq import Retry

    retry = Retry(max=len(DELIVER_RETRY_INTERVALS), interval=list(DELIVER_RETRY_INTERVALS))
    return {"job_timeout": DELIVER_TIMEOUT, "retry": retry}


def enqueue_or_leave(name: str, *args: Any) -> bool:
    """Enqueue an outbox job (its row is already committed); False when that failed.

    Redis down, or the in-process run raising, must not fail the request that committed
    the row: the outbox sweep (`SWEEP_OUTBOX`) finds the row still `queued` and tries again.
    """
    try:
        enqueue(name, *args)
    except Exception:
        log.warning("could not run %s%r now; the outbox sweep will", name, args, exc_info=True)
        from spoke.extensions import db

        db.session.rollback()  # an in-process run may have left its transaction failed
        return False
    return True


def _run_with_app(app: Any, func: Callable[..., Any], args: tuple[Any, ...]) -> None:
    with app.app_context():
        try:
            func(*args)
        except Exception:  # a background thread has nobody to raise to
            log.exception("in-process job %s%r failed", func.__name__, args)
