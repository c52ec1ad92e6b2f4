"""Removing a member from an organization: their contacts go back, their sessions end."""

from __future__ import annotations

import logging

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from spoke.assignment.manual import AssignmentError, take_off
from spoke.models import Assignment, Campaign, Membership, Organization, Team, TeamMember, User
from spoke.models.people import new_session_token
from spoke.transactions import begin_write, lock_row

log = logging.getLogger(__name__)

NOT_FOUND = "That person is not a member of this organization."
OWNER_ONLY = "Only an owner can remove an owner."
NOT_YOURSELF = "You cannot remove yourself. Ask another admin."


class NotMember(AssignmentError):
    """The membership is not in this organization (views answer 404)."""


def _check_may_remove(session: Session, org_id: int, actor_id: int, target: Membership) -> None:
    """Refuse removing yourself, or an owner unless an owner asks.

    Nobody removes themself, so the last owner always stays.
    """
    if target.user_id == actor_id:
        raise AssignmentError(NOT_YOURSELF)
    actor_role = session.scalar(
        select(Membership.role).where(
            Membership.organization_id == org_id, Membership.user_id == actor_id
        )
    )
    if actor_role not in ("owner", "admin"):
        raise AssignmentError("Only owners and admins can remove members.")
    if target.role == "owner" and actor_role != "owner":
        raise AssignmentError(OWNER_ONLY)


def remove_member(session: Session, org_id: int, actor_id: int, membership_id: int) -> str:
    """Remove a member: their held contacts return to the pool, one event per campaign.

    Uses the Texters panel's rule (`take_off`) on each of their active assignments in the
    organization's campaigns, takes them off its teams, deletes the membership and rotates
    their session token so any open session ends. Returns the member's name.
    """
    begin_write(session)
    # One membership change per organization at a time (same lock as role changes).
    lock_row(session, Organization, org_id)
    target = session.get(Membership, membership_id)
    if target is None or target.organization_id != org_id:
        raise NotMember(NOT_FOUND)
    session.refresh(target)
    _check_may_remove(session, org_id, actor_id, target)
    user_id = target.user_id
    assignment_ids = session.scalars(
        select(Assignment.id)
        .join(Campaign, Campaign.id == Assignment.campaign_id)
        .where(
            Campaign.organization_id == org_id,
            Assignment.user_id == user_id,
            Assignment.is_active.is_(True),
        )
        .order_by(Assignment.id)
    ).all()
    for assignment_id in assignment_ids:
        # A removed member can answer nobody: their conversations go back to the pool too.
        take_off(
            session,
            assignment_id,
            actor_id=actor_id,
            also_conversations=True,
            why="removed from the organization",
        )
    org_teams = select(Team.id).where(Team.organization_id == org_id)
    session.execute(
        delete(TeamMember).where(TeamMember.user_id == user_id, TeamMember.team_id.in_(org_teams))
    )
    user = session.get(User, user_id)
    assert user is not None
    name = user.name
    session.delete(target)
    user.session_token = new_session_token()
    log.info("user %s removed user %s from organization %s", actor_id, user_id, org_id)
    return name
