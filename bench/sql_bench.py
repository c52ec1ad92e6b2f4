"""Time each SQL path beside its floor on one generated dataset, then the destructive runs.

Order: the rolled-back pairs (claims, review, texter pages, one release chunk), then the
whole release sweep with a claimer running beside it, then (up to 100k) 200 concurrent
claimers draining the pool. App call and floor alternate, so noise hits both alike.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from flask import current_app
from sqlalchemy import func, select, update

from bench import paths
from bench.data import Dataset, bench_app
from bench.table import Result, measure, timed_result, within
from spoke.assignment import claims, release, sql
from spoke.extensions import db
from spoke.models import Campaign
from spoke.models import CampaignContact as CC

log = logging.getLogger("bench.sql")

REPEAT = 30
DRAIN_CLAIMERS = 200
DRAIN_BATCH = 20
DRAIN_MAX_CONTACTS = 100_000


def label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def _judge(target: str) -> Callable[[float, float | None], bool]:
    if target.startswith("p95 ≤ 2x"):
        return within(2.0)
    limit = float(target.split("≤")[1].split("ms")[0])
    return lambda p95, _floor: p95 <= limit


def timed_pair(path: paths.SqlPath, ds: Dataset, repeat: int) -> tuple[list[float], list[float]]:
    """Alternate the app's call and the floor, each rolled back; their times in ms."""
    app_ms: list[float] = []
    floor_ms: list[float] = []
    for i in range(repeat + 2):
        order = [(path.app, app_ms), (path.floor, floor_ms)]
        for fn, out in order if i % 2 == 0 else reversed(order):
            started = time.perf_counter()
            fn(db.session, ds)
            elapsed = (time.perf_counter() - started) * 1000
            db.session.rollback()
            if i >= 2:  # two warm-up rounds
                out.append(elapsed)
    return app_ms, floor_ms


def _claim_loop(ds: Dataset, stop: threading.Event, out: list[float]) -> None:
    """Claim initials (rolled back) over and over until `stop`, recording each claim's ms."""
    while not stop.is_set():
        started = time.perf_counter()
        paths.app_claim_initials(db.session, ds)
        out.append((time.perf_counter() - started) * 1000)
        db.session.rollback()


def sweep_under_claims(ds: Dataset, backend: str, size: str, claim_p95: float) -> list[Result]:
    """The whole release sweep (committed) while a claimer keeps claiming beside it."""
    floor_ms = measure(
        lambda: (paths.bare_release(db.session, ds, None), db.session.rollback()), 3, 1
    )
    stale = len(paths.bare_release(db.session, ds, None))
    db.session.rollback()
    during: list[float] = []
    stop = threading.Event()
    flask_app = current_app._get_current_object()  # type: ignore[attr-defined]

    def claimer() -> None:
        with flask_app.app_context():
            _claim_loop(ds, stop, during)
            db.session.remove()

    thread = threading.Thread(target=claimer, name="bench-claimer")
    thread.start()
    started = time.perf_counter()
    released = release.sweep_campaign(db.session, ds.campaign_id)
    sweep_ms = (time.perf_counter() - started) * 1000
    stop.set()
    thread.join(60)
    note = f"{released:,} of {stale:,} stale replies released; floor = one bare UPDATE"
    results = [
        timed_result(
            "release sweep, whole (committed, chunks of 500)",
            backend,
            size,
            [sweep_ms],
            floor_ms,
            "≤ 2 s total",
            lambda p95, _f: p95 <= 2000,
            floor_what="1 statement",
            note=note,
        )
    ]
    if during:
        results.append(
            timed_result(
                "claim 200 initials during the sweep",
                backend,
                size,
                during,
                None,
                "p95 ≤ 2x without the sweep",
                None,
                note=f"{len(during)} claims during the sweep",
            )
        )
        last = results[-1]
        last.floor_p95, last.floor_what = claim_p95, "same claim, no sweep"
        last.passed = last.p95 <= 2 * claim_p95
    return results


def drain(ds: Dataset, backend: str, size: str) -> Result:
    """DRAIN_CLAIMERS texters claim (and 'send') batches concurrently until the pool is empty."""
    flask_app = current_app._get_current_object()  # type: ignore[attr-defined]
    campaign = db.session.get(Campaign, ds.campaign_id)
    campaign.initials_batch_size = DRAIN_BATCH
    db.session.commit()
    pool = db.session.scalar(
        select(func.count()).select_from(CC).where(sql.pool_initials(ds.campaign_id))
    )
    db.session.commit()
    claimers = (ds.texter_ids + ds.claimer_ids)[:DRAIN_CLAIMERS]
    latencies: list[float] = []
    taken: list[int] = []
    lock = threading.Lock()

    def work(user_id: int) -> None:
        with flask_app.app_context():
            while True:
                started = time.perf_counter()
                result = claims.claim_initials(db.session, ds.campaign_id, user_id)
                db.session.commit()
                elapsed = (time.perf_counter() - started) * 1000
                if not result.ok:
                    break
                with lock:
                    latencies.append(elapsed)
                    taken.extend(result.contact_ids)
                db.session.execute(
                    update(CC)
                    .where(CC.id.in_(result.contact_ids))
                    .values(message_status="messaged")
                    .execution_options(synchronize_session=False)
                )
                db.session.commit()
            db.session.remove()

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(u,)) for u in claimers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    seconds = time.perf_counter() - started
    left = db.session.scalar(
        select(func.count()).select_from(CC).where(sql.pool_initials(ds.campaign_id))
    )
    db.session.commit()
    duplicates = len(taken) - len(set(taken))
    rate = len(latencies) / seconds
    result = timed_result(
        f"{len(claimers)} concurrent claimers drain the pool",
        backend,
        size,
        latencies,
        None,
        "0 duplicates, ≥ 500 claims/s",
        None,
        note=(
            f"{len(latencies):,} claims of ≤ {DRAIN_BATCH} ({len(taken):,} of {pool:,} contacts, "
            f"{left} left) in {seconds:.1f} s: {rate:,.0f} claims/s, "
            f"{len(taken) / seconds:,.0f} contacts/s, {duplicates} duplicates"
        ),
    )
    result.passed = duplicates == 0 and left == 0 and rate >= 500
    result.extra.update(duplicates=duplicates, claims_per_s=rate, left=left)
    return result


def run(ds: Dataset, repeat: int = REPEAT) -> list[Result]:
    """Every SQL benchmark on `ds`; the dataset is consumed (the sweep and drain commit)."""
    backend, size = ds.kind, label(ds.contacts)
    app = bench_app(ds.url)
    results: list[Result] = []
    with app.app_context():
        claim_p95 = 0.0
        for path in paths.PATHS:
            app_ms, floor_ms = timed_pair(path, ds, repeat)
            result = timed_result(
                path.name,
                backend,
                size,
                app_ms,
                floor_ms,
                path.target,
                _judge(path.target),
                floor_what=path.floor_what,
            )
            if path is paths.PATHS[0]:
                claim_p95 = result.p95
            log.info(
                "%s %s %s: p95 %.1f ms (floor %.1f)",
                backend,
                size,
                path.name,
                result.p95,
                result.floor_p95,
            )
            results.append(result)
        results += sweep_under_claims(ds, backend, size, claim_p95)
        if ds.contacts <= DRAIN_MAX_CONTACTS:
            results.append(drain(ds, backend, size))
        db.session.remove()
        db.engine.dispose()
    return results
