"""Delivery: hand one queued outbound message to the provider, at most once per claim.

The message row is the outbox: it is committed as `queued` before anything is enqueued.
`deliver` first claims the row with one guarded statement (`queued` -> `sending`), commits,
and calls the provider only if it won the claim, so a second job for the same message (a
re-queue, a double enqueue, two workers) makes no provider call. The outcome (`sent` or
`failed`) is recorded in a second transaction: no transaction, and so no SQLite write lock,
is held across the provider's HTTP call. A `sending` row whose worker died is given back
to `queued` by the outbox sweep (`spoke.texting.outbox`) after a timeout.
"""

from __future__ import annotations

import logging

from sqlalchemy import update
from sqlalchemy.orm import Session

from spoke import clock, transactions
from spoke.contacts.optouts import is_listed
from spoke.models import Message
from spoke.texting import failures
from spoke.texting.failures import Failure
from spoke.texting.providers import Provider, ProviderError

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 2  # the first send and one Retry


def claim(session: Session, message_id: int) -> bool:
    """Move one outbound message from `queued` to `sending`; True if this caller won it."""
    transactions.begin_write(session)
    won = session.execute(
        update(Message)
        .where(Message.id == message_id, Message.direction == "out", Message.status == "queued")
        .values(status="sending", status_at=clock.now())
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    ).first()
    return won is not None


def deliver(session: Session, message_id: int, provider: Provider) -> Message | None:
    """Send one queued message if this caller claims it; record "sent" or "failed" + reasons."""
    if not claim(session, message_id):
        session.commit()
        return session.get(Message, message_id)  # handled, or being handled, by someone else
    message = transactions.lock_row(session, Message, message_id)
    assert message is not None
    contact = message.contact
    to, body = contact.cell, message.body
    opted_out = contact.opted_out or is_listed(session, contact.campaign.organization_id, to)
    session.commit()  # the claim is visible to every other deliver before the HTTP call
    sid, failure = None, None
    if opted_out:
        failure = Failure(failures.OPTED_OUT, "The contact opted out before delivery.")
    else:
        try:
            sid = provider.send(to, body)
        except ProviderError as exc:
            failure = Failure(exc.reason, failures.redact(str(exc)))
        except Exception as exc:  # any provider failure must end as a visible "failed"
            detail = failures.redact(f"{type(exc).__name__}: {exc}")
            log.error("sending message %s raised %s", message_id, detail)
            failure = Failure(failures.BROKEN, detail)
    return _record(session, message_id, sid, failure)


def _record(
    session: Session, message_id: int, sid: str | None, failure: Failure | None
) -> Message | None:
    """Store the provider's answer on the message we claimed."""
    transactions.begin_write(session)
    message = transactions.lock_row(session, Message, message_id)
    # `queued` too: the sweep may have given the row back while we waited on the provider,
    # and what we sent must be recorded so that nobody sends it again.
    if message is None or message.status not in ("sending", "queued"):
        log.warning("message %s changed while it was being sent; outcome dropped", message_id)
        return message
    message.attempts = (message.attempts or 0) + 1
    message.status_at = clock.now()
    if sid is not None:
        message.status, message.provider_sid = "sent", sid
        message.error = message.error_detail = ""
    else:
        assert failure is not None
        message.status = "failed"
        message.error, message.error_detail = failure.reason, failure.detail
        log.warning("message %s failed: %s", message_id, failure.detail)
    session.flush()
    return message
