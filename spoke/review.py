"""Views: review (placeholder until its issue lands)."""

from flask import Blueprint

bp = Blueprint("review", __name__)


@bp.route("/review", methods=['GET'])
def index() -> str:
    """Placeholder."""
    return "review.index"
