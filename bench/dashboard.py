"""The campaign Dashboard and the CSV exports on one campaign of 1,000,000 contacts (PostgreSQL).

Run from the repository root:
    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.dashboard [--contacts N] [--explain]

A throwaway database is created on that server and dropped afterwards. Data: one started
campaign, 50 texters; 30% needs_message (a third of them held), 40% messaged, 10%
needs_response (half held), 15% convo, 5% closed; two weeks of messages (an initial for every
contact past needs_message, a reply from every needs_response / convo contact, an answer to
every convo one): about 1.1 messages per contact, with the activity rollup built from them.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from bench.common import throwaway_database
from spoke import clock, create_app
from spoke.extensions import db
from spoke.models import Assignment, Campaign, CampaignExport, Membership, Organization, User
from spoke.reports import dashboard, export_jobs

TEXTERS = 50
DAYS = 14


def out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def timed(fn: Callable[[], Any], repeat: int = 5) -> tuple[float, Any]:
    """Median milliseconds over `repeat` runs (after one warm-up), and the last result."""
    result = fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), result


CONTACTS_SQL = """
INSERT INTO campaign_contact (campaign_id, first_name, last_name, cell, zip, custom_fields,
    timezone, timezone_source, assignment_id, assigned_at, message_status, opted_out,
    last_inbound_at, last_outbound_at, created_at, updated_at)
SELECT :c, (ARRAY['Ann','Ben','Cleo','Dan','Eve','Finn'])[1 + g % 6], 'Last' || g,
    '+1555' || lpad(g::text, 7, '0'), '', ('{"ward": "W' || g % 40 || '"}')::json,
    'America/New_York', 'default',
    CASE WHEN s = 'needs_message' AND g % 3 <> 0 THEN NULL
         WHEN s = 'needs_response' AND g % 2 = 0 THEN NULL
         ELSE :a0 + g % :texters END,
    :now - interval '1 day', s, s = 'closed' AND g % 2 = 0,
    CASE WHEN s IN ('needs_response', 'convo') THEN :now - make_interval(mins => g % 1200) END,
    CASE WHEN s <> 'needs_message' THEN :now - make_interval(mins => 60 + g % (:days * 1440 - 60))
    END,
    :now, :now
FROM generate_series(0, :n - 1) AS g,
     LATERAL (SELECT CASE WHEN g % 20 < 6 THEN 'needs_message' WHEN g % 20 < 14 THEN 'messaged'
                          WHEN g % 20 < 16 THEN 'needs_response' WHEN g % 20 < 19 THEN 'convo'
                          ELSE 'closed' END AS s) AS st
"""

MESSAGES_SQL = """
INSERT INTO message (contact_id, campaign_id, direction, body, user_id, status, status_at,
    attempts, error, error_detail, reply_wait_seconds, created_at, updated_at)
SELECT id, campaign_id, 'out', 'Hi ' || first_name || ', can we count on your vote?',
    :u0 + id % :texters, 'delivered', last_outbound_at, 1, '', '', NULL::int,
    last_outbound_at, last_outbound_at
FROM campaign_contact WHERE last_outbound_at IS NOT NULL
UNION ALL
SELECT id, campaign_id, 'in', 'Yes, I will', NULL, 'received', last_inbound_at, 0, '', '', NULL,
    last_inbound_at, last_inbound_at
FROM campaign_contact WHERE last_inbound_at IS NOT NULL
UNION ALL
SELECT id, campaign_id, 'out', 'Great, thank you!', :u0 + id % :texters, 'delivered',
    last_inbound_at + make_interval(secs => 30 + id % 3600), 1, '', '', 30 + id % 3600,
    last_inbound_at + make_interval(secs => 30 + id % 3600),
    last_inbound_at + make_interval(secs => 30 + id % 3600)
FROM campaign_contact WHERE message_status = 'convo'
"""

BUCKET = (
    "date_trunc('hour', created_at)"
    " + floor(extract(minute FROM created_at) / 15) * interval '15 minutes'"
)
ROLLUP_SQL = f"""
INSERT INTO campaign_activity (campaign_id, bucket_at, texter_id, sent, answered, received)
SELECT campaign_id, {BUCKET}, COALESCE(user_id, 0),
    sum(CASE WHEN direction = 'out' THEN 1 ELSE 0 END),
    sum(CASE WHEN reply_wait_seconds IS NOT NULL THEN 1 ELSE 0 END),
    sum(CASE WHEN direction = 'in' THEN 1 ELSE 0 END)
FROM message GROUP BY campaign_id, {BUCKET}, COALESCE(user_id, 0)
"""

# What the chart would cost without the rollup: a GROUP BY over every message of the campaign.
NAIVE_CHART_SQL = f"""
SELECT {BUCKET} AS b, sum(CASE WHEN direction = 'out' THEN 1 ELSE 0 END),
    sum(CASE WHEN direction = 'in' THEN 1 ELSE 0 END)
