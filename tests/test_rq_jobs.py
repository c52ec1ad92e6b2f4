"""The scale-out path for real: redis-server, `rq worker --burst`, `rq cron`, PostgreSQL.

Needs REDIS_URL and TEST_DATABASE_URL (CI sets both). Each run uses its own queue name, so
a developer's running worker never takes these jobs, and removes the keys it created.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from spoke import clock, create_app
from spoke.assignment.manual import ensure_assignment
from spoke.extensions import db
from spoke.models import AssignmentEvent, CampaignContact
from spoke.runtime import tasks
from tests.factories import make_campaign, make_contacts, make_org, make_user

REDIS_URL = os.environ.get("REDIS_URL", "")
PG_URL = os.environ.get("TEST_DATABASE_URL", "")
ROOT = Path(__file__).resolve().parent.parent
RQ = str(Path(sys.executable).parent / "rq")
JOB_NAME = "jobs.release.release_unhandled"
OUTBOX_JOB = "jobs.outbox.sweep_outbox"  # `rq cron` runs both sweeps (issue 12)
CRON_JOBS = (JOB_NAME, OUTBOX_JOB)

if not (REDIS_URL and PG_URL):
    reason = "needs REDIS_URL (a real redis-server) and TEST_DATABASE_URL (PostgreSQL)"
    if os.environ.get("SPOKE_REQUIRE_SERVICES"):
        raise RuntimeError(f"tests/test_rq_jobs.py {reason}")
    pytest.skip(reason, allow_module_level=True)


@pytest.fixture
def queue_name(monkeypatch) -> str:
    name = f"spoke-test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("RQ_QUEUE", name)
    return name


@pytest.fixture
def pg_app(pg_database, queue_name, tmp_path):
    """An app on the test run's PostgreSQL database, enqueueing to this test's queue."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": pg_database,
            "REDIS_URL": REDIS_URL,
            "RQ_QUEUE": queue_name,
            "WTF_CSRF_ENABLED": False,
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "SERVER_NAME": "localhost",
        }
    )
    clock.freeze(None)  # the worker runs on the real clock
    with app.app_context():
        db.create_all()
        names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        db.session.commit()
        yield app
        db.session.remove()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def redis_conn(pg_app, queue_name):
    """The Redis connection; afterwards, empty and delete this test's queue and jobs."""
    with pg_app.app_context():
        conn = tasks.redis_connection()
        queue = tasks.queue()
    yield conn
    for job_id in (
        queue.get_job_ids()
        + list(queue.finished_job_registry.get_job_ids())
        + list(queue.failed_job_registry.get_job_ids())
    ):
        for name in CRON_JOBS:
            conn.zrem(f"rq:cron_job:{name}:jobs", job_id)
        conn.delete(f"rq:job:{job_id}", f"rq:results:{job_id}")
    queue.empty()
    for key in conn.scan_iter(f"rq:*{queue_name}*"):  # queue, registries, named workers
        conn.delete(key)
    conn.srem("rq:queues", f"rq:queue:{queue_name}")
    conn.srem("rq:workers", f"rq:worker:{queue_name}-worker")
    for name in CRON_JOBS:
        if not conn.zcard(f"rq:cron_job:{name}:jobs"):  # nobody else's cron uses the name
            conn.zrem("rq:cron_jobs", name)


def overdue_replies(n_due: int, n_fresh: int) -> tuple[int, list[int]]:
    """A started campaign with the toggle on; n_due replies waited 2 hours, n_fresh 5 min."""
    org = make_org()
    texter = make_user(org)
    campaign = make_campaign(
        org, status="started", release_unhandled_enabled=True, release_unhandled_minutes=30
    )
    assignment, _ = ensure_assignment(db.session, campaign.id, texter.id)
    db.session.commit()
    real_now = clock.now()
    due = make_contacts(
        campaign,
        n_due,
        assignment_id=assignment.id,
        message_status="needs_response",
        last_inbound_at=real_now - timedelta(hours=2),
    )
    make_contacts(
        campaign,
        n_fresh,
        start=n_due,
        assignment_id=assignment.id,
        message_status="needs_response",
        last_inbound_at=real_now - timedelta(minutes=5),
    )
    return campaign.id, due


def released(campaign_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count())
        .select_from(CampaignContact)
        .where(CampaignContact.campaign_id == campaign_id, CampaignContact.assignment_id.is_(None))
    )


