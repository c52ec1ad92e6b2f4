"""HTTP load with locust, each run beside the `/healthz` floor through the same stack.

Scale-out: gunicorn (4 workers) + PostgreSQL + Redis/RQ (an `rq worker` delivering with the
fake provider). Embedded: `python -m spoke` (waitress) on SQLite, counting "database is
locked" errors in its log. Every process listens on 127.0.0.1 on a free port, every load
run is bounded (--run-time), and everything started here is stopped in `finally`.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.data import PASSWORD, Dataset
from bench.table import Result

log = logging.getLogger("bench.http")
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOCUSTFILE = Path(__file__).with_name("locustfile.py")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 30) -> None:
    """Poll `url` until it answers (any status), or fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


@contextlib.contextmanager
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Collect started processes; terminate them all (then kill) on the way out."""
    started: list[subprocess.Popen[bytes]] = []
    try:
        yield started
    finally:
        for proc in reversed(started):
            if proc.poll() is None:
                proc.terminate()
        for proc in reversed(started):
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def _spawn(procs: list[Any], args: list[str], env: dict[str, str], logfile: Path) -> None:
    out = logfile.open("wb")
    procs.append(subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT))


def app_env(db_url: str, redis_url: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        DATABASE_URL=db_url, SECRET_KEY="bench-http", SMS_PROVIDER="fake", PYTHONPATH=str(ROOT)
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def locust(
    host: str, users: dict[str, Any], classes: list[str], count: int, seconds: int, workdir: Path
) -> dict[str, dict[str, float]]:
    """One headless, bounded locust run; its stats per request name (ms, req/s)."""
    prefix = workdir / f"locust_{'_'.join(classes)}"
    env = dict(os.environ, BENCH_USERS=json.dumps(users), PYTHONPATH=str(ROOT))
    args = [
        str(BIN / "locust"),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--only-summary",
        "--users",
        str(count),
        "--spawn-rate",
        str(max(count // 2, 1)),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "5",
        "--host",
        host,
        "--csv",
        str(prefix),
        "--reset-stats",
        "--loglevel",
        "WARNING",
        *classes,
    ]
    subprocess.run(args, env=env, cwd=ROOT, timeout=seconds + 60, check=False, capture_output=True)
    stats: dict[str, dict[str, float]] = {}
    with open(f"{prefix}_stats.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            stats[row["Name"]] = {
                "count": float(row["Request Count"]),
                "failures": float(row["Failure Count"]),
                "p50": float(row["50%"] or 0),
                "p95": float(row["95%"] or 0),
                "p99": float(row["99%"] or 0),
                "rps": float(row["Requests/s"] or 0),
            }
    return stats


def _accounts(ds: Dataset, texters: int, repliers: int, admins: int) -> dict[str, Any]:
    people = ds.texter_ids
    return {
        "campaign": ds.campaign_id,
        "password": PASSWORD,
        "texters": [ds.email(u) for u in people[:texters]],
        "repliers": [ds.email(u) for u in people[texters : texters + repliers]],
        "admins": [ds.email(ds.admin_id)],
        "texter_count": texters,
        "replier_count": repliers,
        "admin_count": admins,
    }


def _results(
    stats: dict[str, dict[str, float]], floor: dict[str, float], stack: str, load: str
) -> list[Result]:
    results = []
    for name, s in sorted(stats.items()):
        if name == "Aggregated" or not s["count"]:
            continue
        r = Result(
            what=f"HTTP {name}",
            backend=stack,
            size=load,
            median=s["p50"],
            p95=s["p95"],
            floor_p95=floor["p95"],
            floor_what="/healthz",
            note=(
                f"p99 {s['p99']:.0f} ms, {s['rps']:.1f} req/s, "
                f"{int(s['count'])} requests, {int(s['failures'])} failed"
            ),
        )
        results.append(r)
    return results


def scale_out(
    ds: Dataset, seconds: int, texters: int = 50, repliers: int = 8
) -> tuple[list[Result], str]:
    """gunicorn (4 workers) + PostgreSQL + Redis/RQ under texters, repliers and an admin."""
    workdir = Path(tempfile.mkdtemp(prefix="spoke-bench-http-"))
    port, redis_port = free_port(), free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    env = app_env(ds.url, redis_url)
    host = f"http://127.0.0.1:{port}"
    with processes() as procs:
        _spawn(
            procs,
            [
                "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            env,
            workdir / "redis.log",
        )
        _spawn(
            procs,
            [str(BIN / "gunicorn"), "-w", "4", "-b", f"127.0.0.1:{port}", "app:app"],
            env,
            workdir / "gunicorn.log",
        )
        _spawn(
            procs, [str(BIN / "rq"), "worker", "--url", redis_url, "spoke"], env, workdir / "rq.log"
        )
        wait_for(f"{host}/healthz")
        users = _accounts(ds, texters, repliers, 1)
        count = texters + repliers + 1
        floor = locust(host, users, ["HealthUser"], count, seconds, workdir)["GET /healthz"]
        stats = locust(
            host, users, ["TexterUser", "ReplierUser", "AdminUser"], count, seconds, workdir
        )
    load = f"{texters} texters + {repliers} repliers + 1 admin, {seconds} s"
    results = [
        Result(
            what="HTTP GET /healthz (the floor)",
            backend="gunicorn+PG+RQ",
            size=f"{count} users, {seconds} s",
            median=floor["p50"],
            p95=floor["p95"],
            note=f"p99 {floor['p99']:.0f} ms, {floor['rps']:.0f} req/s",
        )
    ]
    results += _results(stats, floor, "gunicorn+PG+RQ", load)
    for r in results:
        if r.what == "HTTP POST send-and-next":
            rps = stats["POST send-and-next"]["rps"]
            r.target = "p95 ≤ 25 ms and ≤ 3x /healthz; ≥ 300 sends/s"
            r.passed = r.p95 <= 25 and r.p95 <= 3 * floor["p95"] and rps >= 300
    return results, _summary(stats, floor, workdir)


def embedded(ds: Dataset, seconds: int, texters: int = 20) -> tuple[list[Result], str]:
    """`python -m spoke` (waitress) on SQLite under 20 texters; count 'database is locked'."""
    workdir = Path(tempfile.mkdtemp(prefix="spoke-bench-embedded-"))
    port = free_port()
    env = app_env(ds.url)
    env.update(PORT=str(port), HOST="127.0.0.1")
    host = f"http://127.0.0.1:{port}"
    with processes() as procs:
        _spawn(procs, [sys.executable, "-m", "spoke"], env, workdir / "waitress.log")
        wait_for(f"{host}/healthz")
        users = _accounts(ds, texters, 0, 0)
        floor = locust(host, users, ["HealthUser"], texters, seconds, workdir)["GET /healthz"]
        stats = locust(host, users, ["TexterUser"], texters, seconds, workdir)
    locked = (workdir / "waitress.log").read_text(errors="replace").count("database is locked")
    load = f"{texters} texters, {seconds} s"
    results = _results(stats, floor, "waitress+SQLite", load)
    for r in results:
        if r.what == "HTTP POST send-and-next":
            r.target = 'p95 ≤ 50 ms, 0 "database is locked"'
            r.passed = r.p95 <= 50 and locked == 0
            r.note += f', {locked} "database is locked"'
    return results, _summary(stats, floor, workdir)


def _summary(stats: dict[str, dict[str, float]], floor: dict[str, float], workdir: Path) -> str:
    lines = [
        "| request | p50 ms | p95 ms | p99 ms | req/s | requests | failed |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for name, s in [("GET /healthz (floor run)", floor), *sorted(stats.items())]:
        lines.append(
            f"| {name} | {s['p50']:.0f} | {s['p95']:.0f} | {s['p99']:.0f} | {s['rps']:.1f} | "
            f"{int(s['count'])} | {int(s['failures'])} |"
        )
    return "\n".join(lines)
