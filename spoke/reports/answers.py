"""HOOK: survey answers for the dashboard and the contacts export.

Survey questions are built in parallel (issue 9, "Survey questions"); until their tables
exist these return nothing, and the dashboard and export show no question columns. When the
tables land, fill in these three functions; nothing else needs to change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session


@dataclass
class QuestionTally:
    """One question on the dashboard: how many contacts gave each answer."""

    question: str
    answers: list[tuple[str, int]] = field(default_factory=list)


def answers_per_question(session: Session, campaign_id: int) -> list[QuestionTally]:
    """The campaign's questions with a count per answer (none until questions exist)."""
    return []


def question_columns(session: Session, campaign_id: int) -> list[tuple[int, str]]:
    """The campaign's questions as export columns: (question id, heading)."""
    return []


def contact_answers(
    session: Session, campaign_id: int, contact_ids: Sequence[int]
) -> dict[int, dict[int, str]]:
    """The recorded answer of each contact to each question: {contact id: {question id: answer}}."""
    return {}
