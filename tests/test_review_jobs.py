"""Message Review: "Everything matching the filter" above the threshold runs as a job.

The web request records a BulkAction and enqueues jobs.review.run_bulk_action; in tests
(JOBS_IN_THREAD False, no Redis) the job runs inline, and a progress page shows how far it got.
"""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import delete, event, func, select, update

from jobs import review as review_job
from spoke import clock
from spoke.assignment import events, review, review_jobs
from spoke.assignment.manual import ensure_assignment
from spoke.extensions import db
from spoke.models import Assignment, AssignmentEvent, BulkAction, CampaignContact, Membership
from tests.factories import make_campaign, make_contacts, make_org, make_user

T0 = datetime(2031, 5, 4, 12, 0, 0)
RQ_READY = bool(os.environ.get("REDIS_URL") and os.environ.get("TEST_DATABASE_URL"))
if RQ_READY:  # tests/test_rq_jobs.py skips its whole module without the services
    from tests.test_rq_jobs import pg_app, queue_name, redis_conn, run_worker  # noqa: F401


@pytest.fixture
def world(ctx, monkeypatch):
    """Alice holds 70 in Alpha and 50 in Beta; Bob holds 10; 20 wait in the pool."""
    return build_world(monkeypatch)


def build_world(monkeypatch):
    """The `world` fixture's organization, at T0 with a threshold of 50 and chunks of 25."""
    clock.freeze(T0)
    monkeypatch.setattr(review_jobs, "JOB_THRESHOLD", 50)
    monkeypatch.setattr(review_jobs, "CHUNK", 25)
    org = make_org()
    w = {
        "org": org,
        "admin": make_user(org, role="admin", name="Ada Admin"),
        "alice": make_user(org, name="Alice Adams"),
        "bob": make_user(org, name="Bob Brown"),
        "cara": make_user(org, name="Cara Cole"),
        "a": make_campaign(org, status="started", title="Alpha"),
        "b": make_campaign(org, status="started", title="Beta"),
    }
    a_alice = ensure_assignment(db.session, w["a"].id, w["alice"].id)[0].id
    b_alice = ensure_assignment(db.session, w["b"].id, w["alice"].id)[0].id
    a_bob = ensure_assignment(db.session, w["a"].id, w["bob"].id)[0].id
    db.session.commit()
    make_contacts(w["a"], 70, assignment_id=a_alice)
    make_contacts(w["a"], 10, start=70, assignment_id=a_bob)
    make_contacts(w["a"], 20, start=80)
    make_contacts(w["b"], 50, start=100, assignment_id=b_alice)
    other = make_org("Other")
    w["intruder"] = make_user(other, role="admin")
    return w


def login(auth, user):
    auth.login_as(user)


def soup_of(response):
    return BeautifulSoup(response.data, "html.parser")


def held(user):
    return db.session.scalar(
        select(func.count())
        .select_from(CampaignContact)
        .join(Assignment, CampaignContact.assignment_id == Assignment.id)
        .where(Assignment.user_id == user.id)
    )


def review_events():
    return db.session.scalars(
        select(AssignmentEvent)
        .where(AssignmentEvent.reason == "message_review")
        .order_by(AssignmentEvent.id)
    ).all()


def unassign_alice(client, w, **kw):
    data = {"texter": str(w["alice"].id), "scope": "all", "action": "unassign"}
    return client.post("/review/bulk", data=data, **kw)


def test_above_threshold_runs_as_a_job_and_shows_the_result(world, client, auth):
    w = world
    login(auth, w["admin"])
    r = unassign_alice(client, w)
    [bulk] = db.session.scalars(select(BulkAction)).all()
    assert r.status_code == 303 and r.location == f"/review/bulk/{bulk.id}"
    assert (bulk.organization_id, bulk.user_id, bulk.action) == (
        w["org"].id,
        w["admin"].id,
        "unassign",
    )
    assert bulk.filter_args == {"texter": str(w["alice"].id)} and bulk.texter_ids == []
    assert (bulk.status, bulk.total, bulk.moved, bulk.finished_at) == ("done", 120, 120, T0)
    assert bulk.message == "Unassigned 120 conversations: they are back in the pool."
    assert held(w["alice"]) == 0 and held(w["bob"]) == 10
    evs = review_events()
    assert [(e.campaign_id, e.contact_count) for e in evs] == [
        (w["a"].id, 25),
        (w["a"].id, 25),
        (w["a"].id, 20),
        (w["b"].id, 25),
        (w["b"].id, 25),
    ]
    assert all(e.actor_id == w["admin"].id for e in evs)

    page = client.get(r.location)
    assert page.status_code == 200
    soup = soup_of(page)
    assert soup.find("h1").get_text(strip=True) == "Message Review"
    section = soup.find("section", id=f"bulk-action-{bulk.id}")
    bar = section.find("progress", attrs={"aria-label": "Bulk action progress"})
    assert bar["value"] == "100"
    assert "120 of 120 moved" in section.get_text(" ", strip=True)
    status = section.find(attrs={"role": "status"}).get_text(strip=True)
    assert status == "Unassigned 120 conversations: they are back in the pool."
    back = section.find("a", string="Back to Message Review")
    assert back["href"] == f"/review?texter={w['alice'].id}"
    assert not section.has_attr("hx-get") and soup.find("noscript") is None


