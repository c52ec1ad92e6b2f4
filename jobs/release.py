"""Job: Release Unhandled Replies and Unsent Initials in every eligible campaign.

Run by RQ cron, the embedded ticker or `flask release-unhandled`; the name stays
`release_unhandled` because all three (and the tests) call it by that name.
"""

from __future__ import annotations

import logging
from typing import Any

from jobs.context import app_context

log = logging.getLogger(__name__)


def release_unhandled() -> dict[str, Any]:
    """Sweep every started campaign with a release toggle on; return what was released."""
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
            "release sweep: %s campaigns swept, %s replies and %s unsent initials released",
            result["campaigns_swept"],
            result["released"],
            result["unsent_released"],
        )
        return result
