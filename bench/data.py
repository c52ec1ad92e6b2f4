"""Benchmark data: one started campaign of N contacts with a realistic status mix.

The schema is built by the migrations (`flask db upgrade`), so the indexes are the real
ones. Rows go in with COPY on PostgreSQL (psycopg 3 `cursor.copy`) and executemany on
SQLite. Contact i (0-based, id i + 1) is laid out by formula, so tests can check the mix:

- status by i % 100: 60 needs_message, 25 messaged, 8 needs_response, 5 convo, 2 closed
  (the last of those opted out, and its cell on the organization's opt-out list);
- holder by (i // 100) % 10: 0-2 the "heavy" texter (30% of everything; 300,000 at 1M),
  else needs_message waits in the pool, needs_response is held (stale, releasable) when
  that digit is odd and waits in the pool when even, and the rest is held by texter i % T;
- messages: one outbound per texted contact, plus the reply (needs_response) and the
  answer (convo).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import text
from werkzeug.security import generate_password_hash

from spoke import create_app
from spoke.clock import now
from spoke.extensions import db
from spoke.models import Assignment, Campaign, Membership, Organization, User

log = logging.getLogger("bench.data")

PASSWORD = "bench-password"
TEXTERS = 196  # regular texters, each with an assignment; the HTTP load logs some in
CLAIMERS = 4  # texters holding nothing, so every claim they try is a full batch
STATUS_MIX = (  # (status, share of 100)
    ("needs_message", 60),
    ("messaged", 25),
    ("needs_response", 8),
    ("convo", 5),
    ("closed", 2),
)
_STATUS_BY_SLOT = [s for s, n in STATUS_MIX for _ in range(n)]
CONTACT_COLUMNS = (
    "id, campaign_id, first_name, last_name, cell, zip, custom_fields, assignment_id, "
    "assigned_at, message_status, opted_out, last_inbound_at, last_outbound_at, "
    "created_at, updated_at, timezone, timezone_source"
)
# Four US zones, as a national list would have them (the claim's open-zone list is these).
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
MESSAGE_COLUMNS = (
    "contact_id, campaign_id, direction, body, user_id, status, status_at, attempts, "
    "error, error_detail, created_at, updated_at"
)
FIRST_NAMES = ("Ann", "Ben", "Cleo", "Dan", "Eve", "Finn", "Gia", "Hal")


@dataclass
class Dataset:
    """What a benchmark needs to know about the generated data."""

    url: str
    kind: str
    contacts: int
    org_id: int = 0
    campaign_id: int = 0
    admin_id: int = 0
    heavy_id: int = 0
    texter_ids: list[int] = field(default_factory=list)
    claimer_ids: list[int] = field(default_factory=list)
    assignment_of: dict[int, int] = field(default_factory=dict)  # user id -> assignment id
    seconds: float = 0.0

    def email(self, user_id: int) -> str:
        return f"u{user_id}@bench.example"


def status_of(i: int) -> str:
    return _STATUS_BY_SLOT[i % 100]


def holder_of(i: int, ds: Dataset) -> int | None:
    """The user id holding contact i, or None when it waits in the pool."""
    digit = (i // 100) % 10
    if digit < 3:
        return ds.heavy_id
    status = status_of(i)
    if status == "needs_message" or (status == "needs_response" and digit % 2 == 0):
        return None
    return ds.texter_ids[i % len(ds.texter_ids)]


def contact_rows(ds: Dataset, at: datetime) -> Iterator[tuple[Any, ...]]:
    """One tuple per contact, in CONTACT_COLUMNS order (Python values)."""
    day_ago = at - timedelta(days=1)
    for i in range(ds.contacts):
        status = status_of(i)
        holder = holder_of(i, ds)
        inbound = outbound = None
        if status != "needs_message":
            outbound = at - timedelta(hours=12)
        if status in ("needs_response", "convo"):
            inbound = at - timedelta(minutes=120 + i % 600)
            if status == "convo":
                outbound = inbound + timedelta(minutes=1)
        yield (
            i + 1,
            ds.campaign_id,
            FIRST_NAMES[i % len(FIRST_NAMES)],
            f"Last{i}",
            f"+1555{i:07d}",
            f"{10000 + i % 89999:05d}",
            "{}",
            None if holder is None else ds.assignment_of[holder],
            None if holder is None else day_ago,
            status,
            i % 100 == 99,
            inbound,
            outbound,
            day_ago,
            day_ago,
            ZONES[i % len(ZONES)],
            "zip",
        )


def message_rows(ds: Dataset, at: datetime) -> Iterator[tuple[Any, ...]]:
    """The conversations' messages, in MESSAGE_COLUMNS order."""
    for row in contact_rows(ds, at):
        contact_id, status, inbound, outbound = row[0], row[9], row[11], row[12]
        if status == "needs_message":
            continue
        sender = ds.texter_ids[contact_id % len(ds.texter_ids)]
        first_out = at - timedelta(hours=12)
        texts = [("out", "Hi, this is a volunteer. Can we count on your vote?", first_out)]
        if inbound is not None:
            texts.append(("in", "Yes, what time do polls open?", inbound))
        if status == "convo":
            texts.append(("out", "7am to 8pm. Thank you!", outbound))
        for direction, body, when in texts:
            yield (
                contact_id,
                ds.campaign_id,
                direction,
                body,
                sender if direction == "out" else None,
                "delivered" if direction == "out" else "received",
                when,
                1 if direction == "out" else 0,
                "",
                "",
                when,
                when,
            )