def test_htmx_post_answers_with_the_progress_fragment(world, client, auth):
    w = world
    login(auth, w["admin"])
    data = {
        "campaign": str(w["a"].id),
        "scope": "all",
        "action": "reassign",
        "texters": [str(w["bob"].id), str(w["cara"].id)],
    }
    r = client.post("/review/bulk", data=data, headers={"HX-Request": "true"})
    assert r.status_code == 200
    soup = soup_of(r)
    assert soup.find("html") is None
    section = soup.find("section")
    bulk = db.session.scalars(select(BulkAction)).one()
    assert section["id"] == f"bulk-action-{bulk.id}" and section["hx-swap"] == "outerHTML"
    # Alpha: 100 match; Bob's 10 stay with him, the other 90 split evenly.
    assert (bulk.action, bulk.total, bulk.moved, bulk.texter_ids) == (
        "reassign",
        100,
        90,
        [w["bob"].id, w["cara"].id],
    )
    assert section.find(attrs={"role": "status"}).get_text(strip=True) == (
        "Reassigned 90 conversations: 45 to Bob Brown, 45 to Cara Cole."
    )
    assert "90 of 100 moved" in section.get_text(" ", strip=True)
    assert held(w["bob"]) == 55 and held(w["cara"]) == 45


def test_progress_commits_with_each_chunk(world):
    """Another connection (the progress page) sees `moved` grow chunk by chunk."""
    w = world
    f, _ = review.parse_filter(db.session, w["org"].id, {"texter": str(w["alice"].id)})
    bulk = review_jobs.create_bulk_action(
        db.session,
        f,
        {"texter": str(w["alice"].id)},
        action="unassign",
        texter_ids=[],
        user_id=w["admin"].id,
        total=120,
    )
    db.session.commit()
    bulk_id, seen = bulk.id, []

    def look(_session):
        with db.engine.connect() as conn:
            row = conn.execute(
                select(BulkAction.status, BulkAction.moved).where(BulkAction.id == bulk_id)
            ).one()
            seen.append(tuple(row))

    session = db.session()
    event.listen(session, "after_commit", look)
    try:
        review_jobs.run_bulk_action(db.session, bulk_id)
    finally:
        event.remove(session, "after_commit", look)
    running = [moved for status, moved in dict.fromkeys(seen) if status == "running"]
    assert running == [0, 25, 50, 70, 95, 120]
    assert seen[-1] == ("done", 120)


def running_action(w, **overrides):
    bulk = BulkAction(
        organization_id=w["org"].id,
        user_id=w["admin"].id,
        action="unassign",
        filter_args={"campaign": str(w["a"].id), "status": "needs_message"},
        texter_ids=[],
        status="running",
        total=120,
        moved=40,
        **overrides,
    )
    db.session.add(bulk)
    db.session.commit()
    return bulk


