"""Views: the People page (members and roles) and the Teams page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from spoke.accounts import accounts
from spoke.accounts import teams as team_service
from spoke.extensions import db
from spoke.models import ROLES, Membership, Team
from spoke.views import _params as params
from spoke.views import _web as web
from spoke.views._authz import (
    admin_required,
    current_membership,
    current_org_id,
    get_team_or_404,
    staff_required,
)
from spoke.views.auth import invalid_status

bp = Blueprint("people", __name__)

ROW = "people/_member_row.html"
ROLE_HELP = (
    ("owner", "Everything an admin does, and grants or removes the owner role."),
    ("admin", "Creates campaigns, assigns texters, reviews messages, manages people and teams."),
    ("supervolunteer", "Sees campaigns, Message Review, People and Teams, without changing them."),
    ("texter", "Sends texts and answers replies in the campaigns they are in."),
)
TEAM = "people/_team.html"


def grantable_roles() -> tuple[str, ...]:
    """Roles the current user may hand out: only owners grant owner."""
    viewer = current_membership()
    if not viewer.is_admin:
        return ()
    return ROLES if viewer.role == "owner" else tuple(r for r in ROLES if r != "owner")


def row_context(member: Membership, **extra: Any) -> dict[str, Any]:
    """What the member row fragment needs besides the membership."""
    return {"m": member, "grantable": grantable_roles(), **extra}


@bp.route("/people", methods=["GET"])
@staff_required
def index() -> str:
    """List the organization's members with their roles."""
    members = accounts.org_members(db.session, current_org_id())
    return render_template(
        "people/index.html", members=members, grantable=grantable_roles(), role_help=ROLE_HELP
    )


@bp.route("/people/<int:membership_id>/role", methods=["POST"])
@admin_required
def change_role(membership_id: int) -> Any:
    """Change one member's role; answer with the row (htmx) or back to the page."""
    org_id = current_org_id()
    role = request.form.get("role", "")
    try:
        member = accounts.change_role(db.session, org_id, current_user.id, membership_id, role)
    except accounts.NotFound:
        abort(404)
    except accounts.AccountError as exc:
        if web.is_fragment_request():
            member = db.session.get(Membership, membership_id)
            # 200 so htmx swaps the row in and the reason is read next to the control.
            return render_template(ROW, **row_context(member, error=exc.message))
        flash(exc.message, "error")
        return redirect(url_for("people.index", _anchor=f"member-{membership_id}"), code=303)
    if not web.is_fragment_request():
        flash(f"Saved: {member.user.name} is now {member.role}.", "success")
    return web.fragment_or_redirect(ROW, url_for("people.index"), **row_context(member, saved=True))


def team_context(team: Team, **extra: Any) -> dict[str, Any]:
    """What a team fragment needs: the members who could still be added."""
    on_team = {user.id for user in team.members}
    candidates = [
        m.user
        for m in accounts.org_members(db.session, team.organization_id)
        if m.user_id not in on_team
    ]
    return {
        "team": team,
        "candidates": candidates,
        "can_edit": current_membership().is_admin,
        **extra,
    }


def render_teams(name: str = "", error: str | None = None, status: int = 200) -> Any:
    """The full Teams page, optionally with the create form's error."""
    teams = team_service.org_teams(db.session, current_org_id())
    return render_template(
        "people/teams.html",
        teams=[team_context(team) for team in teams],
        can_edit=current_membership().is_admin,
        name=name,
        error=error,
    ), status


def team_answer(team: Team, error: str | None = None) -> Any:
    """Answer a team change with its fragment (htmx) or a 303 back to the Teams page."""
    if error and not web.is_fragment_request():
        flash(error, "error")
    return web.fragment_or_redirect(
        TEAM, url_for("people.teams", _anchor=f"team-{team.id}"), **team_context(team, error=error)
    )


@bp.route("/teams", methods=["GET"])
@staff_required
def teams() -> Any:
    """List the organization's teams and their members."""
    return render_teams()


@bp.route("/teams", methods=["POST"])
@admin_required
def create_team() -> Any:
    """Create a team; a taken name is shown next to the field."""
    name = request.form.get("name", "")
    try:
        team = team_service.create_team(db.session, current_org_id(), name)
    except accounts.ValidationError as exc:
        return render_teams(name=name, error=exc.errors.get("name"), status=invalid_status())
    flash(f"Team {team.name} created.", "success")
    return redirect(url_for("people.teams", _anchor=f"team-{team.id}"), code=303)


@bp.route("/teams/<int:team_id>/members", methods=["POST"])
@admin_required
def add_team_member(team_id: int) -> Any:
    """Add an organization member to a team."""
    org_id = current_org_id()
    user_id = params.form_id("user_id")
    if user_id is None:
        team = get_team_or_404(team_id)
        return team_answer(team, error="Choose a member to add.")
    try:
        team = team_service.add_team_member(db.session, org_id, team_id, user_id)
    except accounts.NotFound:
        abort(404)
    return team_answer(team)


@bp.route("/teams/<int:team_id>/members/<int:user_id>/remove", methods=["POST"])
@admin_required
def remove_team_member(team_id: int, user_id: int) -> Any:
    """Take a member off a team."""
    try:
        team = team_service.remove_team_member(db.session, current_org_id(), team_id, user_id)
    except accounts.NotFound:
        abort(404)
    return team_answer(team)


@bp.route("/teams/<int:team_id>/rename", methods=["POST"])
@admin_required
def rename_team(team_id: int) -> Any:
    """Rename a team; a blank or taken name is shown next to the team."""
    try:
        team = team_service.rename_team(
            db.session, current_org_id(), team_id, request.form.get("name", "")
        )
    except accounts.NotFound:
        abort(404)
    except accounts.ValidationError as exc:
        return team_answer(get_team_or_404(team_id), error=exc.errors.get("name"))
    if not web.is_fragment_request():
        flash(f"Team renamed to {team.name}.", "success")
    return team_answer(team)


@bp.route("/teams/<int:team_id>/delete", methods=["POST"])
@admin_required
def delete_team(team_id: int) -> Any:
    """Delete a team (its members stay in the organization) and go back to Teams."""
    try:
        name = team_service.delete_team(db.session, current_org_id(), team_id)
    except accounts.NotFound:
        abort(404)
    flash(f"Team {name} deleted. Its members are still in the organization.", "success")
    return redirect(url_for("people.teams"), code=303)
