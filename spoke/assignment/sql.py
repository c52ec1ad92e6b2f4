"""The set-based statements assignment is made of, written once and shared by every rule."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column, not_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement as _Element
from sqlalchemy.sql.selectable import ScalarSelect
from sqlalchemy.sql.visitors import InternalTraversal

from spoke.clock import now
from spoke.models import CampaignContact as CC

CONVERSATION_STATUSES = ("messaged", "needs_response", "convo")


def status_is(status: str) -> ColumnElement[bool]:
    """`message_status = '<status>'` as a literal, so the partial indexes' predicates match.

    A bound parameter cannot prove a partial index's WHERE (on PostgreSQL's generic plans or
    on SQLite), so the status constants are inlined. They come from code, never from input.
    """
    assert status.isidentifier(), status
    return CC.message_status == literal_column(f"'{status}'")


NOT_OPTED_OUT = not_(CC.opted_out)  # spelled as in ix_contact_pool_needs_message


class _ArrayOf(_Element):  # type: ignore[type-arg]
    """PostgreSQL `ARRAY(subquery)`: evaluated once, as an InitPlan."""

    inherit_cache = True
    # Part of the statement cache key: without it SQLAlchemy cannot cache any statement
    # holding this element and compiles every claim, release chunk and move afresh.
    _traverse_internals = [("subquery", InternalTraversal.dp_clauseelement)]

    def __init__(self, subquery: ScalarSelect) -> None:  # type: ignore[type-arg]
        self.subquery = subquery


@compiles(_ArrayOf, "postgresql")
def _compile_array_of(element: _ArrayOf, compiler: Any, **kw: Any) -> str:
    return f"ARRAY{compiler.process(element.subquery, **kw)}"


def pool_initials(campaign_id: int) -> ColumnElement[bool]:
    """Unassigned contacts waiting for their initial (matches ix_contact_pool_needs_message)."""
    return and_(
        CC.campaign_id == campaign_id,
        CC.assignment_id.is_(None),
        status_is("needs_message"),
        NOT_OPTED_OUT,
    )


def pool_replies(campaign_id: int) -> ColumnElement[bool]:
    """Unassigned unhandled replies (matches ix_contact_pool_needs_response)."""
    return and_(
        CC.campaign_id == campaign_id,
        CC.assignment_id.is_(None),
        status_is("needs_response"),
    )


def held_unsent(assignment_id: int) -> ColumnElement[bool]:
    return and_(
        CC.assignment_id == assignment_id,
        status_is("needs_message"),
        NOT_OPTED_OUT,
    )


def held_unhandled(assignment_id: int) -> ColumnElement[bool]:
    return and_(CC.assignment_id == assignment_id, status_is("needs_response"))


def held_conversations(assignment_id: int) -> ColumnElement[bool]:
    return and_(CC.assignment_id == assignment_id, CC.message_status.in_(CONVERSATION_STATUSES))


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

    The guarded shape from DESIGN.md §5: a subquery picks the rows (locking them on
    PostgreSQL, skipping rows other transactions hold when `skip_locked`), so a row that
    changed hands in between is left alone.

    On PostgreSQL the pick is `id = ANY(ARRAY(subquery))`: an InitPlan that runs exactly once.
    Written as `id IN (subquery)` the planner may rescan the subquery per row, and each
    rescan locks the next LIMIT rows, so one claim could take the whole pool.
    """
    pick = select(CC.id).where(where)
    if order_by is not None:
        pick = pick.order_by(*order_by) if isinstance(order_by, tuple) else pick.order_by(order_by)
    if limit is not None:
        pick = pick.limit(limit)
    picked = pick.with_for_update(skip_locked=skip_locked).scalar_subquery()
    if session.get_bind().dialect.name == "postgresql":
        # The picked rows are locked, and FOR UPDATE re-checked `where` on their newest
        # version while locking, so they still match: the UPDATE needs only their ids
        # (which also lets it use the primary key whatever the statistics say).
        guarded = CC.id == func.any(_ArrayOf(picked))
    else:
        # SQLite evaluates an uncorrelated IN subquery once and has one writer, which holds
        # the lock from BEGIN IMMEDIATE; repeating `where` still guards the row.
        guarded = and_(CC.id.in_(picked), where)
    stmt = (
        update(CC)
        .where(guarded)
        .values(
            assignment_id=to_assignment_id,
            assigned_at=None if to_assignment_id is None else now(),
            updated_at=now(),
        )
        .returning(CC.id)
        .execution_options(synchronize_session=False)
    )
    return list(session.scalars(stmt))


def insert_ignore(session: Session, model: type, values: dict[str, Any]) -> bool:
    """INSERT a row unless a unique constraint already holds it; True if inserted."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # RETURNING, not rowcount: psycopg 3 reports -1 for this statement.
    stmt = insert(model).values(**values).on_conflict_do_nothing().returning(literal_column("1"))
    return session.execute(stmt).first() is not None