def test_progress_page_fragment_full_page_and_access(world, client, auth):
    w = world
    bulk = running_action(w)
    url = f"/review/bulk/{bulk.id}"
    login(auth, w["admin"])
    r = client.get(url, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "HX-Request" in r.headers["Vary"]
    soup = soup_of(r)
    assert soup.find("html") is None
    section = soup.find("section")
    assert (section["hx-get"], section["hx-trigger"], section["hx-target"]) == (
        url,
        "load delay:1s",
        "this",
    )
    bar = section.find("progress", attrs={"aria-label": "Bulk action progress"})
    assert (bar["value"], bar["max"]) == ("33", "100")
    text = section.get_text(" ", strip=True)
    assert "Status: Moving conversations" in text and "40 of 120 moved" in text
    assert section.find("a", string="Back to Message Review")["href"] == (
        f"/review?campaign={w['a'].id}&status=needs_message"
    )

    full = soup_of(client.get(url))
    assert full.find("h1").get_text(strip=True) == "Message Review"
    refresh = full.find("noscript").find("meta")
    assert refresh["http-equiv"] == "refresh"
    assert full.find("section", id=f"bulk-action-{bulk.id}")["hx-get"] == url
    assert all(form.get("action") for form in full.find_all("form"))

    assert client.get("/review/bulk/999999").status_code == 404
    login(auth, w["alice"])
    assert client.get(url).status_code == 403
    login(auth, w["intruder"])
    assert client.get(url).status_code == 404
    assert client.get(url, headers={"HX-Request": "true"}).status_code == 404


def test_failed_page_says_how_many_stay_moved(world, client, auth):
    w = world
    bulk = running_action(w, error="The bulk action stopped: disk full")
    db.session.execute(update(BulkAction).where(BulkAction.id == bulk.id).values(status="failed"))
    db.session.commit()
    login(auth, w["admin"])
    soup = soup_of(client.get(f"/review/bulk/{bulk.id}"))
    alert = soup.find(attrs={"role": "alert"}).get_text(" ", strip=True)
    assert "The bulk action stopped: disk full" in alert
    assert "40 conversations were moved before it stopped; they stay moved." in alert
    assert soup.find("noscript") is None and not soup.find("section").has_attr("hx-get")


@pytest.fixture
def queued(world, monkeypatch):
    """POST the action but keep its job for later: things change before it runs."""
    return capture_jobs(monkeypatch)


def capture_jobs(monkeypatch) -> list[tuple]:
    """Record the arguments of every enqueued job instead of running it."""
    jobs: list[tuple] = []
    monkeypatch.setattr("spoke.runtime.tasks.enqueue", lambda func, *args, **kw: jobs.append(args))
    return jobs


def test_texter_removed_before_the_job_runs_fails_and_moves_nothing(world, queued, client, auth):
    w = world
    login(auth, w["admin"])
    assert unassign_alice(client, w).status_code == 303
    data = {"scope": "all", "action": "reassign", "texters": [str(w["cara"].id)]}
    assert client.post("/review/bulk", data=data).status_code == 303
    [(by_filter,), (to_cara,)] = queued
    for user in (w["alice"], w["cara"]):
        db.session.execute(delete(Membership).where(Membership.user_id == user.id))
    db.session.commit()
    review_job.run_bulk_action(by_filter)
    review_job.run_bulk_action(to_cara)
    db.session.expire_all()
    first, second = db.session.get(BulkAction, by_filter), db.session.get(BulkAction, to_cara)
    assert (first.status, first.moved, first.finished_at) == ("failed", 0, T0)
    assert first.error == "The texter in the filter is no longer a member of the organization."
    assert second.status == "failed" and second.error == (
        "A texter to reassign to is no longer a member of the organization."
    )
    assert review_events() == [] and held(w["alice"]) == 120
    alert = soup_of(client.get(f"/review/bulk/{by_filter}")).find(attrs={"role": "alert"})
    assert "Nothing was moved." in alert.get_text(" ", strip=True)


def test_a_job_run_twice_does_nothing_the_second_time(world, queued, client, auth):
    w = world
    login(auth, w["admin"])
    unassign_alice(client, w)
    [(bulk_id,)] = queued
    review_job.run_bulk_action(bulk_id)
    # Alice picks some conversations up again; a retried job must not take them away.
    a_alice = ensure_assignment(db.session, w["a"].id, w["alice"].id)[0].id
    db.session.execute(
        update(CampaignContact)
        .where(CampaignContact.assignment_id.is_(None), CampaignContact.campaign_id == w["a"].id)
        .values(assignment_id=a_alice)
    )
    db.session.commit()
    before = held(w["alice"])
    clock.freeze(T0.replace(hour=13))
    review_job.run_bulk_action(bulk_id)
    db.session.expire_all()
    bulk = db.session.get(BulkAction, bulk_id)
    assert (bulk.status, bulk.moved, bulk.finished_at) == ("done", 120, T0)
    assert held(w["alice"]) == before > 0 and len(review_events()) == 5


def test_an_error_mid_run_keeps_committed_chunks_and_says_so(world, client, auth, monkeypatch):
    w = world
    real_record, calls = events.record, []

    def record(session, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real_record(session, **kw)

    monkeypatch.setattr(events, "record", record)
    login(auth, w["admin"])
    r = unassign_alice(client, w)
    bulk = db.session.scalars(select(BulkAction)).one()
    assert r.location == f"/review/bulk/{bulk.id}"
    assert (bulk.status, bulk.moved) == ("failed", 50)
    assert bulk.error == "The bulk action stopped: disk full"
    assert held(w["alice"]) == 70
    alert = soup_of(client.get(r.location)).find(attrs={"role": "alert"})
    assert "50 conversations were moved before it stopped; they stay moved." in alert.get_text(
        " ", strip=True
    )


def test_a_queue_that_cannot_be_reached_fails_the_action_visibly(world, client, auth, monkeypatch):
    w = world

    def unreachable(*args, **kw):
        raise ConnectionError("Redis is unreachable")

    monkeypatch.setattr("spoke.runtime.tasks.enqueue", unreachable)
    login(auth, w["admin"])
    r = unassign_alice(client, w, headers={"HX-Request": "true"})
    assert r.status_code == 200
    bulk = db.session.scalars(select(BulkAction)).one()
    assert bulk.status == "failed" and held(w["alice"]) == 120
    alert = soup_of(r).find(attrs={"role": "alert"}).get_text(" ", strip=True)
    assert "It could not be started: Redis is unreachable" in alert
    assert "Nothing was moved." in alert


def test_at_or_below_the_threshold_runs_in_the_request_as_before(world, client, auth, monkeypatch):
    w = world
    monkeypatch.setattr(review_jobs, "JOB_THRESHOLD", 120)  # exactly Alice's 120: not above
    login(auth, w["admin"])
    r = unassign_alice(client, w)
    assert r.status_code == 303 and r.location == f"/review?texter={w['alice'].id}"
    assert db.session.scalar(select(func.count()).select_from(BulkAction)) == 0
    flash = soup_of(client.get(r.location)).select_one(".flash").get_text(strip=True)
    assert flash == "Unassigned 120 conversations: they are back in the pool."
    # Selected rows never become a job, however low the threshold.
    monkeypatch.setattr(review_jobs, "JOB_THRESHOLD", 0)
    ids = db.session.scalars(select(CampaignContact.id).limit(2)).all()
    data = {"scope": "selected", "action": "unassign", "contact_ids": [str(i) for i in ids]}
    r = client.post("/review/bulk", data=data, headers={"HX-Request": "true"})
    assert r.status_code == 200 and soup_of(r).find("section")["id"] == "review-results"
    assert db.session.scalar(select(func.count()).select_from(BulkAction)) == 0


def test_reassign_to_a_stranger_is_refused_before_any_job(world, client, auth):
    w = world
    login(auth, w["admin"])
    data = {"scope": "all", "action": "reassign", "texters": [str(w["intruder"].id)]}
    r = client.post("/review/bulk", data=data)
    assert r.status_code == 422
    assert "Choose texters from the list." in soup_of(r).get_text()
    assert db.session.scalar(select(func.count()).select_from(BulkAction)) == 0


def alice_holds(pg_app, n: int):
    """Alice holds n contacts of a started campaign; a client logged in as the admin.

    Returns (client, Alice's id, the campaign's id, the contacts' ids).
    """
    from flask import g

    with pg_app.app_context():
        org = make_org()
        admin, alice = make_user(org, role="admin"), make_user(org)
        campaign = make_campaign(org, status="started")
        assignment = ensure_assignment(db.session, campaign.id, alice.id)[0].id
        db.session.commit()
        ids = make_contacts(campaign, n, assignment_id=assignment)
        admin_login, alice_id, campaign_id = admin.get_id(), alice.id, campaign.id
    client = pg_app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = admin_login
    g.pop("_login_user", None)  # pg_app's app context is shared with the requests
    return client, alice_id, campaign_id, ids


@pytest.mark.skipif(not RQ_READY, reason="needs REDIS_URL and TEST_DATABASE_URL")
def test_a_real_rq_worker_runs_the_bulk_action(
    pg_app, redis_conn, queue_name, pg_database, monkeypatch
):
    from spoke.runtime import tasks

    monkeypatch.setattr(review_jobs, "JOB_THRESHOLD", 10)
    client, alice_id, _, _ = alice_holds(pg_app, 30)
    data = {"texter": str(alice_id), "scope": "all", "action": "unassign"}
    r = client.post("/review/bulk", data=data)
    assert r.status_code == 303
    waiting = soup_of(client.get(r.location))
    assert "Status: Waiting to start" in waiting.get_text(" ", strip=True)
    with pg_app.app_context():
        assert db.session.scalars(select(BulkAction)).one().status == "queued"
        assert len(tasks.queue().get_job_ids()) == 1
    worker = run_worker(queue_name, pg_database)
    assert worker.returncode == 0, worker.stderr
    with pg_app.app_context():
        db.session.rollback()
        bulk = db.session.scalars(select(BulkAction)).one()
        assert (bulk.status, bulk.moved, bulk.total) == ("done", 30, 30), bulk.error
    done = soup_of(client.get(r.location)).find(attrs={"role": "status"})
    assert done.get_text(strip=True) == "Unassigned 30 conversations: they are back in the pool."
