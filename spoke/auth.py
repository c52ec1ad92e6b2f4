"""Views: auth (placeholder until its issue lands)."""

from flask import Blueprint

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=['GET', 'POST'])
def login() -> str:
    """Placeholder."""
    return "auth.login"


@bp.route("/logout", methods=['POST'])
def logout() -> str:
    """Placeholder."""
    return "auth.logout"
