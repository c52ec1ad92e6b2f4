"""Views: campaigns (placeholder until its issue lands)."""

from flask import Blueprint

bp = Blueprint("campaigns", __name__)
