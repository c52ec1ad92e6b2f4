"""The dashboard's activity rollup and campaign exports (each one an audit record)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spoke.clock import now
from spoke.extensions import db
from spoke.models.people import User

# The contacts' replies are counted on the rollup row of this texter id (no texter sent them).
CONTACTS_ROW = 0
EXPORT_KINDS = ("contacts", "messages")


class CampaignActivity(db.Model):
    """Texts per 15 minutes: kept by the send and receive paths, read by the dashboard.

    One row per (campaign, 15-minute bucket, texter); the contacts' replies are on the row of
    texter `CONTACTS_ROW`. Adding up a few thousand of these rows is what keeps the dashboard
    fast when the campaign has millions of messages.
    """

    __tablename__ = "campaign_activity"
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True
    )
    bucket_at: Mapped[datetime] = mapped_column(primary_key=True)
    texter_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    received: Mapped[int] = mapped_column(Integer, default=0)


class CampaignExport(db.Model):
    """One export of a campaign's contacts or messages: who, what, when, and its file if any.

    Small exports stream straight to the browser (status "streamed"); large ones run as a job
    that writes a file under the instance folder, downloadable with `token` until `expires_at`.
    """

    __tablename__ = "campaign_export"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(12))  # one of EXPORT_KINDS
    # streamed (sent as it was read), or a job's queued/running/done/failed
    status: Mapped[str] = mapped_column(String(12), default="queued")
    total: Mapped[int] = mapped_column(Integer, default=0)
    written: Mapped[int] = mapped_column(Integer, default=0)
    token: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    path: Mapped[str] = mapped_column(String(1000), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User | None] = relationship()

    @property
    def is_running(self) -> bool:
        return self.status in ("queued", "running")

    @property
    def percent(self) -> int:
        if self.status in ("done", "streamed"):
            return 100
        return min(99, int(100 * self.written / self.total)) if self.total else 0
