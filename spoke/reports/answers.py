"""Survey answers for the dashboard and the contacts export (questions: spoke.responses)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spoke.models import ContactAnswer, Question, QuestionAnswer


@dataclass
class QuestionTally:
    """One question on the dashboard: how many contacts gave each answer."""

    question: str
    answers: list[tuple[str, int]] = field(default_factory=list)


def answers_per_question(session: Session, campaign_id: int) -> list[QuestionTally]:
    """The campaign's questions in order, each answer with how many contacts gave it."""
    counts = (
        select(ContactAnswer.answer_id, func.count().label("n"))
        .join(Question, Question.id == ContactAnswer.question_id)
        .where(Question.campaign_id == campaign_id)
        .group_by(ContactAnswer.answer_id)
        .subquery()
    )
    rows = session.execute(
        select(Question.id, Question.text, QuestionAnswer.label, func.coalesce(counts.c.n, 0))
        .join(QuestionAnswer, QuestionAnswer.question_id == Question.id)
        .outerjoin(counts, counts.c.answer_id == QuestionAnswer.id)
        .where(Question.campaign_id == campaign_id)
        .order_by(Question.position, Question.id, QuestionAnswer.position, QuestionAnswer.id)
    ).all()
    tallies: dict[int, QuestionTally] = {}
    for question_id, text, label, n in rows:
        tally = tallies.setdefault(question_id, QuestionTally(text))
        tally.answers.append((label, int(n)))
    return list(tallies.values())


def question_columns(session: Session, campaign_id: int) -> list[tuple[int, str]]:
    """The campaign's questions as export columns: (question id, heading)."""
    rows = session.execute(
        select(Question.id, Question.text)
        .where(Question.campaign_id == campaign_id)
        .order_by(Question.position, Question.id)
    ).all()
    return [(question_id, text) for question_id, text in rows]


def contact_answers(
    session: Session, campaign_id: int, contact_ids: Sequence[int]
) -> dict[int, dict[int, str]]:
    """The recorded answer of each contact to each question: {contact id: {question id: answer}}."""
    if not contact_ids:
        return {}
    rows = session.execute(
        select(ContactAnswer.contact_id, ContactAnswer.question_id, QuestionAnswer.label)
        .join(QuestionAnswer, QuestionAnswer.id == ContactAnswer.answer_id)
        .join(Question, Question.id == ContactAnswer.question_id)
        .where(Question.campaign_id == campaign_id, ContactAnswer.contact_id.in_(contact_ids))
    ).all()
    said: dict[int, dict[int, str]] = {}
    for contact_id, question_id, label in rows:
        said.setdefault(contact_id, {})[question_id] = label
    return said
