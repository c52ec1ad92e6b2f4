"""Transactions that write: SQLite gets BEGIN IMMEDIATE, PostgreSQL gets row locks.

SQLite has one writer. A transaction that starts as a reader and later writes can fail
with SQLITE_BUSY when another writer got in first, so every domain write starts its
transaction with BEGIN IMMEDIATE (taking the write lock up front, waiting on the busy
timeout). Readers keep plain BEGIN so page loads never queue behind writers.
"""

from __future__ import annotations

import contextvars
import sqlite3

from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session

_immediate: contextvars.ContextVar[bool] = contextvars.ContextVar("immediate", default=False)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    if not isinstance(dbapi_conn, sqlite3.Connection):
        return
    # Let us emit BEGIN ourselves (pysqlite's own BEGIN is deferred and sometimes late).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn) -> None:  # type: ignore[no-untyped-def]
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


def begin_write(session: Session) -> None:
    """Start a fresh write transaction on `session` (ending any read transaction first).

    Domain functions call this first, so their whole body is one transaction that holds
    SQLite's write lock from its first statement.
    """
    if isinstance(session, scoped_session):
        session = session()
    if session.in_transaction():
        session.commit()
    token = _immediate.set(True)
    try:
        session.connection()
    finally:
        _immediate.reset(token)


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def lock_row(session: Session, model: type, row_id: int):  # type: ignore[no-untyped-def]
    """Load one row locked for this transaction (FOR UPDATE on PostgreSQL).

    On SQLite the write lock from `begin_write` already serialises writers.
    """
    return session.scalars(
        select(model)
        .where(model.id == row_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
