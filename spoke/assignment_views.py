"""Views: assignment_views (placeholder until its issue lands)."""

from flask import Blueprint

bp = Blueprint("assignment", __name__)
