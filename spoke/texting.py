"""Views: texting (placeholder until its issue lands)."""

from flask import Blueprint

bp = Blueprint("texting", __name__)


@bp.route("/", methods=['GET'])
def home() -> str:
    """Placeholder."""
    return "texting.home"
