"""The campaign dashboard: the pool, who holds what, how fast replies are answered, activity.

Every number comes from an aggregate over a partial index or from the activity rollup
(`spoke.reports.activity`), so the page stays fast at a million contacts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, literal, select
from sqlalchemy.orm import Session

from spoke import clock
from spoke.assignment import sql
from spoke.assignment.panel import format_age
from spoke.models import Assignment, Campaign, CampaignActivity, Message, User
from spoke.models import CampaignContact as CC
from spoke.models.reports import CONTACTS_ROW
from spoke.reports import answers
from spoke.reports.activity import BUCKET, bucket_of


@dataclass
class TexterLine:
    """One texter's row: today's work and what they hold now."""

    user_id: int
    name: str
    sent_today: int = 0
    answered_today: int = 0
    unsent: int = 0
    unhandled: int = 0
    oldest_unhandled_at: datetime | None = None
    oldest_waiting: str = ""  # the age of oldest_unhandled_at, e.g. "12 min"

    @property
    def holding(self) -> int:
        return self.unsent + self.unhandled


@dataclass
class Bucket:
    """Texts sent and replies received in one 15-minute bucket."""

    at: datetime
    sent: int = 0
    received: int = 0


@dataclass
class Dashboard:
    """Everything the dashboard shows, as of `at`."""

    at: datetime
    pool_initials: int = 0
    pool_replies: int = 0
    held_unsent: int = 0
    held_replies: int = 0
    oldest_reply_at: datetime | None = None
    answered_last_hour: int = 0
    median_answer_seconds: float | None = None
    texters: list[TexterLine] = field(default_factory=list)
    chart: list[Bucket] = field(default_factory=list)
    questions: list[answers.QuestionTally] = field(default_factory=list)

    @property
    def oldest_reply_age(self) -> str:
        """How long the oldest unhandled reply has waited; "" when none waits."""
        return "" if self.oldest_reply_at is None else format_age(self.at - self.oldest_reply_at)

    @property
    def median_answer(self) -> str:
        if self.median_answer_seconds is None:
            return ""
        return format_age(timedelta(seconds=self.median_answer_seconds))

    @property
    def active_buckets(self) -> list[Bucket]:
        """The chart's buckets that had any texts: its table for screen readers and no-JS."""
        return [b for b in self.chart if b.sent or b.received]


def start_of_day(at: datetime, zone: str) -> datetime:
    """Midnight of `at`'s day in `zone`, as naive UTC like every stored time."""
    local = at.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(UTC).replace(tzinfo=None)


def _answers(campaign_id: int) -> ColumnElement[bool]:
    """A campaign's answers to replies (matches ix_message_answers_time / _wait)."""
    return and_(Message.campaign_id == campaign_id, Message.reply_wait_seconds.is_not(None))