def bench_app(url: str, **config: Any) -> Flask:
    """The app on `url`, configured like production (fake provider, no Redis)."""
    settings: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench",
        "SMS_PROVIDER": "fake",
        "REDIS_URL": "",
        "JOBS_IN_THREAD": False,
    }
    if url.startswith("postgresql"):
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": 20, "max_overflow": 20}
    settings.update(config)
    return create_app(settings)


def _people(ds: Dataset) -> None:
    """The organization, its admin, texters and the started campaign with assignments."""
    org = Organization(name="Bench Org")
    db.session.add(org)
    db.session.flush()
    campaign = Campaign(
        organization_id=org.id,
        title=f"Bench {ds.contacts:,}",
        status="started",
        started_at=now(),
        script="Hi {firstName}, this is {texterFirstName}. Can we count on your vote?",
        dynamic_initials_enabled=True,
        dynamic_replies_enabled=True,
        release_unhandled_enabled=True,
        release_unhandled_minutes=30,
        # These paths are measured without texting hours (their own bench is claims_hours).
        texting_hours_enforced=False,
        contact_timezones=list(ZONES),
    )
    db.session.add(campaign)
    db.session.flush()
    # A cheap hash: logging in is not what the load measures (scrypt would queue 50 logins).
    hashed = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    users: list[tuple[User, str]] = []
    roles = ["owner"] + ["texter"] * (1 + TEXTERS + CLAIMERS)
    for n, role in enumerate(roles):
        user = User(email=f"bench{n}@bench.example", name=f"Bench {n}", password_hash=hashed)
        db.session.add(user)
        users.append((user, role))
    db.session.flush()
    for user, role in users:
        user.email = ds.email(user.id)
        db.session.add(Membership(organization_id=org.id, user_id=user.id, role=role))
    texters = [u for u, role in users if role == "texter"]
    for user in texters:
        assignment = Assignment(
            user_id=user.id,
            campaign_id=campaign.id,
            can_claim_initials=True,
            can_claim_replies=True,
        )
        db.session.add(assignment)
        db.session.flush()
        ds.assignment_of[user.id] = assignment.id
    ds.org_id, ds.campaign_id, ds.admin_id = org.id, campaign.id, users[0][0].id
    ds.heavy_id = texters[0].id
    ds.texter_ids = [u.id for u in texters[1 : 1 + TEXTERS]]
    ds.claimer_ids = [u.id for u in texters[1 + TEXTERS :]]
    db.session.commit()


def _copy_postgres(table: str, columns: str, rows: Iterator[tuple[Any, ...]]) -> None:
    raw = db.engine.raw_connection()
    try:
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, bool):
        return int(value)
    return value


def _insert_sqlite(table: str, columns: str, rows: Iterator[tuple[Any, ...]]) -> None:
    marks = ", ".join("?" for _ in columns.split(","))
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("BEGIN")
        batch: list[tuple[Any, ...]] = []
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
        for row in rows:
            batch.append(tuple(_sqlite_value(v) for v in row))
            if len(batch) == 20_000:
                cur.executemany(sql, batch)
                batch.clear()
        cur.executemany(sql, batch)
        cur.execute("COMMIT")
        cur.close()
    finally:
        raw.close()


def _bulk_load(ds: Dataset, at: datetime) -> None:
    load = _copy_postgres if ds.kind == "postgresql" else _insert_sqlite
    load("campaign_contact", CONTACT_COLUMNS, contact_rows(ds, at))
    load("message", MESSAGE_COLUMNS, message_rows(ds, at))
    opted = ((ds.org_id, f"+1555{i:07d}", "STOP", at) for i in range(99, ds.contacts, 100))
    load("opt_out", "organization_id, cell, reason, created_at", opted)
    if ds.kind == "postgresql":
        db.session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('campaign_contact', 'id'), "
                "(SELECT max(id) FROM campaign_contact))"
            )
        )
        db.session.commit()
        # VACUUM cannot run in a transaction; it sets the visibility map for index-only scans.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def _keep_bench_logs() -> None:
    """Alembic's fileConfig disables every logger that exists; keep the bench's progress."""
    for name, logger in logging.root.manager.loggerDict.items():
        if name.startswith("bench") and isinstance(logger, logging.Logger):
            logger.disabled = False


def generate(url: str, contacts: int) -> Dataset:
    """Migrate an empty database at `url` and fill it; return what was made."""
    kind = "postgresql" if url.startswith("postgresql") else "sqlite"
    ds = Dataset(url=url, kind=kind, contacts=contacts)
    started = time.perf_counter()
    app = bench_app(url)
    with app.app_context():
        upgrade()
        _keep_bench_logs()
        _people(ds)
        _bulk_load(ds, now())
        db.session.remove()
        db.engine.dispose()
    ds.seconds = time.perf_counter() - started
    log.info("generated %s contacts on %s in %.1f s", f"{contacts:,}", kind, ds.seconds)
    return ds
