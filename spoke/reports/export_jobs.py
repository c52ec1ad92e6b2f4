"""Exports as records: who exported what and when; large ones written to a file by a job.

The web request records the export (`record_export`) and commits. A small export then
streams; a large one is queued, and the job (`run_export`) writes the CSV under the instance
folder, committing its progress every page, then leaves a download link valid for 24 hours.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from spoke import transactions
from spoke.clock import now
from spoke.models import Campaign, CampaignExport
from spoke.models.reports import EXPORT_KINDS
from spoke.reports import export

log = logging.getLogger(__name__)

VALID_FOR = timedelta(hours=24)
REASONS = {
    "kind": "Choose what to export: contacts or messages.",
    "expired": "This download link has expired (links last 24 hours). Export again for a new one.",
    "not_ready": "This export is not finished yet.",
    "failed": "This export failed, so there is no file to download. Export again.",
}


class ExportRefused(Exception):
    """An export or download was refused; `message` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(REASONS[code])
        self.code = code
        self.message = REASONS[code]


def record_export(
    session: Session, campaign: Campaign, user_id: int, kind: str, *, threshold: int
) -> CampaignExport:
    """Record an export of `kind`: streamed now when small, else queued for a job with a token."""
    if kind not in EXPORT_KINDS:
        raise ExportRefused("kind")
    transactions.begin_write(session)
    total = export.row_count(session, campaign.id, kind)
    big = total > threshold
    record = CampaignExport(
        organization_id=campaign.organization_id,
        campaign_id=campaign.id,
        user_id=user_id,
        kind=kind,
        total=total,
        status="queued" if big else "streamed",
        token=secrets.token_urlsafe(32) if big else None,
        written=0 if big else total,
        finished_at=None if big else now(),
    )
    session.add(record)
    session.flush()
    log.info("user %s exports %s of campaign %s (%s rows)", user_id, kind, campaign.id, total)
    return record


def _progress(session: Session, export_id: int, **values: object) -> CampaignExport:
    """Save the export's progress or outcome in its own committed transaction."""
    transactions.begin_write(session)
    record = transactions.lock_row(session, CampaignExport, export_id)
    assert record is not None
    for name, value in values.items():
        setattr(record, name, value)
    session.commit()
    return record


def run_export(session: Session, export_id: int, folder: str) -> CampaignExport | None:
    """Write a queued export's CSV to `folder`, page by page; None when it is not queued."""
    transactions.begin_write(session)
    record = transactions.lock_row(session, CampaignExport, export_id)
    if record is None or record.status != "queued":
        session.rollback()
        return None
    record.status = "running"
    session.commit()
    remove_expired(session, now())
    campaign = session.get(Campaign, record.campaign_id)
    assert campaign is not None
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"export-{export_id}-{secrets.token_hex(8)}.csv")
    written = 0
    try:
        with open(path + ".part", "w", newline="", encoding="utf-8") as out:
            writer = export.csv_writer(out)
            for written, row in enumerate(export.rows_of(session, campaign, record.kind)):
                writer.writerow(row)
                if written and written % export.PAGE == 0:
                    _progress(session, export_id, written=written)
        os.replace(path + ".part", path)
    except Exception as exc:
        session.rollback()
        with contextlib.suppress(OSError):
            os.remove(path + ".part")
        log.exception("export %s failed", export_id)
        return _progress(session, export_id, status="failed", error=f"It failed: {exc}")
    at = now()
    return _progress(
        session,
        export_id,
        status="done",
        written=written,  # rows after the header
        path=path,
        finished_at=at,
        expires_at=at + VALID_FOR,
    )


def not_started(session: Session, export_id: int, error: str) -> None:
    """Mark a queued export failed because its job could not be started."""
    _progress(session, export_id, status="failed", error=error)


def download(
    session: Session, export_id: int, token: str, organization_id: int, at: datetime
) -> CampaignExport:
    """The finished export behind a download link; LookupError for a wrong id, token or org."""
    record = session.get(CampaignExport, export_id)
    if (
        record is None
        or record.organization_id != organization_id
        or not record.token
        or not secrets.compare_digest(record.token, token)
    ):
        raise LookupError(f"no export {export_id} with that token here")
    if record.status == "failed":
        raise ExportRefused("failed")
    if record.status != "done" or not record.path:
        raise ExportRefused("expired" if record.expires_at else "not_ready")
    if record.expires_at is None or record.expires_at <= at:
        raise ExportRefused("expired")
    return record


def remove_expired(session: Session, at: datetime) -> int:
    """Delete the files of exports whose link has expired; how many were removed."""
    transactions.begin_write(session)
    expired = session.scalars(
        select(CampaignExport).where(CampaignExport.expires_at <= at, CampaignExport.path != "")
    ).all()
    for record in expired:
        with contextlib.suppress(OSError):
            os.remove(record.path)
        record.path = ""
    session.commit()
    return len(expired)


def recent_exports(session: Session, campaign_id: int, limit: int = 20) -> list[CampaignExport]:
    """The campaign's latest exports, newest first: the audit the dashboard lists."""
    return list(
        session.scalars(
            select(CampaignExport)
            .where(CampaignExport.campaign_id == campaign_id)
            .order_by(CampaignExport.created_at.desc(), CampaignExport.id.desc())
            .limit(limit)
        )
    )