def median_answer_seconds(session: Session, campaign_id: int) -> float | None:
    """The median wait of a reply for its answer: the middle of the index, not a sort."""
    where = _answers(campaign_id)
    n = session.scalar(select(func.count()).select_from(Message).where(where)) or 0
    if not n:
        return None
    middle = session.scalars(
        select(Message.reply_wait_seconds)
        .where(where)
        .order_by(Message.reply_wait_seconds)
        .offset((n - 1) // 2)
        .limit(2 - n % 2)
    ).all()
    return sum(w or 0 for w in middle) / len(middle)


def _held(session: Session, campaign_id: int, where: ColumnElement[bool], oldest: bool) -> dict:  # type: ignore[type-arg]
    """Held contacts matching `where` per assignment: {assignment id: (count, oldest inbound)}.

    Read from an index alone: `oldest` only where the index holds last_inbound_at.
    """
    rows = session.execute(
        select(
            CC.assignment_id,
            func.count(),
            func.min(CC.last_inbound_at) if oldest else literal(None),
        )
        .where(CC.campaign_id == campaign_id, CC.assignment_id.is_not(None), where)
        .group_by(CC.assignment_id)
    ).all()
    return {aid: (n, first) for aid, n, first in rows}


def _chart(session: Session, campaign_id: int, at: datetime) -> list[Bucket]:
    """Every 15 minutes from the first text to now, zeros included."""
    rows = session.execute(
        select(
            CampaignActivity.bucket_at,
            func.sum(CampaignActivity.sent),
            func.sum(CampaignActivity.received),
        )
        .where(CampaignActivity.campaign_id == campaign_id)
        .group_by(CampaignActivity.bucket_at)
        .order_by(CampaignActivity.bucket_at)
    ).all()
    if not rows:
        return []
    found = {when: Bucket(when, int(s or 0), int(r or 0)) for when, s, r in rows}
    chart, when, last = [], rows[0][0], max(rows[-1][0], bucket_of(at))
    while when <= last:
        chart.append(found.get(when) or Bucket(when))
        when += BUCKET
    return chart


def _texters(
    session: Session,
    campaign: Campaign,
    at: datetime,
    unsent: dict,
    unhandled: dict,  # type: ignore[type-arg]
) -> list[TexterLine]:
    today = session.execute(
        select(
            CampaignActivity.texter_id,
            func.sum(CampaignActivity.sent),
            func.sum(CampaignActivity.answered),
        )
        .where(
            CampaignActivity.campaign_id == campaign.id,
            CampaignActivity.bucket_at >= start_of_day(at, campaign.default_timezone),
            CampaignActivity.texter_id != CONTACTS_ROW,
        )
        .group_by(CampaignActivity.texter_id)
    ).all()
    done = {user_id: (int(s or 0), int(a or 0)) for user_id, s, a in today}
    lines = []
    for aid, user_id, name, active in session.execute(
        select(Assignment.id, User.id, User.name, Assignment.is_active)
        .join(User, User.id == Assignment.user_id)
        .where(Assignment.campaign_id == campaign.id)
        .order_by(func.lower(User.name), User.id)
    ):
        line = TexterLine(user_id, name, *done.get(user_id, (0, 0)))
        line.unsent = unsent.get(aid, (0, None))[0]
        line.unhandled, line.oldest_unhandled_at = unhandled.get(aid, (0, None))
        if line.oldest_unhandled_at is not None:
            line.oldest_waiting = format_age(at - line.oldest_unhandled_at)
        if active or line.holding or line.sent_today:
            lines.append(line)
    return lines


def campaign_dashboard(session: Session, campaign: Campaign) -> Dashboard:
    """Load the dashboard of `campaign` as of now."""
    at = clock.now()
    board = Dashboard(at=at)
    board.pool_initials = sql.count(session, sql.pool_initials(campaign.id))
    board.pool_replies, oldest_pool = session.execute(
        select(func.count(), func.min(CC.last_inbound_at)).where(sql.pool_replies(campaign.id))
    ).one()
    # Spelled as ix_contact_held_initials_by_texter and ix_contact_held_replies_by_texter.
    unsent = _held(
        session, campaign.id, and_(sql.status_is("needs_message"), sql.NOT_OPTED_OUT), False
    )
    unhandled = _held(session, campaign.id, sql.status_is("needs_response"), True)
    board.held_unsent = sum(n for n, _ in unsent.values())
    board.held_replies = sum(n for n, _ in unhandled.values())
    waiting = [oldest_pool, *(oldest for _, oldest in unhandled.values())]
    board.oldest_reply_at = min((w for w in waiting if w is not None), default=None)
    board.answered_last_hour = (
        session.scalar(
            select(func.count())
            .select_from(Message)
            .where(_answers(campaign.id), Message.created_at >= at - timedelta(hours=1))
        )
        or 0
    )
    board.median_answer_seconds = median_answer_seconds(session, campaign.id)
    board.texters = _texters(session, campaign, at, unsent, unhandled)
    board.chart = _chart(session, campaign.id, at)
    board.questions = answers.answers_per_question(session, campaign.id)
    return board
