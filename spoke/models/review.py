"""Message Review bulk actions large enough to run as a job, with their progress."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from spoke.clock import now
from spoke.extensions import db
from spoke.models.messages import STALL_MINUTES


class BulkAction(db.Model):
    """One "Unassign" / "Reassign to" on everything matching a Message Review filter."""

    __tablename__ = "bulk_action"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(12))  # "unassign" or "reassign"
    # The Message Review filter as submitted (re-parsed and re-validated by the job).
    filter_args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    texter_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(12), default="queued")  # queued/running/done/failed
    total: Mapped[int] = mapped_column(Integer, default=0)
    moved: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # Where the chunked walk got to (campaign, last contact id): "Resume" continues from here.
    resume_campaign_id: Mapped[int | None] = mapped_column(Integer, default=None)
    resume_contact_id: Mapped[int | None] = mapped_column(Integer, default=None)

    @property
    def is_running(self) -> bool:
        return self.status in ("queued", "running")

    def stalled(self, at: datetime, minutes: int = STALL_MINUTES) -> bool:
        """Queued or running with no progress for `minutes`: its worker died or never came."""
        return self.is_running and at - self.updated_at > timedelta(minutes=minutes)

    def resumable(self, at: datetime) -> bool:
        """Stopped short of done (failed, or stalled): Resume may continue it."""
        return self.status == "failed" or self.stalled(at)

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        return min(99, int(100 * self.moved / self.total)) if self.total else 0
