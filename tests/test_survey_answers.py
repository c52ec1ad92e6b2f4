"""A texter records what the contact said: one answer per question, saved inline, changeable,
kept with who recorded it and when; an answer's suggested reply is offered, never sent."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from flask import g
from sqlalchemy import func, select

from spoke import clock
from spoke.extensions import db
from spoke.models import CannedResponse, ContactAnswer, Message, Question, QuestionAnswer
from spoke.responses import questions
from spoke.texting import inbound
from tests.factories import give_contacts, make_campaign, make_contacts, make_org, make_user

NOW = datetime(2026, 11, 27, 12, 0, 0)
HX = {"HX-Request": "true"}


class World:
    """A started campaign with a question whose "Yes" suggests a canned response; a texter
    holds contact 0, which replied; another texter holds contact 1."""

    def __init__(self) -> None:
        clock.freeze(NOW)
        self.org = make_org()
        self.admin = make_user(self.org, "admin", name="Ada Admin")
        self.texter = make_user(self.org, "texter", name="Tina Texter")
        self.other = make_user(self.org, "texter", name="Otto Other")
        self.campaign = make_campaign(self.org, status="started", started_at=NOW)
        self.ids = make_contacts(self.campaign, 2)
        give_contacts(self.campaign, self.texter, 1)
        give_contacts(self.campaign, self.other, 1)
        canned = CannedResponse(
            campaign_id=self.campaign.id, title="Thanks", text="Thanks {firstName}!"
        )
        db.session.add(canned)
        db.session.commit()
        self.canned_id = canned.id
        q = questions.add_question(db.session, self.campaign.id, "Will you vote?", "Yes\nNo")
        db.session.commit()
        self.qid = q.id
        self.yes, self.no = (a.id for a in q.answers)
        db.session.get(QuestionAnswer, self.yes).canned_response_id = canned.id
        db.session.commit()
        self.url = f"/texting/contacts/{self.ids[0]}/answers"


@pytest.fixture
def w(ctx, auth, client):
    world = World()
    login(auth, world.texter)
    client.post(f"/texting/contacts/{world.ids[0]}/send")
    inbound.receive_inbound(db.session, "+15550000000", "Yes I will", "SM1")
    db.session.commit()
    return world


def login(auth, user) -> None:
    auth.login_as(user)
    g.pop("_login_user", None)


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def recorded(contact_id: int) -> list[tuple[int, int, datetime]]:
    db.session.expire_all()
    rows = db.session.scalars(select(ContactAnswer).where(ContactAnswer.contact_id == contact_id))
    return [(r.answer_id, r.user_id, r.recorded_at) for r in rows]


def sent() -> int:
    return db.session.scalar(select(func.count(Message.id)).where(Message.direction == "out"))


def test_conversation_shows_the_questions_unanswered(w, client):
    page = soup(client.get(f"/texting/contacts/{w.ids[0]}"))
    survey = page.find(id="survey")
    assert survey.find("legend").get_text(strip=True) == "Will you vote?"
    radios = survey.find_all("input", attrs={"type": "radio"})
    assert [page.find("label", attrs={"for": r["id"]}).get_text(strip=True) for r in radios] == [
        "Yes",
        "No",
    ]
    assert not any(r.has_attr("checked") for r in radios)
    form = survey.find("form")
    assert form["action"] == w.url and form["hx-trigger"] == "change, submit"


def test_plain_form_saves_and_redirects(w, client):
    response = client.post(w.url, data={"question_id": w.qid, "answer_id": w.yes})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/texting/contacts/{w.ids[0]}")
    assert recorded(w.ids[0]) == [(w.yes, w.texter.id, NOW)]
    page = soup(client.get(response.headers["Location"]))
    assert "Saved: Yes." in page.get_text()
    assert page.find(id=f"answer-{w.yes}").has_attr("checked")
    assert "Recorded by Tina Texter, 27 Nov 12:00 UTC" in page.find(id="survey").get_text(" ")


def test_htmx_saves_inline_and_offers_the_suggested_reply(w, client):
    before = sent()
    response = client.post(w.url, data={"question_id": w.qid, "answer_id": w.yes}, headers=HX)
    fragment = soup(response)
    assert fragment.find("section")["id"] == "survey"  # just the fragment
    assert "Saved: Yes." in fragment.get_text()
    link = fragment.find("a", string="Use “Thanks”")
    assert link["href"] == f"/texting/contacts/{w.ids[0]}?canned={w.canned_id}"
    assert link["hx-select"] == "#reply-body"
    filled = soup(client.get(link["href"], headers=HX)).find(id="reply-body").get_text()
    assert filled == "Thanks First0!"
    assert sent() == before  # offered and filled, never sent


def test_answer_can_be_changed_and_keeps_who_and_when(w, client, auth):
    client.post(w.url, data={"question_id": w.qid, "answer_id": w.yes})
    clock.freeze(NOW + timedelta(minutes=5))
    client.post(w.url, data={"question_id": w.qid, "answer_id": w.yes})
    assert recorded(w.ids[0]) == [(w.yes, w.texter.id, NOW)]  # same answer: unchanged
    login(auth, w.admin)  # an admin may correct it without holding the contact
    later = NOW + timedelta(minutes=10)
    clock.freeze(later)
    response = client.post(w.url, data={"question_id": w.qid, "answer_id": w.no}, headers=HX)
    assert recorded(w.ids[0]) == [(w.no, w.admin.id, later)]
    survey = soup(response).find(id="survey")
    assert "Recorded by Ada Admin, 27 Nov 12:10 UTC" in survey.get_text(" ")
    assert survey.find("a", string="Use “Thanks”") is None  # "No" suggests nothing


def test_no_choice_says_why(w, client):
    response = client.post(w.url, data={"question_id": w.qid}, headers=HX)
    assert "Choose an answer first." in soup(response).get_text()
    response = client.post(w.url, data={"question_id": w.qid})
    assert response.status_code == 303
    assert "Choose an answer first." in client.get(response.headers["Location"]).get_data(True)
    assert recorded(w.ids[0]) == []


def test_texter_answers_only_for_contacts_they_hold(w, client):
    theirs = f"/texting/contacts/{w.ids[1]}/answers"
    response = client.post(theirs, data={"question_id": w.qid, "answer_id": w.yes}, headers=HX)
    assert response.headers["HX-Redirect"] == f"/texting/campaigns/{w.campaign.id}"
    response = client.post(theirs, data={"question_id": w.qid, "answer_id": w.yes})
    assert response.status_code == 303
    assert "Your assignment has changed" in client.get(response.headers["Location"]).get_data(True)
    assert recorded(w.ids[1]) == []


def test_texter_without_assignment_is_refused(w, client, auth):
    login(auth, make_user(w.org, "texter"))
    data = {"question_id": w.qid, "answer_id": w.yes}
    assert client.post(w.url, data=data).status_code == 403
    assert recorded(w.ids[0]) == []


def test_other_organizations_and_other_campaigns_are_404(w, client, auth):
    other_campaign = make_campaign(w.org, status="started", started_at=NOW)
    q = questions.add_question(db.session, other_campaign.id, "Other?", "A")
    db.session.commit()
    foreign_answer = q.answers[0].id
    for data in (
        {"question_id": q.id, "answer_id": foreign_answer},  # another campaign's question
        {"question_id": w.qid, "answer_id": foreign_answer},  # answer of another question
        {"question_id": "", "answer_id": w.yes},
    ):
        assert client.post(w.url, data=data).status_code == 404, data
    login(auth, make_user(make_org("Other"), "admin"))
    assert client.post(w.url, data={"question_id": w.qid, "answer_id": w.yes}).status_code == 404
    assert recorded(w.ids[0]) == []


def test_staff_who_cannot_act_see_answers_read_only(w, client, auth):
    client.post(w.url, data={"question_id": w.qid, "answer_id": w.yes})
    login(auth, make_user(w.org, "supervolunteer"))
    survey = soup(client.get(f"/texting/contacts/{w.ids[0]}")).find(id="survey")
    assert survey.find("fieldset").has_attr("disabled")
    assert survey.find("button") is None and survey.find("a") is None
    assert "Recorded by Tina Texter" in survey.get_text()


def test_one_row_per_contact_and_question(w, client):
    client.post(w.url, data={"question_id": w.qid, "answer_id": w.yes})
    client.post(w.url, data={"question_id": w.qid, "answer_id": w.no})
    count = db.session.scalar(select(func.count(ContactAnswer.id)))
    assert count == 1
    assert db.session.scalar(select(func.count(Question.id))) == 1
