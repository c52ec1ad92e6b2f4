"""Benchmark: import a generated 100,000-row contacts CSV on SQLite (and PostgreSQL if given).

Run from the repository root:  .venv/bin/python -m bench.import_100k [--rows N] [--tracemalloc]
PostgreSQL is benchmarked too when TEST_DATABASE_URL or DATABASE_URL is set (a throwaway
database is created on that server and dropped afterwards).

It reports rows/sec and memory: the process's peak RSS growth during the import
(resource.getrusage), and with --tracemalloc the peak of Python allocations (slower run).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from bench.common import throwaway_postgres  # noqa: E402
from spoke import create_app  # noqa: E402
from spoke.contacts import importer  # noqa: E402
from spoke.extensions import db  # noqa: E402
from spoke.models import (
    Campaign,
    CampaignContact,
    ContactImport,
    Membership,
    OptOut,
    Organization,
    User,
)


def out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def generate_csv(path: Path, rows: int, seed: int = 7) -> dict[str, int]:
    """Write `rows` data rows: ~1% bad cells, ~0.5% missing cells, ~1% duplicates."""
    rng = random.Random(seed)
    expected = {"bad": 0, "missing": 0, "duplicate_rows": 0}
    recent: list[str] = []
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["firstName", "lastName", "cell", "zip", "ward", "precinct", "note"])
        for i in range(rows):
            roll = rng.random()
            if roll < 0.01:
                cell = str(rng.randint(1, 99_999))
                expected["bad"] += 1
            elif roll < 0.015:
                cell = ""
                expected["missing"] += 1
            elif roll < 0.025 and recent:
                cell = rng.choice(recent)
                expected["duplicate_rows"] += 1
            else:
                # Distinct valid US numbers: area codes 212/415/617, line number from i.
                area = (212, 415, 617)[i % 3]
                cell = f"({area}) {200 + (i // 10000) % 700:03d}-{i % 10000:04d}"
                recent = (recent + [cell])[-50:]
            writer.writerow(
                [
                    f"First{i}",
                    f"Last{i}",
                    cell,
                    f"{10000 + i % 89999:05d}",
                    f"W{i % 40}",
                    f"P{i % 400}",
                    "Met at the fair, wants a yard sign" if i % 7 == 0 else "",
                ]
            )
    return expected


def run_once(label: str, uri: str, source: Path, rows: int, trace: bool) -> dict[str, float]:
    """Set up an org and campaign on `uri`, import `source`, report and return the numbers."""
    workdir = Path(tempfile.mkdtemp(prefix="spoke-bench-"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": uri,
            "SECRET_KEY": "bench",
            "UPLOAD_FOLDER": str(workdir / "uploads"),
            "JOBS_IN_THREAD": False,
            "REDIS_URL": "",
        }
    )
    try:
        with app.app_context():
            db.create_all()
            org = Organization(name="Bench Org")
            user = User(email="bench@example.org", name="Bench", password_hash="x")
            db.session.add_all([org, user])
            db.session.flush()
            db.session.add(Membership(organization_id=org.id, user_id=user.id, role="owner"))
            campaign = Campaign(organization_id=org.id, title="Bench campaign")
            db.session.add(campaign)
            db.session.flush()
            # A few hundred opted-out cells that appear in the file.
            for i in range(0, 3000, 10):
                area = (212, 415, 617)[i % 3]
                cell = f"+1{area}{200 + (i // 10000) % 700:03d}{i % 10000:04d}"
                db.session.add(OptOut(organization_id=org.id, cell=cell))
            db.session.commit()

            upload = workdir / "uploads" / "bench.csv"
            shutil.copyfile(source, upload)
            size = upload.stat().st_size
            contact_import = importer.create_import(
                db.session, campaign.id, user.id, "bench.csv", str(upload), size
            )
            db.session.commit()
            import_id, campaign_id = contact_import.id, campaign.id

            if trace:
                tracemalloc.start()
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            started = time.perf_counter()
            result = importer.run_import(db.session, import_id)
            elapsed = time.perf_counter() - started
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            traced_peak = tracemalloc.get_traced_memory()[1] if trace else None
            if trace:
                tracemalloc.stop()

            assert result is not None
            stored = db.session.scalar(
                select(func.count())
                .select_from(CampaignContact)
                .where(CampaignContact.campaign_id == campaign_id)
            )
            out(f"[{label}] status={result.status} {result.error}".rstrip())
            out(
                f"[{label}] rows={result.rows_processed:,} imported={result.imported:,}"
                f" duplicates={result.duplicates:,} opted_out={result.opted_out_skipped:,}"
                f" rejected={result.rejected:,} (kept {len(result.rejected_rows):,})"
                f" contacts_in_db={stored:,}"
            )
            out(
                f"[{label}] {elapsed:.2f} s, {rows / elapsed:,.0f} rows/sec,"
                f" file {size / 1e6:.1f} MB, peak RSS grew {(rss_after - rss_before) / 1024:.1f} MB"
                f" (process peak {rss_after / 1024:.0f} MB)"
                + (f", tracemalloc peak {traced_peak / 1e6:.1f} MB" if traced_peak else "")
            )
            assert db.session.get(ContactImport, import_id).status == "done"
            db.session.remove()
            db.engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    numbers = {"seconds": elapsed, "rows": rows, "peak_rss_mb": rss_after / 1024}
    out("RESULT " + json.dumps({"backend": label, **numbers}))
    return numbers


def postgres_run(url: str, source: Path, rows: int, trace: bool) -> dict[str, float]:
    """Benchmark on a throwaway database on the given PostgreSQL server."""
    with throwaway_postgres(url, "spoke_bench") as target:
        return run_once("postgresql", target, source, rows, trace)


def main() -> None:
    """Generate the CSV once, then import it on each configured database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="spoke-bench-csv-") as tmp:
        source = Path(tmp) / "contacts.csv"
        expected = generate_csv(source, args.rows)
        out(
            f"generated {args.rows:,} rows: {expected['bad']:,} bad cells,"
            f" {expected['missing']:,} missing cells, {expected['duplicate_rows']:,} duplicate rows"
        )
        run_once(
            "sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", source, args.rows, args.tracemalloc
        )
        pg_url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
        if pg_url:
            postgres_run(pg_url, source, args.rows, args.tracemalloc)


if __name__ == "__main__":
    main()
