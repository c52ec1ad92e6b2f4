"""Message Review bulk actions whose worker died: the page says it stopped, and Resume
continues from the last committed chunk, moving each contact exactly once.

The kill is simulated by raising a BaseException (like SystemExit, which `except Exception`
does not catch) inside chunk k+1's transaction, after chunk k committed: the action stays
"running" with chunk k+1 rolled back, which is what a SIGKILLed worker leaves behind. A real
SIGKILL of a real `rq worker` on PostgreSQL is in tests/test_review_resume_rq.py.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from spoke import clock
from spoke.assignment import events, review, review_bulk, review_jobs
from spoke.assignment.manual import ensure_assignment
from spoke.extensions import db
from spoke.models import Assignment, BulkAction, CampaignContact
from tests.test_review_jobs import (
    T0,
    build_world,
    capture_jobs,
    held,
    review_events,
    soup_of,
)

STALLED = T0 + timedelta(minutes=11)


@pytest.fixture
def world(ctx, monkeypatch):
    """Alice holds 70 in Alpha and 50 in Beta; Bob holds 10; 20 wait in the pool."""
    return build_world(monkeypatch)


class Killed(BaseException):
    """The worker died: nothing in the job may catch this."""


def kill_during_chunk(monkeypatch, k: int) -> None:
    """Let k chunks commit, then die inside chunk k+1's transaction."""
    real_record, calls = events.record, []

    def record(session, **kw):
        calls.append(1)
        if len(calls) == k + 1:
            raise Killed
        return real_record(session, **kw)

    monkeypatch.setattr(events, "record", record)


def start_action(w, action: str, args: dict, texters=()) -> int:
    f, errors = review.parse_filter(db.session, w["org"].id, args)
    assert not errors
    bulk = review_jobs.create_bulk_action(
        db.session,
        f,
        args,
        action=action,
        texter_ids=list(texters),
        user_id=w["admin"].id,
        total=review.count(db.session, f),
    )
    db.session.commit()
    return bulk.id


def run_killed(bulk_id: int, k: int) -> BulkAction:
    with pytest.MonkeyPatch.context() as mp, pytest.raises(Killed):
        kill_during_chunk(mp, k)
        review_jobs.run_bulk_action(db.session, bulk_id)
    db.session.rollback()  # the dead worker's connection: its open chunk is gone
    db.session.expire_all()
    return db.session.get(BulkAction, bulk_id)


def moved_ids() -> Counter[int]:
    """How many times each contact was moved by Message Review, from the audit."""
    return Counter(i for e in review_events() for i in e.contact_ids)


def pool_ids(campaign) -> set[int]:
    return set(
        db.session.scalars(
            select(CampaignContact.id).where(
                CampaignContact.campaign_id == campaign.id,
                CampaignContact.assignment_id.is_(None),
            )
        )
    )