def run_worker(queue_name: str, pg_database: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": pg_database,
        "SECRET_KEY": "test-secret",
        "RQ_QUEUE": queue_name,
        "REDIS_URL": REDIS_URL,
    }
    return subprocess.run(
        [RQ, "worker", "--burst", "--name", f"{queue_name}-worker", "--url", REDIS_URL, queue_name],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_job_enqueued_and_run_by_a_real_worker(pg_app, redis_conn, queue_name, pg_database):
    from jobs.release import release_unhandled

    with pg_app.app_context():
        campaign_id, due = overdue_replies(7, 3)
        job = tasks.queue().enqueue(release_unhandled)
        assert tasks.queue().count == 1
        proc = run_worker(queue_name, pg_database)
        assert proc.returncode == 0, proc.stderr
        job.refresh()
        assert job.get_status() == "finished", proc.stderr
        assert job.return_value() == {
            "campaigns_swept": 1,
            "released": 7,
            "by_campaign": {str(campaign_id): 7},
            "unsent_released": 0,
            "unsent_by_campaign": {},
        }
        assert released(campaign_id) == 7
        [event] = db.session.scalars(select(AssignmentEvent)).all()
        assert (event.reason, event.contact_count) == ("release_unhandled", 7)
        assert sorted(event.contact_ids) == sorted(due)


def test_cron_config_registers_and_enqueues_the_sweep(pg_app, redis_conn, queue_name):
    from rq import Queue
    from rq.cron import CronScheduler
    from rq.job import Job

    scheduler = CronScheduler(connection=redis_conn)
    scheduler.load_config_from_file("jobs/cron.py")
    cron_jobs = scheduler.get_jobs()
    assert {(j.func_name, j.queue_name, j.interval) for j in cron_jobs} == {
        (name, queue_name, 60) for name in CRON_JOBS
    }
    assert sorted(j.func_name for j in scheduler.enqueue_jobs()) == sorted(CRON_JOBS)
    assert scheduler.enqueue_jobs() == []  # not again within the minute
    queue = Queue(queue_name, connection=redis_conn)
    enqueued = [Job.fetch(i, connection=redis_conn).func_name for i in queue.get_job_ids()]
    assert sorted(enqueued) == sorted(CRON_JOBS)


def test_rq_cron_process_feeds_the_worker(pg_app, redis_conn, queue_name, pg_database):
    """`make cron` then `make worker`, for real: the sweep arrives by cron and releases."""
    from rq import Queue

    with pg_app.app_context():
        campaign_id, _ = overdue_replies(4, 1)
    env = {**os.environ, "RQ_QUEUE": queue_name}
    cron = subprocess.Popen(
        [RQ, "cron", "--url", REDIS_URL, "jobs/cron.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    queue = Queue(queue_name, connection=redis_conn)
    try:
        deadline = time.monotonic() + 30
        while queue.count < len(CRON_JOBS) and time.monotonic() < deadline and cron.poll() is None:
            time.sleep(0.2)
    finally:
        cron.terminate()
        _, err = cron.communicate(timeout=30)
        for key in redis_conn.scan_iter(f"rq:cron_scheduler:*:{cron.pid}:*"):
            redis_conn.delete(key)
    assert queue.count == len(CRON_JOBS), err  # the release sweep and the outbox sweep
    proc = run_worker(queue_name, pg_database)
    assert proc.returncode == 0, proc.stderr
    with pg_app.app_context():
        assert released(campaign_id) == 4


def test_send_and_import_from_the_web_run_on_the_worker(
    pg_app, redis_conn, queue_name, pg_database
):
    """With REDIS_URL the web commits, enqueues, and returns; the worker sends and imports."""
    import io

    from flask import g

    from spoke.models import ContactImport, Message
    from tests.factories import give_contacts

    with pg_app.app_context():
        org = make_org()
        admin = make_user(org, role="admin")
        texter = make_user(org)
        campaign = make_campaign(org, status="started")
        make_contacts(campaign, 2)
        give_contacts(campaign, texter, 2)
        contact_id = db.session.scalar(select(func.min(CampaignContact.id)))
        campaign_id, admin_login, texter_login = campaign.id, admin.get_id(), texter.get_id()

    client = pg_app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = texter_login
    assert client.post(f"/texting/contacts/{contact_id}/send").status_code in (200, 303)
    with client.session_transaction() as sess:
        sess["_user_id"] = admin_login
    g.pop("_login_user", None)  # pg_app's app context is shared with the requests
    csv = b"firstName,lastName,cell\nAna,Diaz,2025550143\nBo,Li,2025550187\n"
    upload = client.post(
        f"/campaigns/{campaign_id}/contacts",
        data={"file": (io.BytesIO(csv), "people.csv")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 303

    with pg_app.app_context():
        message = db.session.scalars(select(Message)).one()
        assert message.status == "queued"  # nothing ran in the web process
        assert db.session.scalars(select(ContactImport)).one().status == "queued"
        assert len(tasks.queue().get_job_ids()) == 2

    worker = run_worker(queue_name, pg_database)
    assert worker.returncode == 0, worker.stderr

    with pg_app.app_context():
        db.session.rollback()
        message = db.session.scalars(select(Message)).one()
        assert message.status == "sent" and message.provider_sid
        done = db.session.scalars(select(ContactImport)).one()
        assert (done.status, done.imported) == ("done", 2)
