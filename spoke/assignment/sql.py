"""The set-based statements assignment is made of, written once and shared by every rule."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from spoke.clock import now
from spoke.models import CampaignContact as CC

CONVERSATION_STATUSES = ("messaged", "needs_response", "convo")


def pool_initials(campaign_id: int) -> ColumnElement[bool]:
    """Unassigned contacts waiting for their initial (matches ix_contact_pool_needs_message)."""
    return and_(
        CC.campaign_id == campaign_id,
        CC.assignment_id.is_(None),
        CC.message_status == "needs_message",
        CC.opted_out.is_(False),
    )


def pool_replies(campaign_id: int) -> ColumnElement[bool]:
    """Unassigned unhandled replies (matches ix_contact_pool_needs_response)."""
    return and_(
        CC.campaign_id == campaign_id,
        CC.assignment_id.is_(None),
        CC.message_status == "needs_response",
    )


def held_unsent(assignment_id: int) -> ColumnElement[bool]:
    return and_(
        CC.assignment_id == assignment_id,
        CC.message_status == "needs_message",
        CC.opted_out.is_(False),
    )


def held_unhandled(assignment_id: int) -> ColumnElement[bool]:
    return and_(CC.assignment_id == assignment_id, CC.message_status == "needs_response")


def held_conversations(assignment_id: int) -> ColumnElement[bool]:
    return and_(
        CC.assignment_id == assignment_id, CC.message_status.in_(CONVERSATION_STATUSES)
    )


def count(session: Session, where: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count()).select_from(CC).where(where)) or 0


def move(
    session: Session,
    where: ColumnElement[bool],
    to_assignment_id: int | None,
    *,
    limit: int | None = None,
    order_by: Any = None,
    skip_locked: bool = False,
) -> list[int]:
    """Move contacts matching `where` to `to_assignment_id` (None = the pool) in one statement.

    The guarded shape from DESIGN.md §5: the subquery picks rows (locking them on
    PostgreSQL, skipping rows other transactions hold when `skip_locked`), and the outer
    UPDATE repeats `where`, so a row that changed hands in between is left alone.
    """
    pick = select(CC.id).where(where)
    if order_by is not None:
        pick = pick.order_by(*order_by) if isinstance(order_by, tuple) else pick.order_by(order_by)
    if limit is not None:
        pick = pick.limit(limit)
    # A CTE with FOR UPDATE runs exactly once. As an `IN (subquery)` PostgreSQL may rescan
    # the subquery per row, and each rescan would pick (and lock) the next LIMIT rows.
    picked = pick.with_for_update(skip_locked=skip_locked).cte("picked")
    stmt = (
        update(CC)
        .where(CC.id == picked.c.id, where)
        .values(assignment_id=to_assignment_id, updated_at=now())
        .returning(CC.id)
        .execution_options(synchronize_session=False)
    )
    return list(session.scalars(stmt))


def insert_ignore(session: Session, model: type, values: dict[str, Any]) -> bool:
    """INSERT a row unless a unique constraint already holds it; True if inserted."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(model).values(**values).on_conflict_do_nothing()
    return (session.execute(stmt).rowcount or 0) > 0
