"""Messaging: send initials and replies behind the send guard, skip, opt out, Retry.

Every write runs in one transaction started with `transactions.begin_write`; callers commit, then
enqueue `jobs.sending.deliver(message_id)` for each message returned. Delivery lives in
`spoke.texting.delivery`, inbound texts and status callbacks in `spoke.texting.inbound`; both
are re-exported here.
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
from spoke.reports import activity
from spoke.texting.delivery import MAX_ATTEMPTS, deliver
from spoke.texting.inbound import apply_status_callback, receive_inbound
from spoke.texting.segments import MAX_CHARACTERS

log = logging.getLogger(__name__)

__all__ = [
    "MAX_BODY",
    "SendRefused",
    "apply_status_callback",
    "deliver",
    "opt_out_contact",
    "receive_inbound",
    "retry_message",
    "send_initial",
    "send_reply",
    "skip_contact",
]

MAX_BODY = MAX_CHARACTERS  # Twilio's limit for one message body: refused above, never cut.

REASONS = {
    "forbidden": "Only the texter holding this contact, or an admin, can do that.",
    "assignment_changed": "Your assignment has changed",
    "already_sent": "Already sent",
    "opted_out": "This contact has opted out. No more texts can be sent to them.",
    "not_started": "This campaign is not running, so no texts can be sent.",
    "no_script": "This campaign has no script yet, so there is nothing to send.",
    "initial_first": "Send the initial message first.",
    "empty": "Write a reply first.",
    "not_failed": "Only a text that failed can be retried.",
    "retried": "This text was already retried once, so it cannot be retried again.",
    "too_long": f"Keep the reply to {MAX_BODY:,} characters. Carriers cut longer texts.",
    "initial_too_long": (
        f"Not sent: this contact's message is longer than {MAX_BODY:,} characters. "
        "Ask an admin to shorten the script, or skip this contact."
    ),
    "outside_hours": "This contact is outside texting hours.",
}


class SendRefused(Exception):
    """The action was refused; `message` says why in the texter's words. Nothing changed."""

    def __init__(self, code: str, message: str = "") -> None:
        message = message or REASONS[code]
        super().__init__(message)
        self.code = code
        self.message = message


def load_for_action(
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
    session: Session,
    contact: CampaignContact,
    user_id: int,
    body: str,
    reply_wait_seconds: int | None = None,
) -> Message:
    """Queue the text, and count it (and the answer, if it answers a reply) on the dashboard."""
    at = clock.now()
    message = Message(
        contact_id=contact.id,
        campaign_id=contact.campaign_id,
        direction="out",
        body=body,
        user_id=user_id,
        status="queued",
        reply_wait_seconds=reply_wait_seconds,
    )
    session.add(message)
    contact.last_outbound_at = at
    activity.record(
        session,
        contact.campaign_id,
        at,
        texter_id=user_id,
        sent=1,
        answered=int(reply_wait_seconds is not None),
    )
    session.flush()
    return message


def send_initial(
    session: Session, contact_id: int, user_id: int, *, is_admin: bool = False
) -> Message:
    """Record the campaign's initial to one contact (needs_message -> messaged), queued."""
    contact, campaign = load_for_action(session, contact_id, user_id, is_admin)
    if contact.message_status != "needs_message":
        raise SendRefused("already_sent")
    _check_sendable(session, contact, campaign)
    user = session.get(User, user_id)
    body = script.render(campaign.script, contact, user.first_name if user else "").strip()
    if not body:
        raise SendRefused("no_script")
    if len(body) > MAX_BODY:
        raise SendRefused("initial_too_long")
    contact.message_status = "messaged"
    return _record_outbound(session, contact, user_id, body)


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
    contact, campaign = load_for_action(session, contact_id, user_id, is_admin)
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
    wait = None
    if contact.message_status == "needs_response":
        # This answers the reply: the dashboard's "time from a reply to its answer".
        contact.message_status = "convo"
        waited_since = contact.last_inbound_at or clock.now()
        wait = max(0, int((clock.now() - waited_since).total_seconds()))
    return _record_outbound(session, contact, user_id, body, wait)


def skip_contact(
    session: Session, contact_id: int, user_id: int, *, is_admin: bool = False
) -> CampaignContact:
    """Close a contact without texting it (skip an initial, or "no response needed")."""
    contact, _campaign = load_for_action(session, contact_id, user_id, is_admin)
    contact.message_status = "closed"
    session.flush()
    return contact


def opt_out_contact(
    session: Session, contact_id: int, user_id: int, *, is_admin: bool = False
) -> CampaignContact:
    """Opt a contact out: closed here, and its cell on the organization's opt-out list."""
    contact, campaign = load_for_action(session, contact_id, user_id, is_admin)
    opt_out_cell(session, campaign.organization_id, contact.cell, reason="Opted out by texter")
    contact.opted_out = True
    contact.message_status = "closed"
    session.flush()
    return contact


def retry_message(
    session: Session, message_id: int, user_id: int, *, is_admin: bool = False
) -> Message:
    """Queue a failed text again, once, behind the same send guard as a first send."""
    found = session.get(Message, message_id)
    if found is None or found.direction != "out":
        raise LookupError(f"outbound message {message_id} does not exist")
    contact, campaign = load_for_action(session, found.contact_id, user_id, is_admin)
    message = transactions.lock_row(session, Message, message_id)
    assert message is not None
    if message.status != "failed":
        raise SendRefused("not_failed")
    if message.attempts >= MAX_ATTEMPTS:
        raise SendRefused("retried")
    _check_sendable(session, contact, campaign)
    message.status, message.status_at = "queued", clock.now()
    # A late callback for the failed attempt must not land on the new one.
    message.provider_sid, message.error, message.error_detail = None, "", ""
    session.flush()
    return message
