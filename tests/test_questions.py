"""Questions: the admin defines questions with answers (each may suggest a canned response),
edits, reorders and deletes them; answered ones can't be deleted."""

from __future__ import annotations

from datetime import datetime

import pytest
from bs4 import BeautifulSoup
from flask import g
from sqlalchemy import select

from spoke import clock
from spoke.extensions import db
from spoke.models import CannedResponse, ContactAnswer, Question, QuestionAnswer
from tests.factories import make_campaign, make_contacts, make_org, make_user

NOW = datetime(2026, 11, 27, 12, 0, 0)
HX = {"HX-Request": "true"}


@pytest.fixture
def w(ctx, auth):
    clock.freeze(NOW)

    class World:
        org = make_org()
        admin = make_user(org, "admin", name="Ada Admin")
        campaign = make_campaign(org, title="Vote Drive", status="started", started_at=NOW)
        base = f"/campaigns/{campaign.id}/questions"

    auth.login_as(World.admin)
    g.pop("_login_user", None)
    return World


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def words(response) -> str:
    return " ".join(soup(response).get_text(" ").split())


def listed() -> list[tuple[str, list[str]]]:
    """The questions in order, each with its answers in order."""
    db.session.expire_all()
    questions = db.session.scalars(select(Question).order_by(Question.position))
    return [(q.text, [a.label for a in q.answers]) for q in questions]


def add(client, w, text="Will you vote?", answers="Yes\nNo\nMaybe", headers=None):
    return client.post(w.base, data={"text": text, "answers": answers}, headers=headers or {})


def answer_ids(label_to: str | None = None) -> dict[str, int]:
    return {a.label: a.id for a in db.session.scalars(select(QuestionAnswer))}


def test_add_a_question_with_answers(w, client):
    response = add(client, w, answers="Yes\n\n No \nMaybe\n")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/campaigns/{w.campaign.id}#questions")
    assert listed() == [("Will you vote?", ["Yes", "No", "Maybe"])]
    page = soup(client.get(f"/campaigns/{w.campaign.id}"))
    section = page.find(id="questions")
    assert section.find("label", string="Question 1")
    assert [i["value"] for i in section.select("input[name^=label_]")] == ["Yes", "No", "Maybe"]
    for form in section.find_all("form"):
        assert form.get("action")
    # Enter in a field presses Save, never an answer's Up or Remove.
    first = section.find("form").find("button", attrs={"type": "submit"})
    assert not first.get("formaction")


@pytest.mark.parametrize(
    ("text", "answers", "field", "error"),
    [
        ("", "Yes", "text", "Write the question."),
        ("x" * 301, "Yes", "text", "Keep the question to 300 characters."),
        ("Q?", "  \n ", "answers", "Give the question at least one answer."),
        ("Q?", "Yes\nyes", "answers", "Each answer must be different."),
        ("Q?", "y" * 101, "answers", "Keep each answer to 100 characters."),
    ],
)
def test_add_refuses_bad_input_with_and_without_htmx(w, client, text, answers, field, error):
    for headers, status in ((HX, 200), ({}, 422)):
        response = add(client, w, text, answers, headers)
        assert response.status_code == status
        page = soup(response)
        assert error in page.find(id=f"q-{field}-error-new").get_text()
        assert page.find(id=f"q-{field}-new")["aria-invalid"] == "true"
    assert listed() == []


def test_edit_question_answers_and_suggested_reply(w, client):
    add(client, w)
    db.session.add(CannedResponse(campaign_id=w.campaign.id, title="Great", text="Great!"))
    db.session.commit()
    canned_id = db.session.scalar(select(CannedResponse.id))
    (qid,) = db.session.scalars(select(Question.id))
    ids = answer_ids()
    data = {
        "text": "Will you vote on Tuesday?",
        f"label_{ids['Yes']}": "Yes!",
        f"reply_{ids['Yes']}": str(canned_id),
        f"label_{ids['No']}": "No",
        f"label_{ids['Maybe']}": "Maybe",
        "new_label": "Already voted",
    }
    response = client.post(f"{w.base}/{qid}", data=data, headers=HX)
    assert "Question saved." in words(response)
    assert listed() == [("Will you vote on Tuesday?", ["Yes!", "No", "Maybe", "Already voted"])]
    yes = db.session.get(QuestionAnswer, ids["Yes"])
    assert yes.canned_response_id == canned_id
    picked = soup(response).find(id=f"a-reply-{ids['Yes']}").find("option", selected=True)
    assert picked.get_text() == "Great"