def test_killed_unassign_resumes_from_its_cursor_and_moves_each_contact_once(
    world, client, auth, monkeypatch
):
    w = world
    alices = set(
        db.session.scalars(
            select(CampaignContact.id)
            .join(Assignment, CampaignContact.assignment_id == Assignment.id)
            .where(Assignment.user_id == w["alice"].id)
        )
    )
    bulk_id = start_action(w, "unassign", {"texter": str(w["alice"].id)})
    bulk = run_killed(bulk_id, k=2)
    # Chunks 1 and 2 (Alpha's first 50) committed with their progress and cursor.
    assert (bulk.status, bulk.moved, bulk.finished_at) == ("running", 50, None)
    first_50 = sorted(alices)[:50]
    assert (bulk.resume_campaign_id, bulk.resume_contact_id) == (w["a"].id, first_50[-1])
    assert held(w["alice"]) == 70 and len(review_events()) == 2

    # Meanwhile Alice claims 5 of the conversations the dead run put back in the pool:
    # a Resume that started over would take them from her again.
    a_alice = ensure_assignment(db.session, w["a"].id, w["alice"].id)[0].id
    reclaimed = first_50[:5]
    db.session.execute(
        update(CampaignContact)
        .where(CampaignContact.id.in_(reclaimed))
        .values(assignment_id=a_alice)
    )
    db.session.commit()

    auth.login_as(w["admin"])
    clock.freeze(STALLED)
    r = client.post(f"/review/bulk/{bulk_id}/resume")
    assert r.status_code == 303 and r.location == f"/review/bulk/{bulk_id}"
    db.session.expire_all()
    bulk = db.session.get(BulkAction, bulk_id)
    assert (bulk.status, bulk.moved, bulk.total, bulk.error) == ("done", 120, 120, "")
    assert bulk.finished_at == STALLED
    assert bulk.message == "Unassigned 120 conversations: they are back in the pool."
    # Each of Alice's 120 was moved exactly once; the 5 she took back stay hers.
    counts = moved_ids()
    assert set(counts) == alices and set(counts.values()) == {1}
    assert sum(e.contact_count for e in review_events()) == 120
    assert held(w["alice"]) == 5 and held(w["bob"]) == 10
    assert not set(reclaimed) & pool_ids(w["a"])

    section = soup_of(client.get(r.location)).find("section", id=f"bulk-action-{bulk_id}")
    text = section.get_text(" ", strip=True)
    assert "Status: Finished" in text and "120 of 120 moved" in text
    assert section.find(attrs={"role": "status"}).get_text(strip=True) == bulk.message
    assert not section.has_attr("hx-trigger") and section.find("form") is None


