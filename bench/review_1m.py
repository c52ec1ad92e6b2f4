"""Message Review on 1,000,000 contacts (PostgreSQL): filter counts, first pages, bulk moves.

Run from the repository root:
    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python -m bench.review_1m [--contacts N] [--explain]

A throwaway database is created on that server and dropped afterwards. Data: 10 campaigns,
50 texters, statuses 40% needs_message / 30% messaged / 10% needs_response / 10% convo /
10% closed, ~1% opted out, 2/3 of contacts held; one texter holds exactly 10,000 contacts,
which the bulk unassign and reassign move. The release sweep is timed on the same data.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select, text

from bench.common import throwaway_database
from spoke import create_app
from spoke.assignment import release, review, review_bulk
from spoke.extensions import db
from spoke.models import Assignment, Campaign, Membership, Organization, User
from spoke.models import CampaignContact as CC

CAMPAIGNS = 10
TEXTERS = 50
TARGET = 10_000


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


def populate(contacts: int) -> dict[str, Any]:
    """Users, campaigns and assignments through the ORM; contacts with generate_series."""
    org = Organization(name="Bench")
    db.session.add(org)
    db.session.flush()
    admin = User(email="admin@bench", name="Admin", password_hash="x")
    db.session.add(admin)
    db.session.flush()
    db.session.add(Membership(organization_id=org.id, user_id=admin.id, role="admin"))
    texters = []
    for i in range(TEXTERS + 1):  # the last one is the bulk-move target
        u = User(email=f"t{i}@bench", name=f"Texter {i:02d}", password_hash="x")
        db.session.add(u)
        db.session.flush()
        db.session.add(Membership(organization_id=org.id, user_id=u.id, role="texter"))
        texters.append(u.id)
    campaigns = []
    for k in range(CAMPAIGNS):
        c = Campaign(organization_id=org.id, title=f"Campaign {k}", status="started")
        db.session.add(c)
        db.session.flush()
        campaigns.append(c.id)
    first_assignment = None
    for c in campaigns:
        for u in texters:
            a = Assignment(user_id=u, campaign_id=c, is_active=True)
            db.session.add(a)
            db.session.flush()
            first_assignment = first_assignment or a.id
    db.session.commit()
    per_campaign = contacts // CAMPAIGNS
    per = TEXTERS + 1
    # Assignment ids are dense: campaign k, texter j -> first + k * per + j.
    db.session.execute(
        text(
            """
            INSERT INTO campaign_contact (campaign_id, first_name, last_name, cell, zip,
                custom_fields, timezone, timezone_source, assignment_id, message_status,
                opted_out, last_inbound_at, last_outbound_at, created_at, updated_at)
            SELECT :c0 + k, f.first, 'Last' || g, '+1555' || lpad(g::text, 7, '0'), '', '{}',
                'America/New_York', 'default',
                CASE WHEN k = 0 AND g < :target THEN :a0 + :texters
                     WHEN g % 3 = 0 THEN NULL
                     ELSE :a0 + k * :per + g % :texters END,
                CASE WHEN g % 97 = 0 THEN 'closed'
                     ELSE (ARRAY['needs_message','needs_message','needs_message',
                                 'needs_message','messaged','messaged','messaged',
                                 'needs_response','convo','closed'])[1 + g % 10] END,
                g % 97 = 0,
                CASE WHEN g % 10 IN (7, 8) THEN now() - make_interval(mins => g % 600) END,
                CASE WHEN g % 10 >= 4 THEN now() - interval '12 hours' END,
                now(), now()
            FROM generate_series(0, :n - 1) AS g,
                 LATERAL (SELECT g / :per_campaign AS k) AS kk,
                 LATERAL (SELECT (ARRAY['Ann','Ben','Cleo','Dan','Eve','Finn'])[1 + g % 6]
                          AS first) AS f
            """
        ),
        {
            "c0": campaigns[0],
            "a0": first_assignment,
            "texters": TEXTERS,
            "per": per,
            "target": TARGET,
            "n": per_campaign * CAMPAIGNS,
            "per_campaign": per_campaign,
        },
    )
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return {"org": org.id, "admin": admin.id, "texters": texters, "campaigns": campaigns}


def explain(sql: str, params: dict[str, Any]) -> None:
    plan = db.session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql), params).scalars()
    for line in plan:
        out("      " + line)
    db.session.rollback()


def run(contacts: int, show_plans: bool) -> None:
    with throwaway_database("postgresql") as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        with app.app_context():
            db.create_all()
            t = time.perf_counter()
            world = populate(contacts)
            total = db.session.scalar(text("SELECT count(*) FROM campaign_contact"))
            out(f"  generated {total:,} contacts in {time.perf_counter() - t:.1f} s")
            org = world["org"]
            target = world["texters"][-1]
            c3 = world["campaigns"][3]
            filters = {
                "no filter (whole organization)": {},
                "one campaign": {"campaign": str(c3)},
                "campaign + needs response": {"campaign": str(c3), "status": "needs_response"},
                "one texter (all campaigns)": {"texter": str(world["texters"][7])},
                "unassigned + needs response": {"texter": "unassigned", "status": "needs_response"},
                "unhandled > 120 min": {"unhandled": "120"},
                "campaign + unhandled > 120 min": {"campaign": str(c3), "unhandled": "120"},
                "search name 'cle'": {"q": "cle"},
                "campaign + search name 'cle'": {"campaign": str(c3), "q": "cle"},
                "search cell prefix '555 000 12'": {"q": "555 000 12"},
                "opted out": {"status": "opted_out"},
            }
            out(f"  {'filter':<34} {'matches':>9} {'count ms':>9} {'page 1 ms':>10}")
            for label, args in filters.items():
                f, errors = review.parse_filter(db.session, org, args)
                assert not errors, errors
                count_ms, n = timed(lambda f=f: review.count(db.session, f))
                page_ms, _ = timed(lambda f=f: review.page(db.session, f))
                db.session.rollback()
                out(f"  {label:<34} {n:>9,} {count_ms:>9.1f} {page_ms:>10.1f}")
            f, _ = review.parse_filter(db.session, org, {"status": "convo"})
            deep_ms, _ = timed(lambda: review.page(db.session, f, after=int(contacts * 0.9)))
            out(f"  keyset page at id {int(contacts * 0.9):,} (convo): {deep_ms:.1f} ms")

            # The whole page as the admin sees it (count + page + menus + template).
            client = app.test_client()
            with client.session_transaction() as sess:
                sess["_user_id"] = db.session.get(User, world["admin"]).get_id()
                sess["_fresh"] = True
            page_ms, resp = timed(
                lambda: client.get("/review", query_string={"status": "needs_response"}), 3
            )
            assert resp.status_code == 200
            out(f"  GET /review?status=needs_response (full page): {page_ms:.1f} ms")

            f, _ = review.parse_filter(db.session, org, {"texter": str(target)})
            assert review.count(db.session, f) == TARGET
            t = time.perf_counter()
            result = review_bulk.bulk_unassign(db.session, f, actor_id=world["admin"])
            unassign_ms = (time.perf_counter() - t) * 1000
            out(f"  bulk unassign {result.moved:,} ({result.chunks} chunks): {unassign_ms:.0f} ms")
            # Put the same 10,000 back (untimed), then reassign them to three texters.
            target_assignment = db.session.scalar(
                select(Assignment.id).where(
                    Assignment.user_id == target, Assignment.campaign_id == world["campaigns"][0]
                )
            )
            db.session.execute(
                text(
                    "UPDATE campaign_contact SET assignment_id = :a "
                    "WHERE campaign_id = :c AND id <= :n"
                ),
                {"a": target_assignment, "c": world["campaigns"][0], "n": TARGET},
            )
            db.session.commit()
            t = time.perf_counter()
            result = review_bulk.bulk_reassign(
                db.session, f, world["texters"][:3], actor_id=world["admin"]
            )
            reassign_ms = (time.perf_counter() - t) * 1000
            split = "/".join(str(n) for n in result.per_texter.values())
            out(
                f"  bulk reassign {result.moved:,} to 3 texters ({split}, {result.chunks} "
                f"chunks): {reassign_ms:.0f} ms"
            )

            for cid in world["campaigns"]:
                db.session.get(Campaign, cid).release_unhandled_enabled = True
            db.session.commit()
            t = time.perf_counter()
            summary = release.sweep_all(db.session)
            out(
                f"  release sweep, {summary.campaigns} campaigns: {summary.released:,} released "
                f"in {(time.perf_counter() - t) * 1000:.0f} ms"
            )
            t = time.perf_counter()
            summary = release.sweep_all(db.session)
            out(f"  release sweep again (nothing due): {(time.perf_counter() - t) * 1000:.1f} ms")

            if show_plans:
                out("  plans:")
                f, _ = review.parse_filter(db.session, org, {"unhandled": "120"})
                stmt = select(func.count()).select_from(CC).where(review.where_clause(f))
                compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
                explain(str(compiled), {})


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
