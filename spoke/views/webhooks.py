"""Views: Twilio's webhooks (inbound texts, delivery status), accepted only when signed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, current_app, request
from twilio.request_validator import RequestValidator
from werkzeug.wrappers import Response

from spoke.extensions import db
from spoke.models import Message
from spoke.texting.inbound import apply_status_callback, receive_inbound

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

EMPTY_TWIML = "<Response/>"
MAX_SID = Message.__table__.c.provider_sid.type.length  # what the column holds (64)


def public_url() -> str:
    """The URL Twilio called, as Twilio saw it (behind a proxy: PUBLIC_BASE_URL + path)."""
    base = str(current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if not base:
        return request.url
    query = request.query_string.decode()
    return base + request.path + (f"?{query}" if query else "")


def signature_valid() -> bool:
    """True when X-Twilio-Signature signs this request with our auth token."""
    token = current_app.config.get("TWILIO_AUTH_TOKEN") or ""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    return RequestValidator(token).validate(public_url(), request.form, signature)


def twilio_signed(view: Callable[..., Any]) -> Callable[..., Any]:
    """Reject (403) requests that Twilio did not sign."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not signature_valid():
            log.warning("rejected unsigned or badly signed webhook to %s", request.path)
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def required_fields(first: str, second: str) -> tuple[str, str]:
    """The two form fields, stripped; 400 when either is missing or blank."""
    values = request.form.get(first, "").strip(), request.form.get(second, "").strip()
    if not all(values):
        abort(400, f"{first} and {second} are required.")
    if first == "MessageSid" and len(values[0]) > MAX_SID:
        log.warning("rejected webhook to %s: MessageSid longer than %s", request.path, MAX_SID)
        abort(400, f"MessageSid is longer than {MAX_SID} characters.")
    return values


@bp.post("/twilio/sms")
@twilio_signed
def twilio_sms() -> Response:
    """Record an inbound text (idempotent on MessageSid); answer with empty TwiML."""
    sid, sender = required_fields("MessageSid", "From")
    receive_inbound(
        db.session,
        sender,
        request.form.get("Body", ""),
        sid,
        to=request.form.get("To") or None,
        region=current_app.config["DEFAULT_PHONE_REGION"],
    )
    db.session.commit()
    return Response(EMPTY_TWIML, status=200, content_type="text/xml")


@bp.post("/twilio/status")
@twilio_signed
def twilio_status() -> Response:
    """Record a delivery status Twilio reports for one of our messages."""
    sid, status = required_fields("MessageSid", "MessageStatus")
    apply_status_callback(
        db.session,
        sid,
        status,
        error_code=request.form.get("ErrorCode") or None,
        error_message=request.form.get("ErrorMessage") or None,
    )
    db.session.commit()
    return Response("", status=204)
