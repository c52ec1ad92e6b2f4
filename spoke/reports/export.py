"""CSV exports of a campaign's contacts and messages: rows read page by page, never all at once.

Small exports stream to the browser as they are read; above `JOB_THRESHOLD` rows the export
runs as a job that writes a file (see `spoke.reports.export_jobs`). Either way each export is
recorded (CampaignExport: who exported what, and when).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, case, func, select
from sqlalchemy.orm import Session, aliased

from spoke.models import Assignment, Campaign, CampaignContact, Message, User
from spoke.reports import answers

JOB_THRESHOLD = 10_000  # more rows than this: a job with a progress bar and a download link
PAGE = 1000  # rows read per query (keyset pages on (campaign_id, id))
# OWASP CSV injection: a cell starting with one of these could run as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain number ("+15551234567", "-3") runs nothing, and a cell number must stay importable.
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
STATUS_LABELS = {
    "needs_message": "Needs a first text",
    "messaged": "Texted, no reply yet",
    "needs_response": "Unhandled reply",
    "convo": "In conversation",
    "closed": "Closed",
}
KIND_LABELS = {"contacts": "Contacts", "messages": "Messages"}


def neutralize(value: Any) -> str:
    """Write `value` as CSV text that no spreadsheet runs as a formula (a leading ')."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S") if at else ""


def contact_header(session: Session, campaign: Campaign) -> list[str]:
    """The contacts export's columns: names, cell, custom fields, status, ... , activity."""
    return [
        "First name",
        "Last name",
        "Cell",
        "Zip",
        *campaign.custom_field_names,
        "Status",
        "Opted out",
        "Texter",
        *(heading for _, heading in answers.question_columns(session, campaign.id)),
        "Messages sent",
        "Messages received",
        "Last message (UTC)",
    ]


def _message_counts(session: Session, contact_ids: Sequence[int]) -> dict[int, tuple]:  # type: ignore[type-arg]
    """Per contact of this page: (sent, received, last message time)."""
    rows = session.execute(
        select(
            Message.contact_id,
            func.sum(case((Message.direction == "out", 1), else_=0)),
            func.sum(case((Message.direction == "in", 1), else_=0)),
            func.max(Message.created_at),
        )
        .where(Message.contact_id.in_(contact_ids))
        .group_by(Message.contact_id)
    ).all()
    return {cid: (int(s or 0), int(r or 0), last) for cid, s, r, last in rows}


def _pages(session: Session, query: Select, id_column: Any, page: int) -> Iterator[Sequence[Row]]:  # type: ignore[type-arg]
    """Run `query` a page at a time, each page after the last id seen (keyset pagination)."""
    after = 0
    while True:
        rows = session.execute(query.where(id_column > after).order_by(id_column).limit(page)).all()
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def contact_rows(session: Session, campaign: Campaign, page: int = PAGE) -> Iterator[list[str]]:
    """Yield one row per contact of the campaign, in id order, a page at a time."""
    fields = list(campaign.custom_field_names)
    questions = [qid for qid, _ in answers.question_columns(session, campaign.id)]
    cc = CampaignContact
    query = (
        select(
            cc.id,
            cc.first_name,
            cc.last_name,
            cc.cell,
            cc.zip,
            cc.custom_fields,
            cc.message_status,
            cc.opted_out,
            User.name,
        )
        .outerjoin(Assignment, Assignment.id == cc.assignment_id)
        .outerjoin(User, User.id == Assignment.user_id)
        .where(cc.campaign_id == campaign.id)
    )
    for contacts in _pages(session, query, cc.id, page):
        ids = [c.id for c in contacts]
        counts = _message_counts(session, ids)
        said = answers.contact_answers(session, campaign.id, ids)
        for cid, first, last_name, cell, zip_code, custom, status, opted_out, holder in contacts:
            sent, received, last = counts.get(cid, (0, 0, None))
            custom = custom or {}
            yield [
                first,
                last_name,
                cell,
                zip_code,
                *(str(custom.get(name, "")) for name in fields),
                STATUS_LABELS.get(status, status),
                "yes" if opted_out else "no",
                holder or "",
                *(said.get(cid, {}).get(qid, "") for qid in questions),
                str(sent),
                str(received),
                _when(last),
            ]


MESSAGE_HEADER = [
    "Message id",
    "Time (UTC)",
    "Direction",
    "First name",
    "Last name",
    "Cell",
    "Texter",
    "Text",
    "Status",
    "Error",
]


def message_rows(session: Session, campaign: Campaign, page: int = PAGE) -> Iterator[list[str]]:
    """Yield one row per message of the campaign, in id order, a page at a time."""
    texter = aliased(User)
    query = (
        select(
            Message.id,
            Message.created_at,
            Message.direction,
            CampaignContact.first_name,
            CampaignContact.last_name,
            CampaignContact.cell,
            texter.name,
            Message.body,
            Message.status,
            Message.error,
        )
        .join(CampaignContact, CampaignContact.id == Message.contact_id)
        .outerjoin(texter, texter.id == Message.user_id)
        .where(Message.campaign_id == campaign.id)
    )
    for rows in _pages(session, query, Message.id, page):
        for mid, at, direction, first, last, cell, name, body, status, error in rows:
            yield [
                str(mid),
                _when(at),
                "sent" if direction == "out" else "received",
                first,
                last,
                cell,
                name or "",
                body,
                status,
                error,
            ]


def row_count(session: Session, campaign_id: int, kind: str) -> int:
    """How many rows the export of `kind` has."""
    model = CampaignContact if kind == "contacts" else Message
    where = model.campaign_id == campaign_id
    return session.scalar(select(func.count()).select_from(model).where(where)) or 0


def rows_of(session: Session, campaign: Campaign, kind: str) -> Iterator[list[str]]:
    """The export of `kind` as rows, its header first."""
    if kind == "contacts":
        yield contact_header(session, campaign)
        yield from contact_rows(session, campaign)
    else:
        yield MESSAGE_HEADER
        yield from message_rows(session, campaign)


def csv_writer(out: Any) -> Any:
    """A CSV writer that neutralises every cell (see `neutralize`)."""
    writer = csv.writer(out, lineterminator="\r\n")

    class _Neutral:
        def writerow(self, row: list[str]) -> None:
            writer.writerow([neutralize(cell) for cell in row])

    return _Neutral()


def csv_chunks(rows: Iterator[list[str]], every: int = 200) -> Iterator[str]:
    """CSV text of `rows`, every cell neutralised, in chunks of `every` rows."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    for i, row in enumerate(rows, 1):
        writer.writerow(row)
        if i % every == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def filename(campaign: Campaign, kind: str, at: datetime) -> str:
    """The download's file name, e.g. "campaign-12-contacts-2026-12-02.csv"."""
    return f"campaign-{campaign.id}-{kind}-{at:%Y-%m-%d}.csv"
