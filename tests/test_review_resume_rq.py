"""A bulk action's `rq worker` SIGKILLed mid-run, for real, then Resume on a second worker.

PostgreSQL (TEST_DATABASE_URL) and the real redis-server (REDIS_URL), on this test's own
queue (tests/test_rq_jobs.py's fixtures, which clean up after it). The test holds a row lock
on the first contact of chunk 3, so the worker commits chunks 1 and 2 and then waits inside
chunk 3's transaction; the test SIGKILLs the worker and its work horse there, exactly where
a real crash loses an open chunk.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select, text

from spoke import clock
from spoke.assignment import review_jobs
from spoke.extensions import db
from spoke.models import AssignmentEvent, BulkAction, CampaignContact
from spoke.runtime import tasks
from tests.conftest import PG_URL, REQUIRE_SERVICES
from tests.test_review_jobs import alice_holds

RQ_READY = bool(os.environ.get("REDIS_URL") and PG_URL)
CONTACTS = 2500  # the worker's chunks are review_bulk.CHUNK (1000): 1000, 1000, 500

if RQ_READY:  # tests/test_rq_jobs.py skips its whole module without the services
    from tests.test_rq_jobs import ROOT, RQ, pg_app, queue_name, redis_conn, run_worker  # noqa: F401
else:
    reason = "needs REDIS_URL (a real redis-server) and TEST_DATABASE_URL (PostgreSQL)"
    if REQUIRE_SERVICES:
        raise RuntimeError(f"tests/test_review_resume_rq.py {reason}")
    pytest.skip(reason, allow_module_level=True)


def wait_for(check: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def doomed_name(redis_conn, queue_name) -> Iterator[str]:
    """The killed worker's name; afterwards, remove what its death left in Redis."""
    name = f"{queue_name}-doomed"
    yield name
    for job_id in tasks.queue().started_job_registry.get_job_ids():
        redis_conn.delete(f"rq:job:{job_id}", f"rq:results:{job_id}", f"rq:executions:{job_id}")
        for key in redis_conn.scan_iter(f"rq:execution:{job_id}:*"):
            redis_conn.delete(key)
    redis_conn.srem("rq:workers", f"rq:worker:{name}")
    redis_conn.delete(f"rq:worker:{name}")


def start_worker(name: str, queue_name: str, pg_database: str) -> subprocess.Popen[str]:
    """`rq worker --burst` on the test's queue, left running for the test to kill."""
    env = {**os.environ, "DATABASE_URL": pg_database, "RQ_QUEUE": queue_name}
    return subprocess.Popen(
        [RQ, "worker", "--burst", "--name", name, "--url", os.environ["REDIS_URL"], queue_name],
        cwd=ROOT,
        env={**env, "SECRET_KEY": "test-secret"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_worker(proc: subprocess.Popen[str]) -> str:
    """SIGKILL a worker and its work horses (RQ starts each horse in a session of its own)."""
    for pid in children(proc.pid) + [proc.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return proc.communicate(timeout=10)[1]


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def bulk_row() -> BulkAction:
    db.session.rollback()
    db.session.expire_all()
    return db.session.scalars(select(BulkAction)).one()


def waiting_on_a_lock() -> bool:
    """Another backend of this database waits for a row lock (the worker's chunk 3)."""
    with db.engine.connect() as conn:
        return bool(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                )
            )
        )


def test_sigkilled_worker_then_resume_moves_each_contact_once(
    pg_app, redis_conn, queue_name, pg_database, doomed_name, monkeypatch
):
    monkeypatch.setattr(review_jobs, "JOB_THRESHOLD", 10)
    client, alice_id, campaign_id, ids = alice_holds(pg_app, CONTACTS)
    locker = db.engine.connect()
    locker.execute(
        text("SELECT id FROM campaign_contact WHERE id = :id FOR UPDATE"), {"id": ids[2000]}
    )
    data = {"texter": str(alice_id), "scope": "all", "action": "unassign"}
    r = client.post("/review/bulk", data=data)
    assert r.status_code == 303
    page = r.location

    doomed = start_worker(doomed_name, queue_name, pg_database)
    try:
        wait_for(lambda: bulk_row().moved == 2000 and waiting_on_a_lock(), 60, "chunk 3")
    finally:
        kill_worker(doomed)
        locker.rollback()
        locker.close()

    bulk = bulk_row()
    assert (bulk.status, bulk.moved, bulk.finished_at) == ("running", 2000, None)
    assert (bulk.resume_campaign_id, bulk.resume_contact_id) == (campaign_id, ids[1999])
    polling = BeautifulSoup(client.get(page).data, "html.parser").find("section")
    assert polling["hx-trigger"] == "load delay:1s"  # within the stall window: still hopeful

    clock.freeze(clock.now() + timedelta(minutes=11))
    soup = BeautifulSoup(client.get(page, headers={"HX-Request": "true"}).data, "html.parser")
    section = soup.find("section")
    assert not section.has_attr("hx-trigger")
    assert "It stopped: its worker is no longer running" in section.get_text(" ", strip=True)
    resume = section.find("form")["action"]
    r = client.post(resume)
    assert r.status_code == 303 and r.location == page
    assert client.post(resume).status_code == 303  # a double click queues nothing more
    assert len(tasks.queue().get_job_ids()) == 1, (bulk_row().status, bulk_row().error)
    waiting = BeautifulSoup(client.get(page).data, "html.parser")
    assert waiting.select_one(".flash").get_text(strip=True) == (
        "It is already running; this page shows how far it got."
    )
    assert "Status: Waiting to start" in waiting.find("section").get_text(" ", strip=True)
    clock.freeze(None)

    second = run_worker(queue_name, pg_database)
    assert second.returncode == 0, second.stderr

    bulk = bulk_row()
    assert (bulk.status, bulk.moved, bulk.total) == ("done", CONTACTS, CONTACTS), bulk.error
    assert bulk.message == f"Unassigned {CONTACTS:,} conversations: they are back in the pool."
    counts = db.session.scalars(
        select(AssignmentEvent.contact_count).order_by(AssignmentEvent.id)
    ).all()
    assert counts == [1000, 1000, 500]  # chunk 3 once: the killed attempt left no trace
    pooled = db.session.scalar(
        select(func.count()).where(
            CampaignContact.campaign_id == campaign_id, CampaignContact.assignment_id.is_(None)
        )
    )
    assert pooled == CONTACTS
    done = BeautifulSoup(client.get(page).data, "html.parser").find(attrs={"role": "status"})
    assert done.get_text(strip=True) == bulk.message
