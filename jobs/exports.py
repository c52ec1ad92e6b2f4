"""Job: write a large campaign export to a file (RQ or a thread)."""

from __future__ import annotations

import logging

from jobs.context import app_context

log = logging.getLogger(__name__)


def run_export(export_id: int) -> None:
    """Run CampaignExport `export_id` once, committing its progress page by page."""
    with app_context() as app:
        from spoke.extensions import db
        from spoke.reports import export_jobs

        record = export_jobs.run_export(db.session, export_id, app.config["EXPORT_FOLDER"])
        if record is None:
            log.info("export %s was not queued; nothing to do", export_id)
        else:
            log.info(
                "export %s %s: %s rows %s", export_id, record.status, record.written, record.error
            )
