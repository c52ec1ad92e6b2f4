"""Job: import an uploaded contacts CSV (RQ worker or an in-process thread)."""

from __future__ import annotations

import logging

from jobs.context import app_context

log = logging.getLogger(__name__)


def run_import(import_id: int) -> None:
    """Import the contacts CSV of ContactImport `import_id`, committing chunk by chunk."""
    with app_context() as app:
        from spoke.contacts import importer
        from spoke.extensions import db

        result = importer.run_import(
            db.session, import_id, region=app.config.get("DEFAULT_PHONE_REGION") or "US"
        )
        db.session.commit()
        if result is not None:
            log.info(
                "contact import %s %s: %s imported, %s duplicates, %s opted out, %s rejected",
                import_id,
                result.status,
                result.imported,
                result.duplicates,
                result.opted_out_skipped,
                result.rejected,
            )