def test_edit_refusals_keep_what_was_typed(w, client):
    add(client, w)
    (qid,) = db.session.scalars(select(Question.id))
    ids = answer_ids()
    other = make_campaign(w.org, title="Other")
    db.session.add(CannedResponse(campaign_id=other.id, title="Elsewhere", text="x"))
    db.session.commit()
    foreign = db.session.scalar(select(CannedResponse.id))
    cases = [
        ({f"label_{ids['Yes']}": ""}, "An answer can't be blank; use Remove to delete it."),
        ({"new_label": "no"}, "Each answer must be different."),
        ({f"reply_{ids['Yes']}": str(foreign)}, "Choose a suggested reply from this campaign"),
        ({f"reply_{ids['Yes']}": "junk"}, "Choose a suggested reply from this campaign"),
    ]
    for change, error in cases:
        data = {"text": "Typed?", **{f"label_{i}": label for label, i in ids.items()}, **change}
        response = client.post(f"{w.base}/{qid}", data=data)
        assert response.status_code == 422
        assert error in words(response)
        assert soup(response).find(id=f"q-text-{qid}")["value"] == "Typed?"
    assert listed() == [("Will you vote?", ["Yes", "No", "Maybe"])]


def test_reorder_questions_and_answers(w, client):
    add(client, w, "First?")
    add(client, w, "Second?", "A\nB")
    qids = {q.text: q.id for q in db.session.scalars(select(Question))}
    client.post(f"{w.base}/{qids['Second?']}/move", data={"direction": "up"})
    assert [t for t, _ in listed()] == ["Second?", "First?"]
    ids = answer_ids()
    url = f"{w.base}/{qids['First?']}/answers/{ids['Maybe']}/move"
    response = client.post(url, data={"direction": "up"}, headers=HX)
    assert "Answer moved up." in words(response)
    assert listed()[1] == ("First?", ["Yes", "Maybe", "No"])
    # An answer moved through another question's URL is refused, not moved.
    wrong = f"{w.base}/{qids['Second?']}/answers/{ids['Maybe']}/move"
    assert "This answer was deleted." in words(
        client.post(wrong, data={"direction": "up"}, headers=HX)
    )
    assert listed()[1] == ("First?", ["Yes", "Maybe", "No"])


def test_delete_and_remove_are_refused_once_answered(w, client):
    add(client, w)
    (qid,) = db.session.scalars(select(Question.id))
    ids = answer_ids()
    contact = make_contacts(w.campaign, 1)[0]
    db.session.add(
        ContactAnswer(contact_id=contact, question_id=qid, answer_id=ids["Yes"], user_id=w.admin.id)
    )
    db.session.commit()
    response = client.post(f"{w.base}/{qid}/delete", headers=HX)
    assert "1 contact has an answer to this question recorded, so it can't be deleted." in words(
        response
    )
    response = client.post(f"{w.base}/{qid}/answers/{ids['Yes']}/remove", headers=HX)
    assert "1 contact has this answer recorded" in words(response)
    # Unused answers go; the last one stays.
    assert client.post(f"{w.base}/{qid}/answers/{ids['No']}/remove").status_code == 303
    assert listed() == [("Will you vote?", ["Yes", "Maybe"])]
    db.session.execute(ContactAnswer.__table__.delete())
    db.session.commit()
    client.post(f"{w.base}/{qid}/answers/{ids['Maybe']}/remove")
    response = client.post(f"{w.base}/{qid}/answers/{ids['Yes']}/remove", headers=HX)
    assert "A question needs at least one answer." in words(response)
    assert client.post(f"{w.base}/{qid}/delete").status_code == 303
    assert listed() == []
    assert db.session.scalars(select(QuestionAnswer)).all() == []


def test_deleting_a_canned_response_clears_the_suggestion(w, client):
    add(client, w)
    db.session.add(CannedResponse(campaign_id=w.campaign.id, title="Great", text="Great!"))
    db.session.commit()
    canned_id = db.session.scalar(select(CannedResponse.id))
    yes = db.session.get(QuestionAnswer, answer_ids()["Yes"])
    yes.canned_response_id = canned_id
    db.session.commit()
    client.post(f"/campaigns/{w.campaign.id}/canned/{canned_id}/delete")
    db.session.expire_all()
    assert db.session.get(QuestionAnswer, yes.id).canned_response_id is None


def test_archived_campaign_refuses_edits(w, client):
    add(client, w)
    w.campaign.status = "archived"
    db.session.commit()
    assert "archived and can't be edited" in words(add(client, w, "New?", "A", HX))
    assert len(listed()) == 1


def test_authorization(w, client, auth):
    add(client, w)
    (qid,) = db.session.scalars(select(Question.id))
    aid = answer_ids()["Yes"]
    urls = [
        w.base,
        f"{w.base}/{qid}",
        f"{w.base}/{qid}/move",
        f"{w.base}/{qid}/delete",
        f"{w.base}/{qid}/answers/{aid}/move",
        f"{w.base}/{qid}/answers/{aid}/remove",
    ]
    auth.login_as(make_user(w.org, "texter"))
    g.pop("_login_user", None)
    for url in urls:
        assert client.post(url, data={"direction": "up"}).status_code == 403, url
    auth.login_as(make_user(make_org("Other"), "admin"))
    g.pop("_login_user", None)
    for url in urls:
        assert client.post(url, data={"direction": "up"}).status_code == 404, url
    # Another campaign's question through this campaign's URL.
    auth.login_as(w.admin)
    g.pop("_login_user", None)
    other = make_campaign(w.org)
    assert client.post(f"/campaigns/{other.id}/questions/{qid}/delete").status_code == 404
    assert len(listed()) == 1
