"""What contacts said: one recorded answer per (contact, question), who recorded it and when.

Message Review filters on these: contacts with a given answer, or with no answer yet to a
question (`AnswerFilter` and `answer_term`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.orm import Session, selectinload

from spoke.clock import now
from spoke.models import Campaign, CampaignContact, ContactAnswer, Question, QuestionAnswer
from spoke.texting.messaging import SendRefused, load_for_action

NO_ANSWER = "none"  # the filter value "q<id>-none": no answer yet to question <id>


def contact_answers(session: Session, contact_id: int) -> dict[int, ContactAnswer]:
    """The contact's recorded answers by question id, with who recorded each."""
    rows = session.scalars(
        select(ContactAnswer)
        .where(ContactAnswer.contact_id == contact_id)
        .options(selectinload(ContactAnswer.user), selectinload(ContactAnswer.answer))
    )
    return {row.question_id: row for row in rows}


def record_answer(
    session: Session,
    contact_id: int,
    question_id: int,
    answer_id: int,
    user_id: int,
    *,
    is_admin: bool = False,
) -> ContactAnswer:
    """Record (or change) the contact's answer to a question, as `user_id`, now.

    Only the texter holding the contact, or an admin, may; raises SendRefused with the reason
    otherwise, and LookupError when the question or answer is not this contact's campaign's.
    """
    contact, campaign = load_for_action(session, contact_id, user_id, is_admin)
    answer = session.get(QuestionAnswer, answer_id)
    question = session.get(Question, question_id)
    if (
        answer is None
        or question is None
        or answer.question_id != question.id
        or question.campaign_id != campaign.id
    ):
        session.rollback()
        raise LookupError(f"answer {answer_id} of question {question_id}")
    if campaign.status == "archived":
        session.rollback()
        raise SendRefused("archived", "This campaign is archived, so answers can't change.")
    row = session.scalars(
        select(ContactAnswer)
        .where(ContactAnswer.contact_id == contact.id, ContactAnswer.question_id == question_id)
        .with_for_update()
    ).one_or_none()
    if row is None:
        row = ContactAnswer(contact_id=contact.id, question_id=question_id)
        session.add(row)
    elif row.answer_id == answer_id:
        return row  # the same answer again: keep who recorded it first, and when
    row.answer_id, row.user_id, row.recorded_at = answer_id, user_id, now()
    session.flush()
    return row


@dataclass(frozen=True)
class AnswerFilter:
    """Contacts whose answer to `question_id` is `answer_id`, or who have none (None)."""

    question_id: int
    answer_id: int | None

    @property
    def param(self) -> str:
        """The filter as its form value: the answer's id, or "q<question id>-none"."""
        if self.answer_id is None:
            return f"q{self.question_id}-{NO_ANSWER}"
        return str(self.answer_id)


def parse_answer_filter(session: Session, organization_id: int, raw: str) -> AnswerFilter | None:
    """Read the "answer" filter field; None when it is empty or not this organization's."""
    raw = raw.strip()
    if raw.startswith("q") and raw.endswith(f"-{NO_ANSWER}"):
        digits, answer_id = raw[1 : -len(NO_ANSWER) - 1], None
    else:
        digits, answer_id = "", raw
    if answer_id is not None:
        if not (answer_id.isdigit() and len(answer_id) < 12):
            return None
        question_id = session.scalar(
            select(QuestionAnswer.question_id).where(QuestionAnswer.id == int(answer_id))
        )
        if question_id is None:
            return None
        digits, answer_id = str(question_id), int(answer_id)
    if not (digits.isdigit() and len(digits) < 12):
        return None
    owner = session.scalar(
        select(Campaign.organization_id)
        .join(Question, Question.campaign_id == Campaign.id)
        .where(Question.id == int(digits))
    )
    return AnswerFilter(int(digits), answer_id) if owner == organization_id else None


def answer_term(f: AnswerFilter) -> ColumnElement[bool]:
    """The WHERE term for Message Review: has that answer, or no answer yet to the question."""
    if f.answer_id is not None:
        return CampaignContact.id.in_(
            select(ContactAnswer.contact_id).where(ContactAnswer.answer_id == f.answer_id)
        )
    answered = exists().where(
        ContactAnswer.contact_id == CampaignContact.id,
        ContactAnswer.question_id == f.question_id,
    )
    in_campaign = CampaignContact.campaign_id.in_(
        select(Question.campaign_id).where(Question.id == f.question_id)
    )
    return and_(in_campaign, ~answered)


def answer_choices(
    session: Session, organization_id: int
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The filter's choices: per "Campaign: question", each answer and "No answer yet"."""
    rows = session.execute(
        select(Campaign.title, Question)
        .join(Question, Question.campaign_id == Campaign.id)
        .where(Campaign.organization_id == organization_id)
        .options(selectinload(Question.answers))
        .order_by(Campaign.title, Campaign.id, Question.position, Question.id)
    )
    return [
        (
            f"{title}: {q.text}",
            [(str(a.id), f"{q.text} — {a.label}") for a in q.answers]
            + [(AnswerFilter(q.id, None).param, f"{q.text} — No answer yet")],
        )
        for title, q in rows
    ]
