"""Throwaway databases for benchmarks: a temp SQLite file, or a fresh PostgreSQL database."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from spoke.config import database_uri


@contextlib.contextmanager
def throwaway_postgres(server_url: str, prefix: str = "spoke_tmp") -> Iterator[str]:
    """Create a fresh database on the PostgreSQL server at `server_url`; drop it afterwards."""
    url = make_url(database_uri(server_url))
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def throwaway_database(kind: str) -> Iterator[str]:
    """Yield a database URL that is deleted afterwards ("sqlite" or "postgresql")."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{os.path.join(tmp, 'bench.db')}"
        return
    server = os.environ.get("TEST_DATABASE_URL") or os.environ.get("BENCH_DATABASE_URL")
    if not server:
        raise SystemExit("set TEST_DATABASE_URL to a PostgreSQL server URL")
    with throwaway_postgres(server, "spoke_bench") as url:
        yield url


def backends() -> list[str]:
    return ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
