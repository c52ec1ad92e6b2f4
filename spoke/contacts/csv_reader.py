"""Reading an uploaded contacts CSV: encoding check, header, rows, per-row validation.

Pure functions over text; the import itself (transactions, progress) is in spoke.contacts.importer.
"""

from __future__ import annotations

import codecs
import csv
from collections import deque
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
# A quoted value may span lines (an address, a note); a record longer than this has a quote
# left open, which would otherwise swallow every row after it.
MAX_RECORD_LINES = 20
UNCLOSED_QUOTE = (
    'a quote (") opened on line {line} is never closed, so this row was skipped;'
    " the rows after it were read"
)


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


def read_header(row: list[str] | str) -> Columns:
    """Map the header row to column positions; fail naming any missing required column."""
    if isinstance(row, str):  # the reason records() could not read it
        raise ImportFailed(
            'The header row (row 1, line 1) has a quote (") that is never closed.'
            " Nothing was imported."
        )
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


class _RecordTooLong(Exception):
    """The record being read spans more than MAX_RECORD_LINES lines."""


class _Lines:
    """The file's lines for csv.reader, remembering those of the record being read."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self._replay: deque[str] = deque()
        self.consumed = 0  # lines handed out before the current record
        self.record: list[str] = []
        self.hit_end = False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if len(self.record) >= MAX_RECORD_LINES:
            raise _RecordTooLong
        if self._replay:
            line = self._replay.popleft()
        else:
            try:
                line = next(self._lines)
            except StopIteration:
                self.hit_end = True
                raise
        self.record.append(line)
        return line

    @property
    def first_line(self) -> int:
        return self.consumed + 1

    def start_record(self) -> None:
        self.consumed += len(self.record)
        self.record, self.hit_end = [], False

    def skip_first_line(self) -> None:
        """Drop the record's first line and read the others again."""
        self._replay.extendleft(reversed(self.record[1:]))
        self.record = self.record[:1]


def _broken_quote(text: str) -> bool:
    """True when a quote in this record (as csv reads it, not strict) was left open.

    Either the record ends inside a quoted value, or a quoted value that spans lines is
    closed by a quote with no delimiter after it: the quote that opened it was never
    closed, and csv ran the next rows into it until the next row's opening quote.
    """
    state, spans_lines = "start", False
    for ch in text:
        if state == "quoted":
            if ch == '"':
                state = "closing"
            elif ch in "\r\n":
                spans_lines = True
        elif state == "closing" and ch == '"':
            state = "quoted"  # "" is a quote inside the value
        elif state == "closing" and spans_lines and ch not in ",\r\n":
            return True
        elif ch in ",\r\n":
            state = "start"
        elif state == "start" and ch == '"':
            state, spans_lines = "quoted", False
        else:
            state = "field"
    return state == "quoted"


def records(lines: Iterable[str]) -> Iterator[tuple[int, list[str] | str]]:
    """Yield (spreadsheet row number, cells) per CSV record; blank rows count, are skipped.

    A record whose quote is never closed (it reaches the end of the file, runs past
    MAX_RECORD_LINES, or is "closed" by the next row's opening quote) yields (row number,
    the reason) instead, and reading resumes on the line after the one where it opened.
    """
    source = _Lines(lines)
    reader = csv.reader(source)
    row_number = 0
    while True:
        source.start_record()
        try:
            row: list[str] | None = next(reader)
        except StopIteration:
            return
        except _RecordTooLong:
            row = None
        except csv.Error as exc:
            raise ImportFailed(
                f"Row {row_number + 1} (line {source.first_line}) is not valid CSV: {exc}."
            ) from None
        row_number += 1
        if row is None or (
            (source.hit_end or len(source.record) > 1) and _broken_quote("".join(source.record))
        ):
            yield row_number, UNCLOSED_QUOTE.format(line=source.first_line)
            source.skip_first_line()
            reader = csv.reader(source)  # a fresh parser: the old one is inside the quote
        elif any(cell.strip() for cell in row):
            yield row_number, row