def test_killed_reassign_resumes_with_counts_and_events_consistent(
    world, client, auth, monkeypatch
):
    w = world
    args = {"campaign": str(w["a"].id)}
    bulk_id = start_action(w, "reassign", args, texters=[w["bob"].id, w["cara"].id])
    bulk = run_killed(bulk_id, k=2)
    assert (bulk.status, bulk.moved, bulk.total) == ("running", 50, 100)
    assert held(w["bob"]) == 10 + 25 and held(w["cara"]) == 25

    auth.login_as(w["admin"])
    clock.freeze(STALLED)
    r = client.post(f"/review/bulk/{bulk_id}/resume", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "HX-Request" in r.headers["Vary"]
    soup = soup_of(r)
    assert soup.find("html") is None
    section = soup.find("section", id=f"bulk-action-{bulk_id}")
    db.session.expire_all()
    bulk = db.session.get(BulkAction, bulk_id)
    # Alpha's 100 match; Bob's own 10 stay with him; 90 moved, 50 before the kill, 40 after.
    assert (bulk.status, bulk.moved) == ("done", 90)
    assert bulk.message == (
        "Reassigned 90 conversations; of the 40 moved after resuming: "
        "20 to Bob Brown, 20 to Cara Cole."
    )
    assert section.find(attrs={"role": "status"}).get_text(strip=True) == bulk.message
    assert held(w["bob"]) == 55 and held(w["cara"]) == 45 and held(w["alice"]) == 50
    counts = moved_ids()
    assert len(counts) == 90 and set(counts.values()) == {1}
    assert [e.contact_count for e in review_events()] == [25, 25, 25, 15]
    assert not pool_ids(w["a"])


def stuck_action(w, status: str = "running", **values) -> int:
    bulk = BulkAction(
        organization_id=w["org"].id,
        user_id=w["admin"].id,
        action="unassign",
        filter_args={"texter": str(w["alice"].id)},
        texter_ids=[],
        status=status,
        total=120,
        **{"moved": 0, **values},
    )
    db.session.add(bulk)
    db.session.commit()
    return bulk.id


@pytest.mark.parametrize("status", ["queued", "running"])
def test_no_progress_for_the_stall_window_says_it_stopped_and_stops_polling(
    world, client, auth, status
):
    w = world
    bulk_id = stuck_action(w, status)
    url = f"/review/bulk/{bulk_id}"
    auth.login_as(w["admin"])
    clock.freeze(T0 + timedelta(minutes=9))
    soup = soup_of(client.get(url, headers={"HX-Request": "true"}))
    assert soup.find("section")["hx-trigger"] == "load delay:1s"  # still within the window
    assert soup.find("form") is None and "It stopped" not in soup.get_text()

    clock.freeze(STALLED)
    for headers in ({"HX-Request": "true"}, {}):
        soup = soup_of(client.get(url, headers=headers))
        section = soup.find("section", id=f"bulk-action-{bulk_id}")
        assert not section.has_attr("hx-trigger") and not section.has_attr("hx-get")
        assert soup.find("meta", attrs={"http-equiv": "refresh"}) is None
        assert "Status: Stopped" in section.get_text(" ", strip=True)
        alert = section.find(attrs={"role": "alert"}).get_text(" ", strip=True)
        assert "It stopped: its worker is no longer running" in alert
        assert "no progress for over 10 minutes" in alert
        form = section.find("form")
        resume = url + "/resume"
        assert (form["method"], form["action"], form["hx-post"]) == ("post", resume, resume)
        assert form.find("input", attrs={"name": "csrf_token"}) is not None
        assert form.find("button").get_text(strip=True) == "Resume"
        assert all(form.get("action") for form in soup.find_all("form"))
    db.session.expire_all()
    assert db.session.get(BulkAction, bulk_id).status == status  # a GET changes nothing


@pytest.fixture
def queued(world, monkeypatch):
    """Record enqueued jobs instead of running them."""
    return capture_jobs(monkeypatch)


def test_a_double_resume_starts_one_job(world, queued, client, auth):
    w = world
    bulk_id = stuck_action(w, moved=40, resume_campaign_id=w["a"].id, resume_contact_id=40)
    auth.login_as(w["admin"])
    clock.freeze(STALLED)
    first = client.post(f"/review/bulk/{bulk_id}/resume", headers={"HX-Request": "true"})
    second = client.post(f"/review/bulk/{bulk_id}/resume", headers={"HX-Request": "true"})
    assert queued == [(bulk_id,)]
    assert first.status_code == second.status_code == 200
    assert soup_of(first).find("section")["hx-trigger"] == "load delay:1s"  # polls again
    assert "Status: Waiting to start" in soup_of(first).get_text(" ", strip=True)
    notice = soup_of(second).find(attrs={"role": "alert"}).get_text(" ", strip=True)
    assert notice == "It is already running; this page shows how far it got."
    db.session.expire_all()
    bulk = db.session.get(BulkAction, bulk_id)
    # Resumed, not restarted: the progress and the cursor are kept for the job.
    assert (bulk.status, bulk.moved, bulk.resume_contact_id, bulk.updated_at) == (
        "queued",
        40,
        40,
        STALLED,
    )


def test_resume_of_a_finished_action_is_refused_with_a_reason(world, queued, client, auth):
    w = world
    bulk_id = stuck_action(w, status="done", moved=120, finished_at=T0, message="Unassigned.")
    auth.login_as(w["admin"])
    clock.freeze(STALLED)
    r = client.post(f"/review/bulk/{bulk_id}/resume")
    assert r.status_code == 303 and r.location == f"/review/bulk/{bulk_id}"
    flash = soup_of(client.get(r.location)).select_one(".flash").get_text(strip=True)
    assert flash == "It has already finished: there is nothing left to resume."
    r = client.post(f"/review/bulk/{bulk_id}/resume", headers={"HX-Request": "true"})
    alert = soup_of(r).find(attrs={"role": "alert"}).get_text(strip=True)
    assert alert == "It has already finished: there is nothing left to resume."
    assert queued == []
    db.session.expire_all()
    assert db.session.get(BulkAction, bulk_id).status == "done"


def test_a_failed_action_can_be_resumed(world, client, auth):
    """A run that stopped on an error (or an embedded server's restart) resumes as well."""
    w = world
    bulk_id = stuck_action(w, status="failed", error="The bulk action stopped: disk full")
    auth.login_as(w["admin"])
    soup = soup_of(client.get(f"/review/bulk/{bulk_id}"))
    section = soup.find("section", id=f"bulk-action-{bulk_id}")
    assert section.find("form")["action"] == f"/review/bulk/{bulk_id}/resume"
    client.post(f"/review/bulk/{bulk_id}/resume")
    db.session.expire_all()
    bulk = db.session.get(BulkAction, bulk_id)
    assert (bulk.status, bulk.moved, bulk.error) == ("done", 120, "")
    assert held(w["alice"]) == 0


def test_resume_is_staff_only_post_only_and_another_orgs_is_404(world, queued, client, auth):
    w = world
    bulk_id = stuck_action(w)
    url = f"/review/bulk/{bulk_id}/resume"
    clock.freeze(STALLED)
    auth.login_as(w["intruder"])
    assert client.post(url).status_code == 404
    assert client.post(url, headers={"HX-Request": "true"}).status_code == 404
    auth.login_as(w["alice"])
    assert client.post(url).status_code == 403
    auth.login_as(w["admin"])
    assert client.get(url).status_code == 405
    assert client.post("/review/bulk/999999/resume").status_code == 404
    assert queued == []
    db.session.expire_all()
    assert db.session.get(BulkAction, bulk_id).status == "running"


def test_resume_needs_the_csrf_token(world, app, client, auth, queued):
    w = world
    bulk_id = stuck_action(w)
    clock.freeze(STALLED)
    auth.login_as(w["admin"])
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        r = client.post(f"/review/bulk/{bulk_id}/resume")
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert r.status_code == 400 and queued == []


def test_a_stalled_worker_that_wakes_after_a_resume_changes_nothing(world, monkeypatch):
    """Two walkers of one action: the one whose cursor is stale rolls its chunk back."""
    w = world
    bulk_id = start_action(w, "unassign", {"texter": str(w["alice"].id)})
    bulk = run_killed(bulk_id, k=2)
    stale = (bulk.resume_campaign_id, bulk.resume_contact_id)
    clock.freeze(STALLED)
    assert review_jobs.resume_bulk_action(db.session, bulk_id, at=STALLED) is None
    db.session.commit()
    review_jobs.run_bulk_action(db.session, bulk_id)
    # Alice picks up Beta's conversations again; the old worker, still at its stale cursor,
    # would take them from her.
    b_alice = ensure_assignment(db.session, w["b"].id, w["alice"].id)[0].id
    db.session.execute(
        update(CampaignContact)
        .where(CampaignContact.campaign_id == w["b"].id)
        .values(assignment_id=b_alice)
    )
    db.session.commit()
    f, _ = review.parse_filter(db.session, w["org"].id, {"texter": str(w["alice"].id)})
    with pytest.raises(review_jobs.Superseded):
        review_bulk.bulk_unassign(
            db.session,
            f,
            actor_id=w["admin"].id,
            chunk=25,
            start=stale,
            moved=50,
            on_chunk=review_jobs.chunk_progress(bulk_id, stale),
        )
    db.session.rollback()
    db.session.expire_all()
    assert held(w["alice"]) == 50
    bulk = db.session.get(BulkAction, bulk_id)
    assert (bulk.status, bulk.moved) == ("done", 120)


def test_embedded_start_marks_bulk_actions_left_running_as_interrupted(world):
    w = world
    ids = {status: stuck_action(w, status) for status in ("queued", "running", "done")}
    assert review_jobs.fail_interrupted(db.session) == 2
    db.session.expire_all()
    for status in ("queued", "running"):
        bulk = db.session.get(BulkAction, ids[status])
        assert bulk.status == "failed" and bulk.finished_at == T0
        assert bulk.error.startswith("It stopped: the server restarted while it ran.")
    assert db.session.get(BulkAction, ids["done"]).status == "done"
    assert db.session.scalar(select(func.count()).where(BulkAction.status == "failed")) == 2