FROM message WHERE campaign_id = :c GROUP BY b ORDER BY b
"""


def populate(contacts: int) -> dict[str, Any]:
    """Users and the campaign through the ORM; contacts, messages and the rollup in SQL."""
    org = Organization(name="Bench")
    db.session.add(org)
    db.session.flush()
    admin = User(email="admin@bench", name="Admin", password_hash="x")
    db.session.add(admin)
    db.session.flush()
    db.session.add(Membership(organization_id=org.id, user_id=admin.id, role="owner"))
    campaign = Campaign(organization_id=org.id, title="Big", status="started")
    campaign.custom_field_names = ["ward"]
    db.session.add(campaign)
    db.session.flush()
    first_user = first_assignment = None
    for i in range(TEXTERS):
        u = User(email=f"t{i}@bench", name=f"Texter {i:02d}", password_hash="x")
        db.session.add(u)
        db.session.flush()
        db.session.add(Membership(organization_id=org.id, user_id=u.id, role="texter"))
        a = Assignment(user_id=u.id, campaign_id=campaign.id, is_active=True)
        db.session.add(a)
        db.session.flush()
        first_user, first_assignment = first_user or u.id, first_assignment or a.id
    db.session.commit()
    at = clock.now()
    params = {"c": campaign.id, "a0": first_assignment, "u0": first_user, "texters": TEXTERS}
    db.session.execute(text(CONTACTS_SQL), {**params, "n": contacts, "now": at, "days": DAYS})
    db.session.execute(text(MESSAGES_SQL), params)
    db.session.execute(text(ROLLUP_SQL))
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    return {"admin": admin.id, "campaign": campaign.id}


def explain(sql: str, params: dict[str, Any]) -> None:
    plan = db.session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql), params).scalars()
    for line in plan:
        out("      " + line)
    db.session.rollback()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(contacts: int, show_plans: bool) -> None:
    with throwaway_database("postgresql") as url, tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        with app.app_context():
            db.create_all()
            t = time.perf_counter()
            world = populate(contacts)
            n_messages = db.session.scalar(text("SELECT count(*) FROM message"))
            out(
                f"  generated {contacts:,} contacts, {n_messages:,} messages "
                f"in {time.perf_counter() - t:.1f} s"
            )
            campaign = db.session.get(Campaign, world["campaign"])
            ms, board = timed(lambda: dashboard.campaign_dashboard(db.session, campaign))
            db.session.rollback()
            out(f"  dashboard numbers (all queries): {ms:.1f} ms")
            out(
                f"    pool {board.pool_initials:,} + {board.pool_replies:,} replies; held "
                f"{board.held_unsent:,} + {board.held_replies:,}; {len(board.texters)} texters; "
                f"{len(board.chart):,} chart buckets; median {board.median_answer}"
            )
            for label, fn in (
                (
                    "median answer wait",
                    lambda: dashboard.median_answer_seconds(db.session, campaign.id),
                ),
                (
                    "chart from the rollup",
                    lambda: dashboard._chart(db.session, campaign.id, clock.now()),
                ),
            ):
                ms, _ = timed(fn)
                db.session.rollback()
                out(f"    {label}: {ms:.1f} ms")
            ms, _ = timed(
                lambda: db.session.execute(text(NAIVE_CHART_SQL), {"c": campaign.id}).all(), 3
            )
            db.session.rollback()
            out(f"    chart as a GROUP BY over the messages (no rollup): {ms:.1f} ms")

            client = app.test_client()
            with client.session_transaction() as sess:
                sess["_user_id"] = str(world["admin"])
                sess["_fresh"] = True
            path = f"/campaigns/{campaign.id}/dashboard"
            ms, resp = timed(lambda: client.get(path), 3)
            assert resp.status_code == 200
            out(f"  GET {path} (full page): {ms:.1f} ms")
            ms, resp = timed(lambda: client.get(path, headers={"HX-Request": "true"}), 3)
            out(f"  GET {path} (the 15 s poll, HX-Request): {ms:.1f} ms")

            for kind in ("contacts", "messages"):
                record = export_jobs.record_export(
                    db.session, campaign, world["admin"], kind, threshold=0
                )
                db.session.commit()
                rss = _peak_rss_mb()
                t = time.perf_counter()
                done = export_jobs.run_export(db.session, record.id, tmp)
                seconds = time.perf_counter() - t
                assert done is not None and done.status == "done", done and done.error
                size = os.path.getsize(done.path) / 1e6
                out(
                    f"  export {kind}: {done.written:,} rows, {size:.0f} MB in {seconds:.1f} s; "
                    f"peak RSS {_peak_rss_mb():.0f} MB (was {rss:.0f} MB before)"
                )
            assert db.session.query(CampaignExport).count() == 2

            if show_plans:
                out("  plans:")
                explain(
                    "SELECT count(*) FROM message WHERE campaign_id = :c "
                    "AND reply_wait_seconds IS NOT NULL",
                    {"c": campaign.id},
                )
                explain(
                    "SELECT assignment_id, count(*), min(last_inbound_at) FROM campaign_contact "
                    "WHERE campaign_id = :c AND assignment_id IS NOT NULL "
                    "AND message_status = 'needs_response' GROUP BY assignment_id",
                    {"c": campaign.id},
                )
                explain(
                    "SELECT assignment_id, count(*) FROM campaign_contact "
                    "WHERE campaign_id = :c AND assignment_id IS NOT NULL "
                    "AND message_status = 'needs_message' AND NOT opted_out GROUP BY assignment_id",
                    {"c": campaign.id},
                )
                explain(
                    "SELECT count(*) FROM campaign_contact WHERE campaign_id = :c AND "
                    "assignment_id IS NULL AND message_status = 'needs_message' AND NOT opted_out",
                    {"c": campaign.id},
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args([] if __name__ != "__main__" else None)
    if not (os.environ.get("TEST_DATABASE_URL") or os.environ.get("BENCH_DATABASE_URL")):
        out("  skipped: set TEST_DATABASE_URL to a PostgreSQL server")
        return
    run(args.contacts, args.explain)


if __name__ == "__main__":
    main()
