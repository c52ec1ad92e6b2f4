"""Request plumbing shared by the views: the current organization, HTMX answers, redirects."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Flask, g, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from spoke import parsing
from spoke.extensions import db, htmx, login_manager
from spoke.models import Membership, User

# Scripts and styles come from static/ only: no inline <script>, style="" or on*= handlers.
# htmx's own indicator <style> is turned off in base.html's htmx-config (spoke.css has it).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def init_upload_limits(app: Flask) -> None:
    """Let upload endpoints read up to MAX_UPLOAD_SIZE; every other body stays small.

    Registered before CSRF's check, which reads the form (and so the body) first.
    """

    @app.before_request
    def allow_large_uploads() -> None:
        if request.endpoint in app.config["UPLOAD_ENDPOINTS"]:
            request.max_content_length = app.config["MAX_UPLOAD_SIZE"]


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."

    @login_manager.user_loader
    def load_user(login_id: str) -> User | None:
        return user_for_login_id(login_id)

    @app.before_request
    def load_membership() -> None:
        g.membership = None
        if current_user.is_authenticated:
            g.membership = (
                membership_in(session["org_id"]) if session.get("org_id") else None
            ) or db.session.scalars(
                select(Membership)
                .where(Membership.user_id == current_user.id)
                .order_by(Membership.id)
                .limit(1)
            ).first()

    @app.after_request
    def vary_on_htmx(response: Response) -> Response:
        response.vary.add("HX-Request")
        return response

    @app.after_request
    def security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.context_processor
    def inject_membership() -> dict[str, Any]:
        return {"membership": g.get("membership")}


def user_for_login_id(login_id: str) -> User | None:
    """The user of a session's "id:token" identity, or None once the token was rotated."""
    user_id, _, token = login_id.partition(":")
    if not (user_id.isascii() and user_id.isdigit() and token) or len(user_id) > 18:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not hmac.compare_digest(user.session_token, token):
        return None
    return user


def membership_in(org_id: int) -> Membership | None:
    """The current user's membership in organization `org_id`, if any."""
    return db.session.scalars(
        select(Membership).where(
            Membership.user_id == current_user.id, Membership.organization_id == org_id
        )
    ).first()


def use_organization(org_id: int) -> Membership | None:
    """Make `org_id` the current organization for this request and the next ones, if a member.

    Most people belong to one organization; someone who joined another one by link works
    in whichever organization the object they open belongs to.
    """
    membership = membership_in(org_id)
    if membership is not None:
        g.membership = membership
        session["org_id"] = org_id
    return membership


def is_fragment_request() -> bool:
    """True when htmx asked for a fragment (boosted navigation wants the full page)."""
    return bool(htmx) and not htmx.boosted


def fragment_or_redirect(template: str, redirect_to: str, status: int = 200, **context: Any):
    """Answer an HTMX control with its fragment, a plain form with a 303 to the full page."""
    if is_fragment_request():
        return render_template(template, **context), status
    return redirect(redirect_to, code=303)


def safe_next(target: str | None, default: str | None = None) -> str:
    """Return `target` if it is a local path on this site, else the default."""
    return parsing.local_path(target) or default or url_for("texting.home")
