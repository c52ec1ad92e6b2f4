"""Run the benchmarks and rewrite BENCHMARKS.md: `make bench` (quick) or `make bench-full`.

Quick: SQL paths at 10k and 100k on SQLite (and PostgreSQL when TEST_DATABASE_URL is set),
the CSV import of 100k rows, and the HTTP load (gunicorn + PostgreSQL + RQ, and waitress +
SQLite). Full adds 1M contacts and the 1M-row import.

Other bench modules are picked up by name: a module that defines
`results(full: bool) -> list[bench.table.Result]` adds rows to the table; one that only
defines `main()` is run in full mode (or in quick mode when it sets `QUICK = True`) and
its printed output goes into its own section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import logging
import os
import pkgutil
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

import bench
from bench import data, http_bench, sql_bench
from bench.common import throwaway_database
from bench.table import Result, document
from spoke.config import database_uri

log = logging.getLogger("bench.run")
ROOT = Path(__file__).resolve().parent.parent
# Modules this runner drives itself (or that are libraries, not benchmarks).
OWN = {
    "run", "common", "data", "paths", "pages", "table", "sql_bench", "http_bench", "locustfile",
    "import_100k",
}  # fmt: skip
NOTE = (
    "Numbers were taken on a shared, busy 2-core machine (other engineers' test suites were "
    "running: load average 5-8), so absolute milliseconds are inflated and noisy; the ratio "
    "to the floor measured in the same run, on the same data, is the meaningful part."
)


def pg_version() -> str:
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        return ""
    engine = create_engine(database_uri(server))
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SHOW server_version")).scalar())
    finally:
        engine.dispose()


def backends() -> list[str]:
    return ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def sql_results(sizes: list[int]) -> list[Result]:
    results: list[Result] = []
    for kind in backends():
        for size in sizes:
            with throwaway_database(kind) as url:
                ds = data.generate(database_uri(url), size)
                results += sql_bench.run(ds)
    return results + scaling(results)


def scaling(results: list[Result]) -> list[Result]:
    """Claim p95 at the largest size over claim p95 at 10k (target ≤ 1.3 at 1M)."""
    rows = []
    for kind in backends():
        claims = {
            r.size: r for r in results if r.what == "claim 200 initials" and r.backend == kind
        }
        if "10k" not in claims or len(claims) < 2:
            continue
        big = "1M" if "1M" in claims else "100k"
        r = Result(
            what=f"claim 200 initials, p95 at {big} / p95 at 10k",
            backend=kind,
            size=f"{big} vs 10k",
            median=claims[big].median,
            p95=claims[big].p95,
            floor_p95=claims["10k"].p95,
            floor_what="10k p95",
            target="≤ 1.3 (1M / 10k)",
        )
        if big == "1M":
            r.passed = r.p95 <= 1.3 * claims["10k"].p95
        rows.append(r)
    return rows


def import_results(rows: int) -> list[Result]:
    """The CSV import in its own process (so peak RSS is the import's), each backend."""
    args = [sys.executable, "-m", "bench.import_100k", "--rows", str(rows)]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    results = []
    for line in done.stdout.splitlines():
        if not line.startswith("RESULT "):
            continue
        r = json.loads(line[len("RESULT ") :])
        ms = r["seconds"] * 1000
        result = Result(
            what=f"CSV import of {rows:,} rows",
            backend=r["backend"],
            size=f"{rows // 1000}k" if rows < 1_000_000 else f"{rows // 1_000_000}M",
            median=ms,
            p95=ms,
            target="1M: ≤ 60 s, peak RSS ≤ 300 MB",
            note=f"{rows / r['seconds']:,.0f} rows/s, process peak RSS {r['peak_rss_mb']:.0f} MB",
        )
        if rows >= 1_000_000:
            result.passed = r["seconds"] <= 60 and r["peak_rss_mb"] <= 300
        results.append(result)
    if not results:
        log.warning("import benchmark failed: %s", done.stderr[-2000:])
    return results


def http_results(seconds: int) -> tuple[list[Result], list[tuple[str, str]]]:
    results: list[Result] = []
    sections: list[tuple[str, str]] = []
    runs = [("sqlite", http_bench.embedded, "waitress + SQLite, 20 texters")]
    if "postgresql" in backends():
        runs.insert(
            0, ("postgresql", http_bench.scale_out, "gunicorn (4 workers) + PostgreSQL + RQ")
        )
    for kind, run, title in runs:
        with throwaway_database(kind) as url:
            # 100k: a pool of 210 batches, so no texter runs dry within the run.
            ds = data.generate(database_uri(url), 100_000)
            rows, summary = run(ds, seconds)
        results += rows
        sections.append((f"HTTP load: {title} (locust, every request type)", summary))
    return results, sections


def extra_modules(full: bool) -> tuple[list[Result], list[tuple[str, str]]]:
    """Other bench modules: their table rows, and the printed output of main()-only ones."""
    results: list[Result] = []
    sections: list[tuple[str, str]] = []
    for info in pkgutil.iter_modules(bench.__path__):
        if info.name in OWN or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        if hasattr(module, "results"):
            results += module.results(full)
        elif hasattr(module, "main") and (full or getattr(module, "QUICK", False)):
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                module.main()
            sections.append((f"bench.{info.name}", "```\n" + buffer.getvalue() + "```"))
    return results, sections


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="add 1M contacts and a 1M import")
    parser.add_argument("--sizes", help="comma-separated contact counts (overrides the default)")
    parser.add_argument("--http-seconds", type=int, default=20)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("spoke", "alembic", "flask_migrate"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    started = time.perf_counter()
    default = [10_000, 100_000] + ([1_000_000] if args.full else [])
    sizes = [int(n) for n in args.sizes.split(",")] if args.sizes else default
    results = sql_results(sizes)
    results += import_results(1_000_000 if args.full else 100_000)
    sections: list[tuple[str, str]] = []
    if not args.no_http:
        http_rows, http_sections = http_results(args.http_seconds)
        results += http_rows
        sections += http_sections
    extra_rows, extra_sections = extra_modules(args.full)
    results += extra_rows
    sections += extra_sections
    notes_file = ROOT / "bench" / "NOTES.md"
    if notes_file.exists():
        sections.append(("Findings, profiles and before/after", notes_file.read_text()))
    sections.append(("Closing note", NOTE))
    command = "make bench-full" if args.full else "make bench"
    text_out = document(
        results,
        command=command,
        pg_version=pg_version(),
        seconds=time.perf_counter() - started,
        sections=sections,
    )
    Path(args.output).write_text(text_out)
    log.info(
        "wrote %s (%d rows) in %.0f s", args.output, len(results), time.perf_counter() - started
    )


if __name__ == "__main__":
    main()
