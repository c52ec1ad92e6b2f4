"""Who may see what: role checks and load-or-404 helpers scoped to the organization."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g, request
from flask_login import current_user, login_required

from spoke.extensions import db
from spoke.models import Assignment, Campaign, CampaignContact, Membership, Team

F = TypeVar("F", bound=Callable[..., Any])


def current_membership() -> Membership:
    membership = g.get("membership")
    if membership is None:
        abort(403, "You are not a member of an organization.")
    return membership


def current_org_id() -> int:
    return current_membership().organization_id


def role_required(*roles: str) -> Callable[[F], F]:
    """Log in, then require one of `roles` in the current organization."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.get("membership") is None and request.view_args:
                # An object route: 403 would tell a stranger that the id exists.
                abort(404)
            if current_membership().role not in roles:
                abort(403, "Your role does not allow this.")
            # Objects of another of the user's organizations re-check the role there.
            g.required_roles = roles
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def admin_required(view: F) -> F:
    return role_required("owner", "admin")(view)


def staff_required(view: F) -> F:
    return role_required("owner", "admin", "supervolunteer")(view)


def _in_org_or_404(org_id: int) -> None:
    """404 unless the user belongs to `org_id`; switch to it if it is not the current one."""
    current = g.get("membership")
    if current is not None and org_id == current.organization_id:
        return
    from spoke.views._web import use_organization

    membership = use_organization(org_id)
    if membership is None:
        abort(404)
    required = g.get("required_roles")
    if required and membership.role not in required:
        abort(403, "Your role does not allow this.")


def get_campaign_or_404(campaign_id: int) -> Campaign:
    """A campaign of one of the user's organizations, or 404 (other organizations' too)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    _in_org_or_404(campaign.organization_id)
    return campaign


def get_team_or_404(team_id: int) -> Team:
    team = db.session.get(Team, team_id)
    current = g.get("membership")
    if team is None or current is None or team.organization_id != current.organization_id:
        abort(404)
    return team


def get_contact_or_404(contact_id: int) -> CampaignContact:
    """A contact the current user may see: staff see the organization's, texters their own.

    Texters also reach contacts they no longer hold, so the domain can refuse with a reason
    ("Your assignment has changed") instead of a bare 404.
    """
    contact = db.session.get(CampaignContact, contact_id)
    if contact is None:
        abort(404)
    _in_org_or_404(contact.campaign.organization_id)
    if not current_membership().is_staff and contact.campaign.status != "started":
        abort(404)
    return contact


def texter_assignment(campaign: Campaign) -> Assignment | None:
    """The current user's assignment in `campaign`, if any."""
    return db.session.scalars(
        db.select(Assignment).where(
            Assignment.campaign_id == campaign.id, Assignment.user_id == current_user.id
        )
    ).first()
