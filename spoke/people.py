"""Views: people (placeholder until its issue lands)."""

from flask import Blueprint

bp = Blueprint("people", __name__)
