"""Views: webhooks (placeholder until its issue lands)."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__)
