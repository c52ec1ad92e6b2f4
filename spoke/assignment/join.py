"""Joining a campaign through its assignment link, and rotating the links."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from spoke.assignment import events, sql
from spoke.assignment.manual import ensure_assignment
from spoke.models import Campaign, CampaignTeam, Membership, TeamMember, new_token
from spoke.transactions import begin_write

INACTIVE = "This assignment link is not active"


@dataclass
class LinkTarget:
    campaign: Campaign
    kind: str  # "initials" or "replies"


def find_link(session: Session, token: str) -> LinkTarget | None:
    """The campaign and kind an active link points at; None if the link is not active."""
    if not token or len(token) > 64:
        return None
    campaign = session.scalars(
        select(Campaign).where(
            or_(Campaign.initials_join_token == token, Campaign.replies_join_token == token)
        )
    ).first()
    if campaign is None or campaign.status == "archived":
        return None
    if campaign.initials_join_token == token and campaign.dynamic_initials_enabled:
        return LinkTarget(campaign, "initials")
    if campaign.replies_join_token == token and campaign.dynamic_replies_enabled:
        return LinkTarget(campaign, "replies")
    return None


def join_by_link(session: Session, token: str, user_id: int) -> LinkTarget | None:
    """Add the user to the organization, the campaign's teams and the campaign; idempotent.

    Every insert is INSERT ... ON CONFLICT DO NOTHING against a unique constraint, so two
    tabs or a double click create nothing twice. Returns None if the link is not active.
    """
    begin_write(session)
    target = find_link(session, token)
    if target is None:
        return None
    campaign = target.campaign
    changed = sql.insert_ignore(
        session,
        Membership,
        {"organization_id": campaign.organization_id, "user_id": user_id, "role": "texter"},
    )
    team_ids = session.scalars(
        select(CampaignTeam.team_id).where(CampaignTeam.campaign_id == campaign.id)
    ).all()
    for team_id in team_ids:
        changed |= sql.insert_ignore(session, TeamMember, {"team_id": team_id, "user_id": user_id})
    assignment, created = ensure_assignment(session, campaign.id, user_id)
    flag = "can_claim_initials" if target.kind == "initials" else "can_claim_replies"
    if created or not getattr(assignment, flag) or not assignment.is_active:
        setattr(assignment, flag, True)
        assignment.is_active = True
        changed = True
    if changed:
        events.record(
            session,
            campaign_id=campaign.id,
            reason="join",
            actor_id=user_id,
            to_assignment_id=assignment.id,
            count=0,
            detail=f"joined through the {target.kind} link",
        )
    return target


def regenerate_link(session: Session, campaign_id: int, kind: str) -> str:
    """Give the campaign a new link of `kind`; the old one stops working at once."""
    begin_write(session)
    campaign = session.get(Campaign, campaign_id)
    assert campaign is not None
    token = new_token()
    if kind == "initials":
        campaign.initials_join_token = token
    elif kind == "replies":
        campaign.replies_join_token = token
    else:
        raise ValueError(kind)
    return token
