"""Contact import: stream an uploaded CSV into a campaign's contacts, chunk by chunk.

No Flask request here. `create_import` records the upload; `run_import` (called by the job)
reads the file row by row and writes each chunk of ~CHUNK_SIZE rows in its own transaction,
so the progress bar moves while it runs and a failure keeps the chunks already committed.
"""

from __future__ import annotations

import io
import logging
import os
from collections import Counter
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from spoke import transactions
from spoke.clock import now
from spoke.contacts.bulk_insert import insert_contacts
from spoke.contacts.csv_reader import (
    EMPTY_FILE,
    HEADER_ONLY,
    Columns,
    ImportFailed,
    check_utf8,
    parse_row,
    read_header,
    records,
)
from spoke.models import Campaign, ContactImport, OptOut

log = logging.getLogger(__name__)

CHUNK_SIZE = 1000
MAX_REJECTED_ROWS = 1000
IMPORTABLE_STATUSES = ("draft", "started")
ARCHIVED = "This campaign is archived, so contacts can't be imported."


class ImportRefused(Exception):
    """The campaign cannot take an import now; the message says why."""


def create_import(
    session: Session, campaign_id: int, user_id: int | None, filename: str, path: str, size: int
) -> ContactImport:
    """Record a queued import of an uploaded file (refused unless draft or started)."""
    transactions.begin_write(session)
    campaign = transactions.lock_row(session, Campaign, campaign_id)
    if campaign is None:
        raise ImportRefused("That campaign no longer exists.")
    if campaign.status not in IMPORTABLE_STATUSES:
        raise ImportRefused(ARCHIVED)
    contact_import = ContactImport(campaign_id=campaign_id, user_id=user_id, status="queued")
    contact_import.filename, contact_import.path = filename[:300], path
    contact_import.total_bytes, contact_import.rejected_rows = size, []
    session.add(contact_import)
    session.flush()
    return contact_import


def run_import(session: Session, import_id: int, region: str = "US") -> ContactImport | None:
    """Import the file of a queued ContactImport, one transaction per chunk; record the result."""
    transactions.begin_write(session)
    contact_import = transactions.lock_row(session, ContactImport, import_id)
    if contact_import is None or contact_import.status != "queued":
        # Unknown, or already picked up (a retried job must not import twice).
        session.commit()
        return contact_import
    path = contact_import.path
    campaign = session.get(Campaign, contact_import.campaign_id)
    if campaign is None or campaign.status not in IMPORTABLE_STATUSES:
        session.rollback()
        _finish(session, import_id, "failed", ARCHIVED)
        _remove(path)
        return session.get(ContactImport, import_id)
    contact_import.status = "running"
    session.commit()
    try:
        _import_file(session, import_id, path, region)
    except ImportFailed as exc:
        _finish(session, import_id, "failed", str(exc))
    except Exception as exc:
        log.exception("contact import %s failed", import_id)
        _finish(session, import_id, "failed", f"The import stopped on an error: {exc}", kept=True)
    else:
        _finish(session, import_id, "done")
        _refresh_statistics(session)
    finally:
        _remove(path)
    return session.get(ContactImport, import_id)


INTERRUPTED = (
    "The import was interrupted (the server stopped while it ran). The contacts imported "
    "before that were kept; upload the file again to finish: they are skipped as duplicates."
)


def fail_interrupted(session: Session) -> int:
    """Mark imports left queued or running by a previous process as failed; return how many.

    Only for the embedded mode, where imports run on this process's threads: at start-up
    none of them can still be running.
    """
    transactions.begin_write(session)
    stuck = session.scalars(
        select(ContactImport).where(ContactImport.status.in_(("queued", "running")))
    ).all()
    for contact_import in stuck:
        contact_import.status = "failed"
        contact_import.error = INTERRUPTED
        contact_import.finished_at = now()
    session.commit()
    return len(stuck)


def _refresh_statistics(session: Session) -> None:
    """ANALYZE after a bulk load on PostgreSQL, so the first claims plan with real row counts.

    Autovacuum would get there within a minute or so; until then the planner believes the
    campaign has a handful of contacts and may pick plans that scan the whole table.
    """
    if transactions.is_postgres(session):
        session.execute(text("ANALYZE campaign_contact"))
        session.commit()


def _finish(
    session: Session, import_id: int, status: str, error: str = "", kept: bool = False
) -> None:
    session.rollback()
    transactions.begin_write(session)
    contact_import = transactions.lock_row(session, ContactImport, import_id)
    if contact_import is None:
        session.rollback()
        return
    contact_import.status = status
    if status == "done":
        contact_import.processed_bytes = contact_import.total_bytes
    if kept:
        error += (
            f" The {contact_import.imported:,} contacts imported before the error were kept;"
            " uploading the file again skips them as duplicates."
        )
    contact_import.error = error
    contact_import.finished_at = now()
    session.commit()


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    except OSError:
        log.warning("could not delete uploaded file %s", path, exc_info=True)


