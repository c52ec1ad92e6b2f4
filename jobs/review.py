"""Job: a Message Review bulk action on everything matching a filter (RQ or a thread)."""

from __future__ import annotations

import logging

from jobs.context import app_context

log = logging.getLogger(__name__)


def run_bulk_action(bulk_action_id: int) -> None:
    """Run BulkAction `bulk_action_id` once, committing chunk by chunk with its progress."""
    with app_context() as app:
        from spoke.assignment import review, review_jobs
        from spoke.extensions import db

        bulk = review_jobs.run_bulk_action(
            db.session,
            bulk_action_id,
            country_code=review.country_code(app.config.get("DEFAULT_PHONE_REGION")),
        )
        db.session.commit()
        if bulk is None:
            log.info("bulk action %s was not queued; nothing to do", bulk_action_id)
        else:
            log.info(
                "bulk action %s %s: %s of %s moved %s",
                bulk_action_id,
                bulk.status,
                bulk.moved,
                bulk.total,
                bulk.error or bulk.message,
            )
