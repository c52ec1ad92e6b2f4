"""Teams: named groups of an organization's members (no Flask request here)."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spoke.accounts.accounts import NotFound, ValidationError, write_transaction
from spoke.models import CampaignTeam, Membership, Team, TeamMember

TEAM_TAKEN = "A team with this name already exists."


def get_team(session: Session, org_id: int, team_id: int) -> Team:
    """A team of this organization, or NotFound."""
    team = session.get(Team, team_id)
    if team is None or team.organization_id != org_id:
        raise NotFound()
    return team


def _clean_name(session: Session, org_id: int, name: str, team_id: int | None = None) -> str:
    """The stripped name, or ValidationError when blank, too long or taken by another team."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Enter a team name."})
    if len(name) > 200:
        raise ValidationError({"name": "Use at most 200 characters."})
    taken = session.scalar(
        select(Team.id).where(
            Team.organization_id == org_id,
            func.lower(Team.name) == name.lower(),
            Team.id != (team_id or 0),
        )
    )
    if taken is not None:
        raise ValidationError({"name": TEAM_TAKEN})
    return name


def create_team(session: Session, org_id: int, name: str) -> Team:
    """Create a team with a name unique in the organization; commit and return it."""
    try:
        with write_transaction(session):
            team = Team(organization_id=org_id, name=_clean_name(session, org_id, name))
            session.add(team)
    except IntegrityError:
        raise ValidationError({"name": TEAM_TAKEN}) from None
    return team


def rename_team(session: Session, org_id: int, team_id: int, name: str) -> Team:
    """Rename a team (the name stays unique in the organization); commit and return it."""
    try:
        with write_transaction(session):
            team = get_team(session, org_id, team_id)
            team.name = _clean_name(session, org_id, name, team.id)
    except IntegrityError:
        raise ValidationError({"name": TEAM_TAKEN}) from None
    return team


def delete_team(session: Session, org_id: int, team_id: int) -> str:
    """Delete a team: its members stay in the organization, its campaigns lose the team; commit."""
    with write_transaction(session):
        team = get_team(session, org_id, team_id)
        name = team.name
        session.execute(delete(TeamMember).where(TeamMember.team_id == team.id))
        session.execute(delete(CampaignTeam).where(CampaignTeam.team_id == team.id))
        session.delete(team)
    return name


def add_team_member(session: Session, org_id: int, team_id: int, user_id: int) -> Team:
    """Add an organization member to a team (adding twice changes nothing); commit."""
    try:
        with write_transaction(session):
            team = get_team(session, org_id, team_id)
            member = select(Membership.id).where(
                Membership.organization_id == org_id, Membership.user_id == user_id
            )
            if session.scalar(member) is None:
                raise NotFound()
            if session.get(TeamMember, (team.id, user_id)) is None:
                session.add(TeamMember(team_id=team.id, user_id=user_id))
    except IntegrityError:
        pass  # a concurrent add of the same member won: the result is what was asked for
    team = get_team(session, org_id, team_id)
    session.expire(team, ["members"])
    return team


def remove_team_member(session: Session, org_id: int, team_id: int, user_id: int) -> Team:
    """Take a user off a team (removing a non-member changes nothing); commit."""
    with write_transaction(session):
        team = get_team(session, org_id, team_id)
        session.execute(
            delete(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == user_id)
        )
    session.expire(team, ["members"])
    return team


def org_teams(session: Session, org_id: int) -> list[Team]:
    """The organization's teams, by name."""
    query = select(Team).where(Team.organization_id == org_id).order_by(func.lower(Team.name))
    return list(session.scalars(query))