def _import_file(session: Session, import_id: int, path: str, region: str) -> None:
    check_utf8(path)
    with open(path, "rb") as raw:
        stream = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        # PostgreSQL text cannot hold NUL; drop it rather than fail a whole chunk.
        rows = records(line.replace("\x00", "") for line in stream)
        header = next(rows, None)
        if header is None:
            raise ImportFailed(EMPTY_FILE)
        columns = read_header(header[1])
        writer = _ChunkWriter(session, import_id, columns, region)
        chunk: list[tuple[int, list[str] | str]] = []
        for record in rows:
            chunk.append(record)
            if len(chunk) >= CHUNK_SIZE:
                writer.write(chunk, raw.tell())
                chunk = []
        if chunk:
            writer.write(chunk, raw.tell())
        if not writer.rows_seen:
            raise ImportFailed(HEADER_ONLY)


class _ChunkWriter:
    """Writes one chunk per transaction: opt-out lookup, bulk insert, progress update."""

    def __init__(self, session: Session, import_id: int, columns: Columns, region: str) -> None:
        self.session = session
        self.import_id = import_id
        self.columns = columns
        self.region = region
        self.rows_seen = 0
        self.names_recorded = not columns.custom

    def write(self, chunk: list[tuple[int, list[str] | str]], position: int) -> None:
        """Import one chunk of (row number, cells) in its own transaction and commit it."""
        session = self.session
        valid: list[dict[str, Any]] = []
        rejected: list[dict[str, Any]] = []
        for row_number, row in chunk:
            parsed = row if isinstance(row, str) else parse_row(row, self.columns, self.region)
            if isinstance(parsed, str):
                rejected.append({"row": row_number, "reason": parsed})
            else:
                valid.append(parsed)
        self.rows_seen += len(chunk)

        transactions.begin_write(session)
        contact_import = session.get(ContactImport, self.import_id, populate_existing=True)
        assert contact_import is not None
        campaign = session.get(Campaign, contact_import.campaign_id)
        assert campaign is not None
        cells = list({row["cell"] for row in valid})
        opted_out: set[str] = set()
        if cells:
            opted_out = set(
                session.scalars(
                    select(OptOut.cell).where(
                        OptOut.organization_id == campaign.organization_id, OptOut.cell.in_(cells)
                    )
                )
            )
        stamp = now()
        common = {"campaign_id": campaign.id, "message_status": "needs_message"}
        common.update(opted_out=False, created_at=stamp, updated_at=stamp)
        to_insert = [{**row, **common} for row in valid if row["cell"] not in opted_out]
        for row in to_insert:
            row["timezone"] = row["timezone"] or campaign.default_timezone
        zones = self._insert(to_insert)
        inserted = len(zones)
        if inserted and not self.names_recorded:
            self._record_custom_names(campaign.id)
        if zones:
            _record_zones(session, contact_import, campaign.id, zones)

        contact_import.rows_processed += len(chunk)
        contact_import.processed_bytes = min(position, contact_import.total_bytes or position)
        contact_import.imported += inserted
        contact_import.opted_out_skipped += len(valid) - len(to_insert)
        contact_import.duplicates += len(to_insert) - inserted
        contact_import.rejected += len(rejected)
        kept = list(contact_import.rejected_rows or [])
        if rejected and len(kept) < MAX_REJECTED_ROWS:
            contact_import.rejected_rows = kept + rejected[: MAX_REJECTED_ROWS - len(kept)]
        session.commit()

    def _insert(self, rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
        """Insert rows, skipping cells the campaign has already; (zone, source) of each new one."""
        return insert_contacts(self.session, rows)

    def _record_custom_names(self, campaign_id: int) -> None:
        campaign = transactions.lock_row(self.session, Campaign, campaign_id)
        names = list(campaign.custom_field_names or [])
        added = [name for name, _ in self.columns.custom if name not in names]
        if added:
            campaign.custom_field_names = names + added
        self.names_recorded = True


def _record_zones(
    session: Session, contact_import: ContactImport, campaign_id: int, zones: list[tuple[str, str]]
) -> None:
    """Count the chunk's contacts by time-zone source; add new zones to the campaign's list."""
    by_source = Counter(dict(contact_import.timezone_sources or {}))
    by_source.update(source for _zone, source in zones)
    contact_import.timezone_sources = dict(by_source)
    campaign = transactions.lock_row(session, Campaign, campaign_id)
    known = list(campaign.contact_timezones or [])
    added = sorted({zone for zone, _source in zones} - set(known))
    if added:
        campaign.contact_timezones = known + added
