"""Read models for assignment on the campaign pages: the Texters panel, history, claim buttons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, selectinload

from spoke.assignment.claims import ClaimPreview, preview_claim
from spoke.clock import now
from spoke.models import Assignment, AssignmentEvent, Campaign, Membership, Message, User
from spoke.models import CampaignContact as CC

HISTORY_LIMIT = 50

REASON_LABELS = {
    "manual": "Texters panel",
    "claim_initials": "Dynamic Assignment for Initials",
    "claim_replies": "Dynamic Assignment for Replies",
    "release_unhandled": "Release Unhandled Replies",
    "release_unsent": "Release Unsent Initials",
    "done_texting": "Done Texting",
    "message_review": "Message Review",
    "join": "Joined by link",
}


@dataclass
class TexterRow:
    """One texter on the Texters panel."""

    user_id: int
    name: str
    email: str
    max_contacts: int | None
    sent: int = 0
    unsent: int = 0
    unhandled: int = 0
    oldest_unhandled_at: datetime | None = None

    @property
    def oldest_unhandled_age(self) -> str:
        """How long the oldest unhandled reply has waited, e.g. "2 h 5 min"; "" if none."""
        if self.oldest_unhandled_at is None:
            return ""
        return format_age(now() - self.oldest_unhandled_at)


@dataclass
class TextersPanel:
    """Everything the Texters panel shows."""

    rows: list[TexterRow] = field(default_factory=list)
    unassigned: int = 0
    unassigned_unsent: int = 0
    # Organization members not active in the campaign: (user_id, "Name (email)").
    addable: list[tuple[int, str]] = field(default_factory=list)


def format_age(delta: timedelta) -> str:
    """Format a timedelta as "45 s", "12 min", "2 h 5 min" or "3 d 4 h"."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def texters_panel(session: Session, campaign: Campaign) -> TextersPanel:
    """Load the panel: active texters with their counts, the pool, and who can be added."""
    panel = TextersPanel()
    texters = session.execute(
        select(Assignment.id, Assignment.max_contacts, User.id, User.name, User.email)
        .join(User, User.id == Assignment.user_id)
        .where(Assignment.campaign_id == campaign.id, Assignment.is_active.is_(True))
        .order_by(func.lower(User.name), User.id)
    ).all()
    rows: dict[int, TexterRow] = {}
    for assignment_id, cap, user_id, name, email in texters:
        rows[assignment_id] = TexterRow(user_id=user_id, name=name, email=email, max_contacts=cap)

    unsent = and_(CC.message_status == "needs_message", CC.opted_out.is_(False))
    unhandled = CC.message_status == "needs_response"
    # One grouped pass over the campaign's contacts: held counts per texter and the pool.
    counts = session.execute(
        select(
            CC.assignment_id,
            func.count(),
            func.sum(case((unsent, 1), else_=0)),
            func.sum(case((unhandled, 1), else_=0)),
            func.min(case((unhandled, CC.last_inbound_at), else_=None)),
        )
        .where(CC.campaign_id == campaign.id)
        .group_by(CC.assignment_id)
    ).all()
    for assignment_id, total, n_unsent, n_unhandled, oldest in counts:
        if assignment_id is None:
            panel.unassigned = total
            panel.unassigned_unsent = n_unsent or 0
        elif assignment_id in rows:
            row = rows[assignment_id]
            row.unsent, row.unhandled = n_unsent or 0, n_unhandled or 0
            row.oldest_unhandled_at = oldest

    sent = session.execute(
        select(Message.user_id, func.count())
        .where(Message.campaign_id == campaign.id, Message.direction == "out")
        .group_by(Message.user_id)
    ).all()
    by_user = {row.user_id: row for row in rows.values()}
    for user_id, n in sent:
        if user_id in by_user:
            by_user[user_id].sent = n
    panel.rows = list(rows.values())

    active = select(Assignment.user_id).where(
        Assignment.campaign_id == campaign.id, Assignment.is_active.is_(True)
    )
    panel.addable = [
        (user_id, f"{name} ({email})")
        for user_id, name, email in session.execute(
            select(User.id, User.name, User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.organization_id == campaign.organization_id,
                User.id.not_in(active),
            )
            .order_by(func.lower(User.name), User.id)
        )
    ]
    return panel


@dataclass
class HistoryRow:
    """One line of "Assignment history"."""

    when: datetime
    who: str
    what: str
    count: int
    why: str
    detail: str


def _texter_name(assignment: Assignment | None) -> str:
    return assignment.user.name if assignment is not None else ""


def _what(event: AssignmentEvent) -> str:
    source, target = _texter_name(event.from_assignment), _texter_name(event.to_assignment)
    if event.reason == "join":
        return f"{target} joined"
    if source and target and source != target:
        return f"from {source} to {target}"
    if target and event.contact_count:
        return f"to {target}"
    if source and event.contact_count:
        return f"from {source} to the pool"
    return target or source or "the campaign"


def assignment_history(
    session: Session, campaign_id: int, limit: int = HISTORY_LIMIT
) -> list[HistoryRow]:
    """The campaign's latest assignment events, newest first."""
    events = session.scalars(
        select(AssignmentEvent)
        .where(AssignmentEvent.campaign_id == campaign_id)
        .order_by(AssignmentEvent.created_at.desc(), AssignmentEvent.id.desc())
        .limit(limit)
        .options(
            selectinload(AssignmentEvent.actor),
            selectinload(AssignmentEvent.from_assignment).selectinload(Assignment.user),
            selectinload(AssignmentEvent.to_assignment).selectinload(Assignment.user),
        )
    ).all()
    return [
        HistoryRow(
            when=e.created_at,
            who=e.actor.name if e.actor is not None else "spoke",
            what=_what(e),
            count=e.contact_count,
            why=REASON_LABELS.get(e.reason, e.reason),
            detail=e.detail,
        )
        for e in events
    ]


@dataclass
class ClaimButtons:
    """The claim buttons a texter sees: each one's label and, when it cannot work, why."""

    initials: ClaimPreview | None = None
    replies: ClaimPreview | None = None

    @property
    def any(self) -> bool:
        return self.initials is not None or self.replies is not None


def claim_buttons(
    session: Session, campaign: Campaign, assignment: Assignment | None
) -> ClaimButtons:
    """Show a button when its toggle is on and the texter may claim (joined or added)."""
    if assignment is None or not assignment.is_active or campaign.status == "archived":
        return ClaimButtons()
    buttons = ClaimButtons()
    if campaign.dynamic_initials_enabled and assignment.can_claim_initials:
        buttons.initials = preview_claim(session, campaign, assignment, "initials")
    if campaign.dynamic_replies_enabled and assignment.can_claim_replies:
        buttons.replies = preview_claim(session, campaign, assignment, "replies")
    return buttons
