"""Views: first-run setup, log in, sign up, log out, and the friendly error pages."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter import RequestLimit
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from spoke.accounts import accounts
from spoke.config import MB
from spoke.extensions import db, htmx, limiter
from spoke.views import _web as web

bp = Blueprint("auth", __name__)

SETUP_DONE = "spoke.setup_done"  # app.extensions key: an organization exists (never unset)
# Machine endpoints that must not be sent to a setup page meant for people.
SETUP_EXEMPT_BLUEPRINTS = {"webhooks", "health"}
BAD_LOGIN = "Email or password is incorrect."
TOO_MANY = "Too many attempts, try again in {minutes} minute{s}."


def invalid_status() -> int:
    """Status for a form re-shown with errors: 422, but 200 for htmx (it swaps only 2xx)."""
    return 200 if htmx else 422


def next_param() -> str | None:
    """The request's `next` if it is a safe local path, else None (so links drop it)."""
    raw = request.values.get("next")
    if not raw:
        return None
    default = url_for("texting.home")
    target = web.safe_next(raw, default)
    return target if target != default or raw.strip() == default else None


def setup_done() -> bool:
    """True once an organization exists; remembered on the app after the first yes."""
    if current_app.extensions.get(SETUP_DONE):
        return True
    if accounts.organization_exists(db.session):
        current_app.extensions[SETUP_DONE] = True
        return True
    return False


@bp.before_app_request
def require_setup() -> Response | None:
    """Send every page to /setup until the first organization exists."""
    if request.endpoint in ("auth.setup", "static") or request.blueprint in SETUP_EXEMPT_BLUEPRINTS:
        return None
    if setup_done():
        return None
    return redirect(url_for("auth.setup"))


@bp.route("/setup", methods=["GET", "POST"])
def setup() -> Any:
    """Create the organization and its owner on first run; 404 ever after."""
    if setup_done():
        abort(404)
    form = {key: request.form.get(key, "") for key in ("org_name", "name", "email")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            user = accounts.setup_organization(
                db.session,
                form["org_name"],
                form["name"],
                form["email"],
                request.form.get("password", ""),
            )
        except accounts.AlreadySetUp:
            current_app.extensions[SETUP_DONE] = True
            abort(404)
        except accounts.ValidationError as exc:
            errors = exc.errors
        else:
            current_app.extensions[SETUP_DONE] = True
            login_user(user)
            flash("Your organization is ready.", "success")
            return redirect(url_for("campaigns.index"), code=303)
    status = invalid_status() if errors else 200
    return render_template("auth/setup.html", form=form, errors=errors), status


def _login_account_key() -> str:
    """Throttle key for the account tried: a digest of the email, not the email itself."""
    email = accounts.normalize_email(request.form.get("email"))
    return "account:" + hashlib.sha256(email.encode()).hexdigest() if email else ""


def _login_failed(_response: Response) -> bool:
    """Count only failed log-ins against the limits (a refusal by the limit is not one)."""
    return bool(g.get("login_failed"))


def _too_many_attempts(limit: RequestLimit) -> Response:
    """The login page saying when to try again (429); nothing else changes."""
    minutes = max(1, math.ceil((limit.window.reset_time - time.time()) / 60))
    error = TOO_MANY.format(minutes=minutes, s="" if minutes == 1 else "s")
    page = render_template(
        "auth/login.html", email=request.form.get("email", ""), error=error, next=next_param()
    )
    return make_response(page, 429)


def _login_limit(config_key: str, key_func: Callable[[], str], scope: str) -> Any:
    return limiter.limit(
        lambda: current_app.config[config_key],
        key_func=key_func,
        methods=["POST"],
        deduct_when=_login_failed,
        on_breach=_too_many_attempts,
        scope=scope,
    )


@bp.route("/login", methods=["GET", "POST"])
@_login_limit("LOGIN_LIMIT_PER_ACCOUNT", _login_account_key, "account")
@_login_limit("LOGIN_LIMIT_PER_ADDRESS", get_remote_address, "address")
def login() -> Any:
    """Log in with email and password, then go to a safe `next`."""
    next_url = next_param()
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(web.safe_next(next_url))
    email = request.form.get("email", "")
    error = None
    if request.method == "POST":
        user = accounts.authenticate(db.session, email, request.form.get("password", ""))
        if user is not None:
            login_user(user)
            return redirect(web.safe_next(next_url), code=303)
        g.login_failed = True
        error = BAD_LOGIN
    status = invalid_status() if error else 200
    return render_template("auth/login.html", email=email, error=error, next=next_url), status


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> Any:
    """Create an account with no organization yet, log it in, then go to a safe `next`."""
    next_url = next_param()
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(web.safe_next(next_url))
    form = {key: request.form.get(key, "") for key in ("name", "email")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            user = accounts.create_user(
                db.session, form["name"], form["email"], request.form.get("password", "")
            )
        except accounts.ValidationError as exc:
            errors = exc.errors
        else:
            login_user(user)
            return redirect(web.safe_next(next_url), code=303)
    status = invalid_status() if errors else 200
    return render_template(
        "auth/signup.html",
        form=form,
        errors=errors,
        next=next_url,
        email_taken=errors.get("email") == accounts.EMAIL_TAKEN,
    ), status


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    """Log out everywhere (the session token rotates) and go to the login page."""
    if current_user.is_authenticated:
        accounts.end_sessions(db.session, current_user.id)
        db.session.commit()
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"), code=303)


def error_page(template: str, error: HTTPException) -> Response:
    """Render an error page; a boosted page load is told to load it for real."""
    response = make_response(render_template(template, error=error), error.code)
    if htmx.boosted and request.method == "GET":
        # htmx 2 does not swap 4xx answers, so a boosted link (or a redirect after a
        # boosted form) would leave the old page on screen with nothing said.
        response.headers["HX-Redirect"] = request.full_path.rstrip("?")
    return response


@bp.app_errorhandler(403)
def forbidden(error: HTTPException) -> Response:
    """Explain a refusal on a full page instead of a bare error."""
    return error_page("errors/403.html", error)


@bp.app_errorhandler(413)
def too_large(error: HTTPException) -> Response:
    """Say how big a request may be, instead of a bare error."""
    upload = request.endpoint in current_app.config["UPLOAD_ENDPOINTS"]
    limit = current_app.config["MAX_UPLOAD_SIZE" if upload else "MAX_CONTENT_LENGTH"]
    page = render_template("errors/413.html", upload=upload, limit_mb=limit / MB)
    response = make_response(page, 413)
    if web.is_fragment_request():
        # A control's fragment target is too small for the explanation: show it as the page.
        response.headers.update({"HX-Retarget": "#main", "HX-Reswap": "outerHTML"})
        response.headers["HX-Reselect"] = "#main"
    return response


@bp.app_errorhandler(404)
def not_found(error: HTTPException) -> Response:
    """Show a not-found page in the site's layout."""
    return error_page("errors/404.html", error)
