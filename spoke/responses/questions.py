"""Survey questions: the admin's list of questions, each with its answers in order.

An answer may carry a suggested reply (a canned response of the same campaign). Once contacts
have an answer recorded, neither the answer nor its question can be deleted (the campaign's
results would lose them); the admin can still rename them.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from spoke.models import CannedResponse, ContactAnswer, Question, QuestionAnswer
from spoke.responses.common import begin_campaign_edit, move, next_position, refuse

TEXT_MAX = 300
LABEL_MAX = 100
AnswerEdit = tuple[str, int | None]  # (label, suggested canned response id)


def list_questions(session: Session, campaign_id: int) -> list[Question]:
    """The campaign's questions in order, each with its answers loaded."""
    return list(
        session.scalars(
            select(Question)
            .where(Question.campaign_id == campaign_id)
            .options(selectinload(Question.answers))
            .order_by(Question.position, Question.id)
        )
    )


def get_question(session: Session, campaign_id: int, question_id: int) -> Question | None:
    """One question of this campaign, or None (another campaign's is None too)."""
    question = session.get(Question, question_id)
    return question if question is not None and question.campaign_id == campaign_id else None


def _check_text(text: str) -> dict[str, str]:
    if not text:
        return {"text": "Write the question."}
    if len(text) > TEXT_MAX:
        return {"text": f"Keep the question to {TEXT_MAX} characters."}
    return {}


def _check_labels(labels: list[str]) -> str:
    if not labels:
        return "Give the question at least one answer."
    if any(len(label) > LABEL_MAX for label in labels):
        return f"Keep each answer to {LABEL_MAX} characters."
    if len({label.casefold() for label in labels}) != len(labels):
        return "Each answer must be different."
    return ""


def add_question(session: Session, campaign_id: int, text: str, answers: str) -> Question:
    """Add a question with its answers (one per line) at the end of the campaign's list."""
    text = text.strip()
    labels = [line.strip() for line in answers.splitlines() if line.strip()]
    begin_campaign_edit(session, campaign_id)
    errors = _check_text(text)
    if error := _check_labels(labels):
        errors["answers"] = error
    if errors:
        raise refuse(session, errors)
    scope = Question.campaign_id == campaign_id
    question = Question(
        campaign_id=campaign_id,
        text=text,
        position=next_position(session, Question.position, scope),
    )
    session.add(question)
    session.flush()
    session.add_all(
        QuestionAnswer(question_id=question.id, label=label, position=i)
        for i, label in enumerate(labels)
    )
    session.flush()
    return question


def _locked(session: Session, campaign_id: int, question_id: int) -> Question:
    begin_campaign_edit(session, campaign_id)
    question = get_question(session, campaign_id, question_id)
    if question is None:
        raise refuse(session, {"status": "This question was deleted."})
    return question


def update_question(
    session: Session,
    campaign_id: int,
    question_id: int,
    text: str,
    answers: Mapping[int, AnswerEdit],
    new_answer: AnswerEdit = ("", None),
) -> Question:
    """Save a question's text, its answers' labels and suggested replies, and a new answer."""
    text = text.strip()
    question = _locked(session, campaign_id, question_id)
    errors = _check_text(text)
    options = {a.id: a for a in question.answers}
    edits = {aid: (label.strip(), canned) for aid, (label, canned) in answers.items()}
    new_label = new_answer[0].strip()
    labels = [edits.get(aid, (a.label, None))[0] for aid, a in options.items()]
    if any(not label for label in labels):
        errors["answers"] = "An answer can't be blank; use Remove to delete it."
    elif error := _check_labels(labels + ([new_label] if new_label else [])):
        errors["answers"] = error
    wanted = {c for _, c in [*edits.values(), new_answer] if c is not None}
    allowed = set(
        session.scalars(
            select(CannedResponse.id).where(
                CannedResponse.id.in_(wanted), CannedResponse.campaign_id == campaign_id
            )
        )
    )
    if wanted - allowed:
        errors["answers"] = "Choose a suggested reply from this campaign's canned responses."
    if errors:
        raise refuse(session, errors)
    question.text = text
    for aid, (label, canned) in edits.items():
        if aid in options:
            options[aid].label, options[aid].canned_response_id = label, canned
    if new_label:
        scope = QuestionAnswer.question_id == question.id
        position = next_position(session, QuestionAnswer.position, scope)
        session.add(
            QuestionAnswer(
                question_id=question.id,
                label=new_label,
                position=position,
                canned_response_id=new_answer[1],
            )
        )
    session.flush()
    return question


def move_question(session: Session, campaign_id: int, question_id: int, direction: str) -> None:
    """Move a question one place up or down the list."""
    _locked(session, campaign_id, question_id)
    move(session, Question, Question.campaign_id == campaign_id, question_id, direction)


def _answered(session: Session, *where: object) -> int:
    return session.scalar(select(func.count(ContactAnswer.id)).where(*where)) or 0


def _answered_refusal(n: int, what: str) -> dict[str, str]:
    contacts = "1 contact has" if n == 1 else f"{n:,} contacts have"
    return {"status": f"{contacts} {what} recorded, so it can't be deleted. Rename it instead."}


def delete_question(session: Session, campaign_id: int, question_id: int) -> str:
    """Delete a question nobody has answered yet, with its answers; return its text."""
    question = _locked(session, campaign_id, question_id)
    n = _answered(session, ContactAnswer.question_id == question_id)
    if n:
        raise refuse(session, _answered_refusal(n, "an answer to this question"))
    text = question.text
    session.execute(delete(QuestionAnswer).where(QuestionAnswer.question_id == question_id))
    session.delete(question)
    session.flush()
    return text


def _answer_of(session: Session, question: Question, answer_id: int) -> QuestionAnswer:
    answer = next((a for a in question.answers if a.id == answer_id), None)
    if answer is None:
        raise refuse(session, {"status": "This answer was deleted."})
    return answer


def move_answer(
    session: Session, campaign_id: int, question_id: int, answer_id: int, direction: str
) -> None:
    """Move one of a question's answers one place up or down."""
    question = _locked(session, campaign_id, question_id)
    _answer_of(session, question, answer_id)
    scope = QuestionAnswer.question_id == question_id
    move(session, QuestionAnswer, scope, answer_id, direction)


def remove_answer(session: Session, campaign_id: int, question_id: int, answer_id: int) -> str:
    """Delete an answer no contact has; a question keeps at least one answer. Return its label."""
    question = _locked(session, campaign_id, question_id)
    answer = _answer_of(session, question, answer_id)
    n = _answered(session, ContactAnswer.answer_id == answer_id)
    if n:
        raise refuse(session, _answered_refusal(n, "this answer"))
    if len(question.answers) == 1:
        raise refuse(session, {"status": "A question needs at least one answer."})
    label = answer.label
    session.delete(answer)
    session.flush()
    return label
