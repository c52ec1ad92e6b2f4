"""Messages, the opt-out list and contact imports."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spoke.clock import now
from spoke.extensions import db
from spoke.models.campaigns import CampaignContact
from spoke.models.people import User

MESSAGE_DELIVERY_STATUSES = ("queued", "sent", "delivered", "failed", "received")
STALL_MINUTES = 10


# Outbound messages not yet accepted by the provider: what the outbox re-queuer scans.
_OUTBOX = text("status IN ('queued', 'sending')")
# A texter's answers to a reply: what the dashboard counts and takes the median wait of.
_ANSWERS = text("reply_wait_seconds IS NOT NULL")


class Message(db.Model):
    __tablename__ = "message"
    __table_args__ = (
        Index("ix_message_contact_time", "contact_id", "created_at"),
        # A campaign's messages in id order: the export's keyset pages.
        Index("ix_message_campaign", "campaign_id", "id"),
        Index(
            "ix_message_answers_time",
            "campaign_id",
            "created_at",
            postgresql_where=_ANSWERS,
            sqlite_where=_ANSWERS,
        ),
        Index(
            "ix_message_answers_wait",
            "campaign_id",
            "reply_wait_seconds",
            postgresql_where=_ANSWERS,
            sqlite_where=_ANSWERS,
        ),
        Index(
            "ix_message_outbox",
            "status",
            "status_at",
            postgresql_where=_OUTBOX,
            sqlite_where=_OUTBOX,
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("campaign_contact.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    direction: Mapped[str] = mapped_column(String(3))  # "in" or "out"
    body: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    # When `status` last changed: the outbox clock (a row queued or sending too long is retried).
    status_at: Mapped[datetime | None] = mapped_column(default=now)
    # Provider attempts so far (a failed message may be retried once).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")  # a short reason a texter may read
    error_detail: Mapped[str] = mapped_column(Text, default="")  # provider detail, for admins
    # Set on a texter's answer to an unhandled reply: how long that reply had waited.
    reply_wait_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)

    contact: Mapped[CampaignContact] = relationship()
    sender: Mapped[User | None] = relationship()


class OptOut(db.Model):
    __tablename__ = "opt_out"
    __table_args__ = (UniqueConstraint("organization_id", "cell"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    cell: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=now)


class ContactImport(db.Model):
    """One CSV upload: its progress while it runs and its report when done."""

    __tablename__ = "contact_import"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    filename: Mapped[str] = mapped_column(String(300), default="")
    path: Mapped[str] = mapped_column(String(1000), default="")
    status: Mapped[str] = mapped_column(String(12), default="queued")  # queued/running/done/failed
    total_bytes: Mapped[int] = mapped_column(Integer, default=0)
    processed_bytes: Mapped[int] = mapped_column(Integer, default=0)
    rows_processed: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    opted_out_skipped: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    # [{"row": n, "reason": "..."}], capped; `rejected` has the full count.
    rejected_rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Imported contacts by where their time zone came from: {"csv": n, "zip": n, ...}.
    timezone_sources: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=now)
    # Bumped by every chunk: an import still "running" long after this has lost its worker.
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def is_running(self) -> bool:
        return self.status in ("queued", "running")

    def stalled(self, at: datetime, minutes: int = STALL_MINUTES) -> bool:
        """Queued or running with no progress for `minutes`: its worker died or never came."""
        return self.is_running and at - self.updated_at > timedelta(minutes=minutes)

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        if not self.total_bytes:
            return 0
        return min(99, int(100 * self.processed_bytes / self.total_bytes))
