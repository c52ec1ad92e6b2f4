"""Views: campaigns (placeholder until its issue lands)."""

from flask import Blueprint

bp = Blueprint("campaigns", __name__)


@bp.route("/campaigns", methods=['GET'])
def index() -> str:
    """Placeholder."""
    return "campaigns.index"
