"""Views: one outbound message's status and Retry, and the reply box's length counter."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request, url_for
from flask_login import login_required

from spoke.texting.segments import measure
from spoke.views._web import fragment_or_redirect

bp = Blueprint("messages", __name__)
bp.add_app_template_global(measure, "sms_length")


@bp.post("/texting/count")
@login_required
def count() -> Any:
    """Show how long the typed reply is: characters, segments, and the hard limit."""
    length = measure(request.form.get("body", "").strip())
    return fragment_or_redirect("texting/_reply_count.html", url_for("texting.home"), length=length)
