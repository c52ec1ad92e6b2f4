"""Views: contacts (placeholder until its issue lands)."""

from flask import Blueprint

bp = Blueprint("contacts", __name__)
