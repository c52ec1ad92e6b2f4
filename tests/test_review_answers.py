"""Message Review filters by a question's answer and by "no answer yet", in the listing, the
count, the bulk moves and a bulk action run as a job."""

from __future__ import annotations

from datetime import datetime

import pytest
from bs4 import BeautifulSoup
from flask import g
from sqlalchemy import select

from spoke import clock
from spoke.assignment import review_jobs
from spoke.assignment.manual import ensure_assignment
from spoke.extensions import db
from spoke.models import BulkAction, CampaignContact, ContactAnswer
from spoke.responses import questions
from tests.factories import make_campaign, make_contacts, make_org, make_user

T0 = datetime(2031, 5, 4, 12, 0, 0)


@pytest.fixture
def w(ctx, auth):
    """Alpha: contacts 0-2 said Yes, 3 said No, 4-9 no answer (all held by Alice).
    Beta has its own contacts, none answered, and another organization has a question too."""
    clock.freeze(T0)
    org = make_org()
    admin = make_user(org, "admin", name="Ada Admin")
    alice = make_user(org, name="Alice Adams")
    alpha = make_campaign(org, status="started", title="Alpha")
    beta = make_campaign(org, status="started", title="Beta")
    held = ensure_assignment(db.session, alpha.id, alice.id)[0].id
    db.session.commit()
    ids = make_contacts(alpha, 10, assignment_id=held, message_status="convo")
    beta_ids = make_contacts(beta, 4, start=50)
    q = questions.add_question(db.session, alpha.id, "Will you vote?", "Yes\nNo")
    db.session.commit()
    yes, no = (a.id for a in q.answers)
    for cid, aid in [(ids[0], yes), (ids[1], yes), (ids[2], yes), (ids[3], no)]:
        db.session.add(
            ContactAnswer(contact_id=cid, question_id=q.id, answer_id=aid, user_id=alice.id)
        )
    other_org = make_org("Other")
    foreign = make_campaign(other_org, status="started")
    fq = questions.add_question(db.session, foreign.id, "Secret?", "Hush")
    db.session.commit()
    auth.login_as(admin)
    g.pop("_login_user", None)
    return {
        "alpha": alpha,
        "beta": beta,
        "ids": ids,
        "beta_ids": beta_ids,
        "qid": q.id,
        "yes": yes,
        "no": no,
        "foreign_answer": fq.answers[0].id,
        "foreign_q": fq.id,
        "alice": alice,
    }


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def listed(response) -> set[int]:
    """The contact ids on the page (their checkboxes)."""
    boxes = soup(response).find_all("input", attrs={"name": "contact_ids"})
    return {int(b["value"]) for b in boxes}


def count_heading(response) -> str:
    return soup(response).find(id="review-count").get_text(strip=True)


def test_filter_by_answer(w, client):
    response = client.get("/review", query_string={"answer": w["yes"]})
    assert listed(response) == set(w["ids"][:3])
    assert count_heading(response) == "3 conversations match"
    select_ = soup(response).find(id="f-answer")
    assert select_.find("option", selected=True).get_text() == "Will you vote? — Yes"
    assert select_.find("optgroup")["label"] == "Alpha: Will you vote?"
    response = client.get("/review", query_string={"answer": w["no"], "campaign": w["alpha"].id})
    assert listed(response) == {w["ids"][3]}


def test_filter_by_no_answer_yet_stays_in_the_questions_campaign(w, client):
    response = client.get("/review", query_string={"answer": f"q{w['qid']}-none"})
    assert listed(response) == set(w["ids"][4:])  # not Beta's contacts, who have no question
    assert count_heading(response) == "6 conversations match"
    option = soup(response).find(id="f-answer").find("option", selected=True)
    assert option.get_text() == "Will you vote? — No answer yet"
    # Recording an answer takes the contact out of "no answer yet".
    db.session.add(
        ContactAnswer(
            contact_id=w["ids"][4], question_id=w["qid"], answer_id=w["no"], user_id=w["alice"].id
        )
    )
    db.session.commit()
    response = client.get("/review", query_string={"answer": f"q{w['qid']}-none"})
    assert listed(response) == set(w["ids"][5:])


def test_filter_combines_with_the_others(w, client):
    contact = db.session.get(CampaignContact, w["ids"][0])
    contact.message_status = "closed"
    db.session.commit()
    query = {"answer": w["yes"], "status": "convo"}
    assert listed(client.get("/review", query_string=query)) == set(w["ids"][1:3])
    query = {"answer": w["yes"], "campaign": w["beta"].id}
    assert listed(client.get("/review", query_string=query)) == set()


@pytest.mark.parametrize("value", ["foreign", "foreign_none", "999999", "q-none", "abc"])
def test_unknown_or_other_organizations_answers_are_refused(w, client, value):
    raw = {
        "foreign": str(w["foreign_answer"]),
        "foreign_none": f"q{w['foreign_q']}-none",
    }.get(value, value)
    response = client.get("/review", query_string={"answer": raw})
    page = soup(response)
    assert page.find(id="f-answer-error").get_text() == "Choose an answer from the list."
    options = [o.get_text() for o in page.find(id="f-answer").find_all("option")]
    assert "Secret? — Hush" not in options


def test_pages_and_bulk_form_keep_the_answer_filter(w, client):
    response = client.get("/review", query_string={"answer": w["yes"]})
    hidden = soup(response).find("input", attrs={"type": "hidden", "name": "answer"})
    assert hidden["value"] == str(w["yes"])


def test_bulk_unassign_everything_with_an_answer(w, client):
    data = {"answer": str(w["yes"]), "scope": "all", "action": "unassign"}
    response = client.post("/review/bulk", data=data)
    assert response.status_code == 303
    assert response.location == f"/review?answer={w['yes']}"
    db.session.expire_all()
    pooled = db.session.scalars(
        select(CampaignContact.id).where(CampaignContact.assignment_id.is_(None))
    ).all()
    assert set(pooled) == set(w["ids"][:3]) | set(w["beta_ids"])


def test_bulk_action_as_a_job_rechecks_the_answer_filter(w, client, monkeypatch):
    monkeypatch.setattr(review_jobs, "JOB_THRESHOLD", 2)
    data = {"answer": f"q{w['qid']}-none", "scope": "all", "action": "unassign"}
    response = client.post("/review/bulk", data=data)
    (bulk,) = db.session.scalars(select(BulkAction)).all()
    assert response.location == f"/review/bulk/{bulk.id}"
    assert bulk.filter_args == {"answer": f"q{w['qid']}-none"}
    assert (bulk.status, bulk.moved) == ("done", 6)
    db.session.expire_all()
    still_held = db.session.scalars(
        select(CampaignContact.id).where(CampaignContact.assignment_id.is_not(None))
    ).all()
    assert set(still_held) == set(w["ids"][:4])
