"""Contact import: stream an uploaded CSV into a campaign's contacts, chunk by chunk.

No Flask request here. `create_import` records the upload; `run_import` (called by the job)
reads the file row by row and writes each chunk of ~CHUNK_SIZE rows in its own transaction,
so the progress bar moves while it runs and a failure keeps the chunks already committed.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from spoke import db_tx
from spoke.clock import now
from spoke.models import Campaign, CampaignContact, ContactImport, OptOut

log = logging.getLogger(__name__)

CHUNK_SIZE = 1000
MAX_REJECTED_ROWS = 1000
REQUIRED_COLUMNS = ("firstName", "lastName", "cell")
BUILTIN_COLUMNS = (*REQUIRED_COLUMNS, "zip")
IMPORTABLE_STATUSES = ("draft", "started")
# Column lengths of campaign_contact (PostgreSQL enforces them; a long value rejects the row).
MAX_LENGTHS = {"firstName": 200, "lastName": 200, "zip": 20}

EMPTY_FILE = "The file is empty."
HEADER_ONLY = "The file has a header but no rows."
ARCHIVED = "This campaign is archived, so contacts can't be imported."


class ImportRefused(Exception):
    """The campaign cannot take an import now; the message says why."""


class ImportFailed(Exception):
    """The file cannot be imported; the message is written for the person who uploaded it."""


@dataclass
class Columns:
    """Where each known column sits in a row, and the custom columns in file order."""

    index: dict[str, int]
    custom: list[tuple[str, int]] = field(default_factory=list)


def create_import(
    session: Session, campaign_id: int, user_id: int | None, filename: str, path: str, size: int
) -> ContactImport:
    """Record a queued import of an uploaded file (refused unless draft or started)."""
    db_tx.begin_write(session)
    campaign = db_tx.lock_row(session, Campaign, campaign_id)
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
    db_tx.begin_write(session)
    contact_import = db_tx.lock_row(session, ContactImport, import_id)
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
    finally:
        _remove(path)
    return session.get(ContactImport, import_id)


def _finish(
    session: Session, import_id: int, status: str, error: str = "", kept: bool = False
) -> None:
    session.rollback()
    db_tx.begin_write(session)
    contact_import = db_tx.lock_row(session, ContactImport, import_id)
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


def check_utf8(path: str) -> None:
    """Fail before importing anything when the file is not UTF-8 (streams; O(1) memory)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with open(path, "rb") as raw:
        while True:
            block = raw.read(1 << 20)
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                line += block.count(b"\n", 0, exc.start)
                raise ImportFailed(
                    f"The file is not UTF-8 text (first unreadable character on line {line})."
                    ' Save it from your spreadsheet as "CSV UTF-8" and upload it again.'
                ) from None
            if not block:
                return
            line += block.count(b"\n")


def read_header(row: list[str]) -> Columns:
    """Map the header row to column positions; fail naming any missing required column."""
    index: dict[str, int] = {}
    for position, name in enumerate(cell.strip() for cell in row):
        if name and name not in index:
            index[name] = position
    missing = [name for name in REQUIRED_COLUMNS if name not in index]
    if missing:
        found = ", ".join(index) or "no column names"
        raise ImportFailed(
            f"Missing required column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}."
            f" The header row (row 1) has: {found}. Nothing was imported."
        )
    custom = [(name, i) for name, i in index.items() if name not in BUILTIN_COLUMNS]
    return Columns(index=index, custom=custom)


def parse_row(row: list[str], columns: Columns, region: str) -> dict[str, Any] | str:
    """Return the contact's values, or the reason the row is rejected."""
    width = len(row)

    def value(position: int | None) -> str:
        return row[position].strip() if position is not None and position < width else ""

    index = columns.index
    raw_cell = value(index["cell"])
    if not raw_cell:
        return "missing cell"
    try:
        number = phonenumbers.parse(raw_cell, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        return f"invalid phone number: {raw_cell[:40]}"
    values = {name: value(index.get(name)) for name in ("firstName", "lastName", "zip")}
    for name, limit in MAX_LENGTHS.items():
        if len(values[name]) > limit:
            return f"{name} is longer than {limit} characters"
    return {
        "first_name": values["firstName"],
        "last_name": values["lastName"],
        "zip": values["zip"],
        "cell": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        "custom_fields": {name: value(i) for name, i in columns.custom},
    }


def _records(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """Yield (spreadsheet row number, cells) per CSV record; blank rows count, are skipped."""
    reader = csv.reader(lines)
    row_number = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFailed(f"Row {row_number + 1} is not valid CSV: {exc}.") from None
        row_number += 1
        if any(cell.strip() for cell in row):
            yield row_number, row


def _import_file(session: Session, import_id: int, path: str, region: str) -> None:
    check_utf8(path)
    with open(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        # PostgreSQL text cannot hold NUL; drop it rather than fail a whole chunk.
        records = _records(line.replace("\x00", "") for line in text)
        header = next(records, None)
        if header is None:
            raise ImportFailed(EMPTY_FILE)
        columns = read_header(header[1])
        writer = _ChunkWriter(session, import_id, columns, region)
        chunk: list[tuple[int, list[str]]] = []
        for record in records:
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

    def write(self, chunk: list[tuple[int, list[str]]], position: int) -> None:
        """Import one chunk of (row number, cells) in its own transaction and commit it."""
        session = self.session
        valid: list[dict[str, Any]] = []
        rejected: list[dict[str, Any]] = []
        for row_number, row in chunk:
            parsed = parse_row(row, self.columns, self.region)
            if isinstance(parsed, str):
                rejected.append({"row": row_number, "reason": parsed})
            else:
                valid.append(parsed)
        self.rows_seen += len(chunk)

        db_tx.begin_write(session)
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
        inserted = self._insert(to_insert)
        if inserted and not self.names_recorded:
            self._record_custom_names(campaign.id)

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

    def _insert(self, rows: list[dict[str, Any]]) -> int:
        """Insert rows, skipping cells the campaign has already; return how many went in."""
        if not rows:
            return 0
        dialect = postgresql if db_tx.is_postgres(self.session) else sqlite
        statement = (
            dialect.insert(CampaignContact)
            .on_conflict_do_nothing(index_elements=["campaign_id", "cell"])
            .returning(CampaignContact.id)
        )
        return len(self.session.execute(statement, rows).all())

    def _record_custom_names(self, campaign_id: int) -> None:
        campaign = db_tx.lock_row(self.session, Campaign, campaign_id)
        names = list(campaign.custom_field_names or [])
        added = [name for name, _ in self.columns.custom if name not in names]
        if added:
            campaign.custom_field_names = names + added
        self.names_recorded = True
