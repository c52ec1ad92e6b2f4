"""Campaigns, their contacts, assignments and the assignment audit log."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from spoke.clock import now
from spoke.extensions import db
from spoke.models.people import Organization, Team, User, new_token

CAMPAIGN_STATUSES = ("draft", "started", "archived")
DEFAULT_TIMEZONE = "America/New_York"
# Where a contact's time zone came from, in the order the importer tries them.
TIMEZONE_SOURCES = ("csv", "zip", "cell", "default")
MESSAGE_STATUSES = ("needs_message", "messaged", "needs_response", "convo", "closed")


_POOL_INITIALS = text(
    "assignment_id IS NULL AND message_status = 'needs_message' AND NOT opted_out"
)
_POOL_REPLIES = text("assignment_id IS NULL AND message_status = 'needs_response'")
_HELD_REPLIES = text("assignment_id IS NOT NULL AND message_status = 'needs_response'")
_HELD_INITIALS = text(
    "assignment_id IS NOT NULL AND message_status = 'needs_message' AND NOT opted_out"
)
# Held contacts never texted and never heard from: what Release Unsent Initials may release.
# No `NOT opted_out` here: SQLAlchemy writes it `opted_out = 0` on SQLite, which SQLite does
# not match to `NOT opted_out`, so the index would go unused there (the query filters it).
_HELD_UNSENT = text(
    "assignment_id IS NOT NULL AND message_status = 'needs_message'"
    " AND last_inbound_at IS NULL AND last_outbound_at IS NULL"
)


class Campaign(db.Model):
    __tablename__ = "campaign"
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    script: Mapped[str] = mapped_column(Text, default="")
    # Names of the contacts' custom fields (extra CSV columns), usable in the script.
    custom_field_names: Mapped[list[str]] = mapped_column(JSON, default=list)

    dynamic_initials_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    initials_batch_size: Mapped[int] = mapped_column(Integer, default=200)
    require_replies_handled: Mapped[bool] = mapped_column(Boolean, default=False)
    dynamic_replies_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    replies_batch_size: Mapped[int] = mapped_column(Integer, default=25)
    release_unhandled_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    release_unhandled_minutes: Mapped[int] = mapped_column(Integer, default=30)
    release_unsent_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    release_unsent_minutes: Mapped[int] = mapped_column(Integer, default=60)
    # Texting hours: local times in each contact's own time zone.
    texting_hours_enforced: Mapped[bool] = mapped_column(Boolean, default=True)
    texting_hours_start: Mapped[time] = mapped_column(Time, default=time(9, 0))
    texting_hours_stop: Mapped[time] = mapped_column(Time, default=time(21, 0))
    # For contacts whose CSV row, zip and cell say nothing about where they are.
    default_timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    # The distinct time zones of the campaign's contacts (kept by the import), so a claim
    # can work out which zones are open without scanning the contacts.
    contact_timezones: Mapped[list[str]] = mapped_column(JSON, default=list)
    initials_join_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    replies_join_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)

    created_at: Mapped[datetime] = mapped_column(default=now)
    started_at: Mapped[datetime | None] = mapped_column(default=None)

    organization: Mapped[Organization] = relationship()
    teams: Mapped[list[Team]] = relationship(secondary="campaign_team", order_by="Team.name")

    @property
    def is_started(self) -> bool:
        return self.status == "started"


class CampaignTeam(db.Model):
    __tablename__ = "campaign_team"
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[int] = mapped_column(
        ForeignKey("team.id", ondelete="CASCADE"), primary_key=True
    )


class Assignment(db.Model):
    """The (texter, campaign) link; a contact is held by pointing at one of these."""

    __tablename__ = "assignment"
    __table_args__ = (UniqueConstraint("user_id", "campaign_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    max_contacts: Mapped[int | None] = mapped_column(Integer, default=None)
    # Which claim buttons the texter sees: set by the link they joined through or the panel.
    can_claim_initials: Mapped[bool] = mapped_column(Boolean, default=False)
    can_claim_replies: Mapped[bool] = mapped_column(Boolean, default=False)
    # False once removed on the Texters panel; the row stays while conversations point at it.
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=now)

    user: Mapped[User] = relationship()
    campaign: Mapped[Campaign] = relationship()


class CampaignContact(db.Model):
    __tablename__ = "campaign_contact"
    __table_args__ = (
        UniqueConstraint("campaign_id", "cell"),
        # The initials pool, in claim order; the time zone lets the index filter closed zones.
        Index(
            "ix_contact_pool_needs_message",
            "campaign_id",
            "id",
            "timezone",
            postgresql_where=_POOL_INITIALS,
            sqlite_where=_POOL_INITIALS,
        ),
        # The replies pool, oldest waiting first (and their time zones).
        Index(
            "ix_contact_pool_needs_response",
            "campaign_id",
            "last_inbound_at",
            "timezone",
            postgresql_where=_POOL_REPLIES,
            sqlite_where=_POOL_REPLIES,
        ),
        # Held unhandled replies, for the release sweep and the admin's counts.
        Index(
            "ix_contact_held_needs_response",
            "campaign_id",
            "last_inbound_at",
            postgresql_where=_HELD_REPLIES,
            sqlite_where=_HELD_REPLIES,
        ),
        # Held unsent initials by when they were assigned, for Release Unsent Initials.
        Index(
            "ix_contact_held_unsent",
            "campaign_id",
            "assigned_at",
            postgresql_where=_HELD_UNSENT,
            sqlite_where=_HELD_UNSENT,
        ),
        # The dashboard's per-texter counts, read from the index alone (no table rows).
        Index(
            "ix_contact_held_replies_by_texter",
            "campaign_id",
            "assignment_id",
            "last_inbound_at",
            postgresql_where=_HELD_REPLIES,
            sqlite_where=_HELD_REPLIES,
        ),
        Index(
            "ix_contact_held_initials_by_texter",
            "campaign_id",
            "assignment_id",
            postgresql_where=_HELD_INITIALS,
            sqlite_where=_HELD_INITIALS,
        ),
        Index("ix_contact_assignment_status", "assignment_id", "message_status"),
        Index("ix_contact_campaign_status", "campaign_id", "message_status", "id"),
        # A campaign's contacts in id order: the export's keyset pages.
        Index("ix_contact_campaign_id", "campaign_id", "id"),
        Index("ix_contact_cell", "cell"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    first_name: Mapped[str] = mapped_column(String(200), default="")
    last_name: Mapped[str] = mapped_column(String(200), default="")
    cell: Mapped[str] = mapped_column(String(20))
    zip: Mapped[str] = mapped_column(String(20), default="")
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The contact's IANA time zone, fixed at import; `timezone_source` is one of TIMEZONE_SOURCES.
    timezone: Mapped[str] = mapped_column(String(64))
    timezone_source: Mapped[str] = mapped_column(String(10))
    # NULL = in the pool. This one column IS the assignment.
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignment.id"), default=None)
    # When the current holder got this contact (NULL in the pool). A released reply that is
    # claimed again gets a full release window from here, not from its old inbound time.
    assigned_at: Mapped[datetime | None] = mapped_column(default=None)
    message_status: Mapped[str] = mapped_column(String(20), default="needs_message")
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    last_inbound_at: Mapped[datetime | None] = mapped_column(default=None)
    last_outbound_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)

    campaign: Mapped[Campaign] = relationship()
    assignment: Mapped[Assignment | None] = relationship()

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.cell


class AssignmentEvent(db.Model):
    """Append-only audit of every change of `campaign_contact.assignment_id`."""

    __tablename__ = "assignment_event"
    __table_args__ = (Index("ix_assignment_event_campaign_time", "campaign_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    reason: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), default=None)
    from_assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignment.id"))
    to_assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignment.id"))
    contact_count: Mapped[int] = mapped_column(Integer, default=0)
    # Ids are kept for small changes only; bulk changes record the count.
    contact_ids: Mapped[list[int] | None] = mapped_column(JSON, default=None)
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=now)

    actor: Mapped[User | None] = relationship()
    from_assignment: Mapped[Assignment | None] = relationship(foreign_keys=[from_assignment_id])
    to_assignment: Mapped[Assignment | None] = relationship(foreign_keys=[to_assignment_id])
