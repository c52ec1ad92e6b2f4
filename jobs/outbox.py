"""Job: the outbox sweep (RQ cron, the embedded ticker or `flask sweep-outbox`)."""

from __future__ import annotations

import logging

from jobs.context import app_context

log = logging.getLogger(__name__)


def sweep_outbox() -> dict[str, int]:
    """Re-queue texts that waited too long or were left sending; enqueue their delivery."""
    with app_context() as app:
        from spoke.extensions import db
        from spoke.runtime import tasks
        from spoke.texting import outbox

        try:
            result = outbox.sweep(
                db.session,
                requeue_after=float(app.config["OUTBOX_REQUEUE_SECONDS"]),
                sending_timeout=float(app.config["OUTBOX_SENDING_TIMEOUT_SECONDS"]),
            )
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        # After the commit, like a view: a failed enqueue leaves the row for the next sweep.
        enqueued = sum(tasks.enqueue_or_leave(tasks.DELIVER, mid) for mid in result.message_ids)
        summary = {
            "requeued": len(result.requeued),
            "given_back": len(result.given_back),
            "enqueued": enqueued,
        }
        log.info("outbox sweep: %s", summary)
        return summary
