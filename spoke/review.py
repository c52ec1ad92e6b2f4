"""Views: review (placeholder until its issue lands)."""

from flask import Blueprint

bp = Blueprint("review", __name__)
