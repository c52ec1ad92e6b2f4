"""Reading an uploaded contacts CSV: encoding check, header, rows, per-row validation.

Pure functions over text; the import itself (transactions, progress) is in spoke.contacts.importer.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from spoke.contacts import timezones

REQUIRED_COLUMNS = ("firstName", "lastName", "cell")
BUILTIN_COLUMNS = (*REQUIRED_COLUMNS, "zip", "timezone")
# Column lengths of campaign_contact (PostgreSQL enforces them; a long value rejects the row).
MAX_LENGTHS = {"firstName": 200, "lastName": 200, "zip": 20}

EMPTY_FILE = "The file is empty."
HEADER_ONLY = "The file has a header but no rows."


class ImportFailed(Exception):
    """The file cannot be imported; the message is written for the person who uploaded it."""


@dataclass
class Columns:
    """Where each known column sits in a row, and the custom columns in file order."""

    index: dict[str, int]
    custom: list[tuple[str, int]] = field(default_factory=list)


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
    try:
        zone, source = timezones.resolve(value(index.get("timezone")), values["zip"], number)
    except timezones.InvalidZone as exc:
        return str(exc)
    return {
        "first_name": values["firstName"],
        "last_name": values["lastName"],
        "zip": values["zip"],
        "cell": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        "custom_fields": {name: value(i) for name, i in columns.custom},
        # None: the campaign's default, filled in by the importer.
        "timezone": zone,
        "timezone_source": source,
    }


def records(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
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
