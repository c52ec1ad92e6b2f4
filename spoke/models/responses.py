"""Canned responses, survey questions with their answers, and what each contact answered."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spoke.clock import now
from spoke.extensions import db
from spoke.models.people import User


class CannedResponse(db.Model):
    """A ready-made reply of a campaign; its text uses the script's {fields}."""

    __tablename__ = "canned_response"
    __table_args__ = (Index("ix_canned_response_campaign", "campaign_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=now)


class Question(db.Model):
    """A survey question of a campaign ("Will you vote?"), answered once per contact."""

    __tablename__ = "question"
    __table_args__ = (Index("ix_question_campaign", "campaign_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=now)

    answers: Mapped[list[QuestionAnswer]] = relationship(
        order_by="QuestionAnswer.position, QuestionAnswer.id", viewonly=True
    )


class QuestionAnswer(db.Model):
    """One answer option of a question ("Yes"), with an optional suggested reply."""

    __tablename__ = "question_answer"
    __table_args__ = (Index("ix_question_answer_question", "question_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The canned response offered to the texter once this answer is picked.
    canned_response_id: Mapped[int | None] = mapped_column(
        ForeignKey("canned_response.id", ondelete="SET NULL"), default=None
    )

    canned_response: Mapped[CannedResponse | None] = relationship()


class ContactAnswer(db.Model):
    """What a contact answered to a question: one per (contact, question), who and when."""

    __tablename__ = "contact_answer"
    __table_args__ = (
        UniqueConstraint("contact_id", "question_id"),
        # Message Review's filter by answer and the counts per answer.
        Index("ix_contact_answer_answer", "answer_id", "contact_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("campaign_contact.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"))
    answer_id: Mapped[int] = mapped_column(ForeignKey("question_answer.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=now)

    answer: Mapped[QuestionAnswer] = relationship()
    user: Mapped[User] = relationship()
