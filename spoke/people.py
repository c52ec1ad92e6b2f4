"""Views: people (placeholder until its issue lands)."""

from flask import Blueprint

bp = Blueprint("people", __name__)


@bp.route("/people", methods=['GET'])
def index() -> str:
    """Placeholder."""
    return "people.index"


@bp.route("/teams", methods=['GET'])
def teams() -> str:
    """Placeholder."""
    return "people.teams"
