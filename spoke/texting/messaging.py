"""Messaging: send initials and replies behind the send guard, skip, opt out, deliver.

Every write runs in one transaction started with `transactions.begin_write`; callers commit, then
enqueue `jobs.sending.deliver(message_id)` for each message returned. Inbound texts and
status callbacks live in `spoke.texting.inbound` and are re-exported here.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from spoke import clock, transactions
from spoke.campaigns import script
from spoke.campaigns.hours import Hours
from spoke.contacts.optouts import is_listed, opt_out_cell
from spoke.models import Assignment, Campaign, CampaignContact, Message, User
from spoke.texting.inbound import apply_status_callback, receive_inbound
from spoke.texting.providers import Provider, ProviderError

log = logging.getLogger(__name__)

__all__ = [
    "MAX_BODY",
    "SendRefused",
    "apply_status_callback",
    "deliver",
    "opt_out_contact",
    "receive_inbound",
    "send_initial",
    "send_reply",
    "skip_contact",
]

MAX_BODY = 1600  # Twilio's limit for one message body.

REASONS = {
    "forbidden": "Only the texter holding this contact, or an admin, can do that.",
    "assignment_changed": "Your assignment has changed",
    "already_sent": "Already sent",
    "opted_out": "This contact has opted out. No more texts can be sent to them.",
    "not_started": "This campaign is not running, so no texts can be sent.",
    "no_script": "This campaign has no script yet, so there is nothing to send.",
    "initial_first": "Send the initial message first.",
    "empty": "Write a reply first.",
    "too_long": f"Keep the reply under {MAX_BODY} characters.",
    "outside_hours": "This contact is outside texting hours.",
}


class SendRefused(Exception):
    """The action was refused; `message` says why in the texter's words. Nothing changed."""

    def __init__(self, code: str, message: str = "") -> None:
        message = message or REASONS[code]
        super().__init__(message)
        self.code = code
        self.message = message


def _load_for_action(
    session: Session, contact_id: int, user_id: int, is_admin: bool
) -> tuple[CampaignContact, Campaign]:
    """Start the write, lock the contact and check the actor may act on it."""
    transactions.begin_write(session)
    contact = transactions.lock_row(session, CampaignContact, contact_id)
    if contact is None:
        raise LookupError(f"contact {contact_id} does not exist")
    campaign = session.get(Campaign, contact.campaign_id)
    assert campaign is not None
    if is_admin:
        return contact, campaign
    if contact.assignment_id is not None:
        holder = session.get(Assignment, contact.assignment_id)
        if holder is not None and holder.user_id == user_id:
            return contact, campaign
    # A texter of this campaign who no longer holds the contact lost it to a reassignment.
    own = session.scalar(
        select(Assignment.id).where(
            Assignment.user_id == user_id, Assignment.campaign_id == campaign.id
        )
    )
    raise SendRefused("assignment_changed" if own is not None else "forbidden")


def _check_sendable(session: Session, contact: CampaignContact, campaign: Campaign) -> None:
    if campaign.status != "started":
        raise SendRefused("not_started")
    if contact.opted_out or is_listed(session, campaign.organization_id, contact.cell):
        raise SendRefused("opted_out")
    hours, at = Hours.of(campaign), clock.now()
    if not hours.is_open(contact.timezone, at):
        raise SendRefused("outside_hours", hours.outside_refusal(contact.timezone, at))


def _record_outbound(
    session: Session, contact: CampaignContact, user_id: int, body: str
) -> Message:
    message = Message(
        contact_id=contact.id,
        campaign_id=contact.campaign_id,
        direction="out",
        body=body,
        user_id=user_id,
        status="queued",
    )
    session.add(message)
    contact.last_outbound_at = clock.now()
    session.flush()
    return message


def send_initial(
    session: Session, contact_id: int, user_id: int, *, is_admin: bool = False
) -> Message:
    """Record the campaign's initial to one contact (needs_message -> messaged), queued."""
    contact, campaign = _load_for_action(session, contact_id, user_id, is_admin)
    if contact.message_status != "needs_message":
        raise SendRefused("already_sent")
    _check_sendable(session, contact, campaign)
    user = session.get(User, user_id)
    body = script.render(campaign.script, contact, user.first_name if user else "").strip()
    if not body:
        raise SendRefused("no_script")
    contact.message_status = "messaged"
    return _record_outbound(session, contact, user_id, body[:MAX_BODY])


def send_reply(
    session: Session,
    contact_id: int,
    user_id: int,
    body: str,
    *,
    is_admin: bool = False,
    seen_message_id: int | None = None,
) -> Message:
    """Record a texter's reply (needs_response -> convo), queued.

    `seen_message_id` is the newest message on the page the texter wrote on: an identical
    reply of theirs after it means this is a repeated submit, refused as "Already sent".
    """
    body = body.strip()
    if not body:
        raise SendRefused("empty")
    if len(body) > MAX_BODY:
        raise SendRefused("too_long")
    contact, campaign = _load_for_action(session, contact_id, user_id, is_admin)
    if contact.message_status == "needs_message":
        raise SendRefused("initial_first")
    _check_sendable(session, contact, campaign)
    if seen_message_id is not None:
        repeat = session.scalar(
            select(Message.id).where(
                Message.contact_id == contact.id,
                Message.direction == "out",
                Message.user_id == user_id,
                Message.body == body,
                Message.id > seen_message_id,
            )
        )
        if repeat is not None:
            raise SendRefused("already_sent")
    if contact.message_status == "needs_response":
        contact.message_status = "convo"
    return _record_outbound(session, contact, user_id, body)


def skip_contact(
    session: Session, contact_id: int, user_id: int, *, is_admin: bool = False
) -> CampaignContact:
    """Close a contact without texting it (skip an initial, or "no response needed")."""
    contact, _campaign = _load_for_action(session, contact_id, user_id, is_admin)
    contact.message_status = "closed"
    session.flush()
    return contact


def opt_out_contact(
    session: Session, contact_id: int, user_id: int, *, is_admin: bool = False
) -> CampaignContact:
    """Opt a contact out: closed here, and its cell on the organization's opt-out list."""
    contact, campaign = _load_for_action(session, contact_id, user_id, is_admin)
    opt_out_cell(session, campaign.organization_id, contact.cell, reason="Opted out by texter")
    contact.opted_out = True
    contact.message_status = "closed"
    session.flush()
    return contact


def deliver(session: Session, message_id: int, provider: Provider) -> Message | None:
    """Hand one queued outbound message to the provider; record "sent" or "failed" + error."""
    message = session.get(Message, message_id)
    if message is None or message.direction != "out" or message.status != "queued":
        return message  # already handled: never send twice
    contact = message.contact
    to, body = contact.cell, message.body
    opted_out = contact.opted_out or is_listed(session, contact.campaign.organization_id, to)
    # Do not hold a transaction (or SQLite's write lock) across the provider's HTTP call.
    session.commit()
    sid, error = None, ""
    if opted_out:
        error = "Not sent: the contact opted out."
    else:
        try:
            sid = provider.send(to, body)
        except ProviderError as exc:
            error = str(exc)
        except Exception as exc:  # any provider failure must end as a visible "failed"
            log.exception("sending message %s failed", message_id)
            error = str(exc) or type(exc).__name__
    transactions.begin_write(session)
    message = transactions.lock_row(session, Message, message_id)
    if message is None or message.status != "queued":
        return message
    if sid is not None:
        message.status, message.provider_sid = "sent", sid
    else:
        message.status, message.error = "failed", error
        log.warning("message %s failed: %s", message_id, error)
    session.flush()
    return message
