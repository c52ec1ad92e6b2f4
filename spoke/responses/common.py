"""What the admin-side writers share: the refusal, the campaign lock, and ordering by position."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from spoke import transactions
from spoke.campaigns.service import ARCHIVED_NO_EDIT
from spoke.models import Campaign

DIRECTIONS = ("up", "down")


class ResponseError(Exception):
    """A refused change; `errors` maps a form field (or "status") to what to tell the admin."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def refuse(session: Session, errors: dict[str, str]) -> ResponseError:
    """Roll the write back and return the refusal to raise."""
    session.rollback()
    return ResponseError(errors)


def begin_campaign_edit(session: Session, campaign_id: int) -> Campaign:
    """Start the write and lock the campaign, so edits of its lists run one at a time."""
    transactions.begin_write(session)
    campaign = transactions.lock_row(session, Campaign, campaign_id)
    if campaign is None:
        raise refuse(session, {"status": "This campaign no longer exists."})
    if campaign.status == "archived":
        raise refuse(session, {"status": ARCHIVED_NO_EDIT})
    return campaign


def next_position(session: Session, column: Any, scope: ColumnElement[bool]) -> int:
    """The position after the last one in `scope` (0 for the first item)."""
    last = session.scalar(select(func.max(column)).where(scope))
    return 0 if last is None else last + 1


def move(session: Session, model: type, scope: ColumnElement[bool], item_id: int, direction: str):  # type: ignore[no-untyped-def]
    """Swap an item with its neighbour up or down, renumbering the list 0..n-1."""
    items = list(session.scalars(select(model).where(scope).order_by(model.position, model.id)))
    index = next(i for i, item in enumerate(items) if item.id == item_id)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(items):
        items[index], items[other] = items[other], items[index]
    for position, item in enumerate(items):
        item.position = position
    session.flush()
