"""Views: one text's status and Retry, the reply box's length counter, and Simulate reply."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, current_app, request, url_for
from flask_login import current_user, login_required

from spoke.extensions import db
from spoke.models import CampaignContact, Message
from spoke.runtime import tasks
from spoke.texting import messaging
from spoke.texting.inbound import receive_inbound
from spoke.texting.providers import is_fake
from spoke.texting.segments import measure
from spoke.views import _authz as authz
from spoke.views import texting as texting_views
from spoke.views._web import fragment_or_redirect

bp = Blueprint("messages", __name__)
bp.add_app_template_global(measure, "sms_length")
bp.add_app_template_global(messaging.MAX_ATTEMPTS, "max_send_attempts")  # type: ignore[arg-type]


def _outbound_or_404(message_id: int) -> tuple[Message, CampaignContact]:
    """The outbound text and its contact, if this user's organization owns it."""
    message = db.session.get(Message, message_id)
    if message is None or message.direction != "out":
        abort(404)
    return message, authz.get_contact_or_404(message.contact_id)


@bp.post("/texting/messages/<int:message_id>/retry")
@login_required
def retry(message_id: int) -> Any:
    """Send a failed text once more, through the same send guard as the first send."""
    message, contact = _outbound_or_404(message_id)
    try:
        messaging.retry_message(
            db.session, message.id, current_user.id, is_admin=authz.current_membership().is_admin
        )
    except messaging.SendRefused as refusal:
        return texting_views._refused(refusal, contact, "conversation")
    db.session.commit()
    tasks.enqueue_or_leave(tasks.DELIVER, message.id)
    db.session.refresh(message)
    if message.status == "failed":
        return texting_views._answer("conversation", contact, error=f"Retry: {message.error}")
    notice = "Sent." if message.status == "sent" else "Queued again."
    return texting_views._answer("conversation", contact, notice=notice)


@bp.get("/texting/messages/<int:message_id>/status")
@login_required
def status(message_id: int) -> Any:
    """Show one outbound text's status; its bubble polls this while the text is queued."""
    message, contact = _outbound_or_404(message_id)
    if not (authz.current_membership().is_staff or texting_views._holds(contact)):
        abort(404)
    return fragment_or_redirect(
        "texting/_message_status.html",
        url_for("texting.conversation", contact_id=contact.id),
        m=message,
    )


@bp.post("/texting/count")
@login_required
def count() -> Any:
    """Show how long the typed reply is: characters, segments, and the hard limit."""
    length = measure(request.form.get("body", "").strip())
    return fragment_or_redirect("texting/_reply_count.html", url_for("texting.home"), length=length)


@bp.post("/texting/contacts/<int:contact_id>/simulate-reply")
@authz.admin_required
def simulate_reply(contact_id: int) -> Any:
    """Inject an inbound text from this contact (fake provider only), as if they replied."""
    contact = authz.get_contact_or_404(contact_id)
    if not is_fake(current_app.config):
        abort(404)
    body = request.form.get("body", "").strip()
    if not body:
        return texting_views._conversation_invalid(
            contact, simulate_error="Write the reply to simulate."
        )
    message = receive_inbound(
        db.session,
        contact.cell,
        body,
        "SIM" + uuid.uuid4().hex,
        contact_id=contact.id,
        region=current_app.config["DEFAULT_PHONE_REGION"],
    )
    db.session.commit()
    if message is None:
        return texting_views._answer(
            "conversation", contact, error="Only started campaigns receive replies."
        )
    return texting_views._answer("conversation", contact, notice="Reply received.")
