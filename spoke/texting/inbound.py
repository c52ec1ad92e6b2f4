"""What the provider tells us: inbound texts and delivery status callbacks."""

from __future__ import annotations

import logging

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spoke import clock, transactions
from spoke.contacts.optouts import is_opt_out_request, opt_out_cell
from spoke.models import Campaign, CampaignContact, Message
from spoke.reports import activity
from spoke.texting import failures

log = logging.getLogger(__name__)

# Delivery status callbacks arrive in any order (Twilio sends each from a different hop and
# retries them), so what a callback may change is one table, keyed on (the status we hold,
# what the provider reports). Twilio's statuses are first folded into four reports:
REPORTS = {
    "accepted": "sent",  # the provider has it: not yet on the handset
    "scheduled": "sent",
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",  # the carrier confirmed the handset got it
    "read": "delivered",
    "undelivered": "undelivered",  # the carrier could not deliver it
    "failed": "failed",  # the provider could not send it
    "canceled": "failed",
}

# (held, reported) -> (new status, what happens to error / error_detail):
#   "set"   record the provider's reason (and detail) for the failure
#   "clear" the text arrived after all: no error is left to show
#   "keep"  nothing changes
# The rules: `delivered` is final (the handset has it; any later report is stale or wrong).
# A carrier's terminal answer (delivered, undelivered, failed) wins over `sent`, whatever
# order they come in, and a late `sent` never undoes one. `failed` then `delivered` ends
# delivered with the old error cleared; the first failure's reason is kept over a second.
# Our own `queued`/`sending` rows carry no provider id yet, but are listed so the table is whole.
_ON_THE_WAY = {
    "sent": ("sent", "keep"),
    "delivered": ("delivered", "clear"),
    "undelivered": ("failed", "set"),
    "failed": ("failed", "set"),
}
TRANSITIONS: dict[tuple[str, str], tuple[str, str]] = {
    **{("queued", r): to for r, to in _ON_THE_WAY.items()},
    **{("sending", r): to for r, to in _ON_THE_WAY.items()},
    **{("sent", r): to for r, to in _ON_THE_WAY.items()},
    ("delivered", "sent"): ("delivered", "keep"),
    ("delivered", "delivered"): ("delivered", "keep"),
    ("delivered", "undelivered"): ("delivered", "keep"),
    ("delivered", "failed"): ("delivered", "keep"),
    ("failed", "sent"): ("failed", "keep"),
    ("failed", "delivered"): ("delivered", "clear"),
    ("failed", "undelivered"): ("failed", "keep"),
    ("failed", "failed"): ("failed", "keep"),
}


def normalize_cell(raw: str, region: str = "US") -> str | None:
    """The number in E.164, or None when it cannot be read as a phone number."""
    try:
        number = phonenumbers.parse((raw or "").strip(), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _find_contact(session: Session, cell: str, contact_id: int | None) -> CampaignContact | None:
    """The contact this cell is texting: in a started campaign, the most recent first."""
    query = (
        select(CampaignContact)
        .join(Campaign, Campaign.id == CampaignContact.campaign_id)
        .where(Campaign.status == "started", CampaignContact.cell == cell)
        .order_by(
            func.coalesce(Campaign.started_at, Campaign.created_at).desc(), Campaign.id.desc()
        )
        .limit(1)
    )
    if contact_id is not None:
        query = query.where(CampaignContact.id == contact_id)
    return session.scalars(query).first()


def _already_recorded(session: Session, provider_sid: str | None) -> Message | None:
    if not provider_sid:
        return None
    return session.scalars(select(Message).where(Message.provider_sid == provider_sid)).first()


def receive_inbound(
    session: Session,
    from_cell: str,
    body: str,
    provider_sid: str | None,
    to: str | None = None,
    *,
    contact_id: int | None = None,
    region: str = "US",
) -> Message | None:
    """Record an inbound text once per provider id; the contact now needs a response.

    STOP-type keywords opt the cell out organization-wide instead. The holder of the
    contact is never changed here. `contact_id` pins the contact (the "Simulate reply"
    form). Returns None, after logging, when no started campaign texts this cell.
    """
    cell = normalize_cell(from_cell, region)
    if cell is None:
        log.warning("inbound %s from unreadable number %r ignored", provider_sid, from_cell)
        return None
    transactions.begin_write(session)
    existing = _already_recorded(session, provider_sid)
    if existing is not None:
        log.info("inbound %s already recorded", provider_sid)
        return existing
    found = _find_contact(session, cell, contact_id)
    if found is None:
        log.warning(
            "inbound %s from %s (to %s): no started campaign texts it", provider_sid, cell, to
        )
        return None
    contact = transactions.lock_row(session, CampaignContact, found.id)
    assert contact is not None
    message = Message(
        contact_id=contact.id,
        campaign_id=contact.campaign_id,
        direction="in",
        body=body,
        provider_sid=provider_sid or None,
        status="received",
    )
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        # A concurrent delivery of the same webhook won the race: it is recorded once.
        log.info("inbound %s recorded concurrently", provider_sid)
        return _already_recorded(session, provider_sid)
    contact.last_inbound_at = clock.now()
    activity.record(session, contact.campaign_id, contact.last_inbound_at, received=1)
    if is_opt_out_request(body):
        opt_out_cell(
            session, contact.campaign.organization_id, cell, reason="Texted " + body.strip()
        )
        contact.opted_out = True
        contact.message_status = "closed"
    elif not contact.opted_out:
        # Any status, closed too: a reply reopens the conversation for whoever holds it.
        contact.message_status = "needs_response"
    session.flush()
    return message


def apply_status_callback(
    session: Session,
    provider_sid: str,
    status: str,
    error_code: str | None = None,
    error_message: str | None = None,
) -> Message | None:
    """Apply the provider's delivery status to our outbound message, by `TRANSITIONS`."""
    report = REPORTS.get((status or "").strip().lower())
    if report is None or not provider_sid:
        return None
    transactions.begin_write(session)
    message = session.scalars(
        select(Message)
        .where(Message.provider_sid == provider_sid)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if message is None or message.direction != "out":
        log.info("status %s for unknown message %s ignored", status, provider_sid)
        return None
    rule = TRANSITIONS.get((message.status, report))
    if rule is None:
        return message
    new_status, error_rule = rule
    if new_status != message.status:
        message.status, message.status_at = new_status, clock.now()
    if error_rule == "clear":
        message.error = message.error_detail = ""
    elif error_rule == "set":
        parts = [p for p in (error_code and f"Error {error_code}", error_message) if p]
        message.error = failures.reason_for_code(error_code, failures.UNDELIVERED)
        message.error_detail = failures.redact(": ".join(parts) or f"Reported {status}")
        log.warning("message %s %s: %s", message.id, status, message.error_detail)
    session.flush()
    return message
