"""Views: texting (placeholder until its issue lands)."""

from flask import Blueprint

bp = Blueprint("texting", __name__)
