"""Job: Release Unhandled Replies in every eligible campaign (RQ cron, ticker or CLI)."""

from __future__ import annotations

import logging
from typing import Any

from jobs.context import app_context

log = logging.getLogger(__name__)


def release_unhandled() -> dict[str, Any]:
    """Sweep every started campaign with the toggle on; return what was released."""
    with app_context():
        from spoke.assignment import release
        from spoke.extensions import db

        try:
            summary = release.sweep_all(db.session)
        except Exception:
            db.session.rollback()
            raise
        result = summary.as_dict()
        log.info(
            "release sweep: %s campaigns swept, %s replies released",
            result["campaigns_swept"],
            result["released"],
        )
        return result
