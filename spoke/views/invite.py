"""Views: the organization invite link (join page), pasting any link, removing a member.

Opening an invite (GET) only shows it; joining is the POST. A logged-out visitor is offered
"Sign up" or "Log in", both of which come back here through `next`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Response

from spoke.assignment import invites, members
from spoke.extensions import db
from spoke.models import Membership
from spoke.views import _web as web
from spoke.views._authz import admin_required, current_membership, current_org_id

bp = Blueprint("invite", __name__)

PASTE_HELP = "That is not an invite link. Paste the whole link an organizer sent you."


def public_url(endpoint: str, **values: Any) -> str:
    """The full URL of `endpoint`, on PUBLIC_BASE_URL when set (links people share)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


@bp.app_template_global()
def invite_link(org: Any) -> str:
    """The organization's invite URL, for the People page."""
    return public_url("invite.show", token=org.invite_token)


def _inactive() -> tuple[str, int]:
    return render_template("join/inactive.html", message=invites.INVITE_INACTIVE), 404


@bp.get("/invite/<token>")
def show(token: str) -> Any:
    """Show the organization an invite link is for, with "Join" (or sign up / log in)."""
    org = invites.find_invite(db.session, token)
    if org is None:
        return _inactive()
    joined = current_user.is_authenticated and invites.is_member(
        db.session, org.id, current_user.id
    )
    here = url_for("invite.show", token=token)
    return render_template("join/invite.html", org=org, token=token, here=here, joined=joined)


@bp.post("/invite/<token>")
def submit(token: str) -> Response | tuple[str, int]:
    """Join the organization as a texter (idempotently), then go to My campaigns."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=url_for("invite.show", token=token)), code=303)
    already = False
    org = invites.find_invite(db.session, token)
    if org is not None:
        already = invites.is_member(db.session, org.id, current_user.id)
    org = invites.join_organization(db.session, token, current_user.id)
    if org is None:
        db.session.rollback()
        return _inactive()
    db.session.commit()
    web.use_organization(org.id)
    if already:
        flash(f"You're already in {org.name}.", "info")
    else:
        flash(f"You joined {org.name}. Campaigns you are added to show up here.", "success")
    return redirect(url_for("texting.home"), code=303)


@bp.get("/join")
@login_required
def paste() -> Response:
    """Open a pasted invite or assignment link (only this site's links; GET changes nothing)."""
    raw = (request.args.get("link") or "").strip()
    path = urlsplit(raw).path if raw else ""
    if not path.startswith("/"):
        path = "/" + path
    adapter = current_app.url_map.bind("localhost")
    try:
        endpoint, values = adapter.match(path, method="GET")
    except RequestRedirect as moved:
        endpoint, values = adapter.match(urlsplit(moved.new_url).path, method="GET")
    except Exception:  # not a route of this site: a NotFound or MethodNotAllowed
        endpoint, values = "", {}
    if endpoint not in ("invite.show", "assignment.join"):
        flash(PASTE_HELP, "error")
        return redirect(url_for("texting.home"), code=303)
    return redirect(url_for(endpoint, **values), code=303)


@bp.post("/people/invite/rotate")
@admin_required
def rotate() -> Response:
    """Make a new invite link; the old one stops working at once."""
    invites.rotate_invite(db.session, current_org_id())
    db.session.commit()
    flash("New invite link made. The old link no longer works.", "success")
    return redirect(url_for("people.index", _anchor="invite"), code=303)


def _member_or_404(membership_id: int) -> Membership:
    member = db.session.get(Membership, membership_id)
    if member is None or member.organization_id != current_org_id():
        abort(404)
    return member


@bp.get("/people/<int:membership_id>/remove")
@admin_required
def confirm_remove(membership_id: int) -> str:
    """Ask before removing a member, saying what happens to their texts."""
    member = _member_or_404(membership_id)
    return render_template("people/remove.html", m=member, org=current_membership().organization)


@bp.post("/people/<int:membership_id>/remove")
@admin_required
def remove(membership_id: int) -> Response:
    """Remove a member; their texts go back to the pool and their sessions end."""
    _member_or_404(membership_id)
    try:
        name = members.remove_member(db.session, current_org_id(), current_user.id, membership_id)
    except members.NotMember:
        db.session.rollback()
        abort(404)
    except members.AssignmentError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("people.index", _anchor=f"member-{membership_id}"), code=303)
    db.session.commit()
    flash(
        f"{name} was removed. Their unsent texts and conversations went back to the pool.",
        "success",
    )
    return redirect(url_for("people.index"), code=303)
