"""Views: auth (placeholder until its issue lands)."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
