"""Status callbacks in any order: one transition table, the error kept or cleared by rule."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from spoke import clock
from spoke.extensions import db
from spoke.models import Message
from spoke.texting import inbound, messaging
from tests.factories import give_contacts, make_campaign, make_contacts, make_org, make_user

NOW = datetime(2026, 11, 27, 12, 0, 0)
SID = "SM" + "a" * 32
OLD_ERROR = ("Not delivered: the phone was off or out of reach.", "Error 30003: Unreachable")

# (stored status, callback status) -> (status after, error after: "clear", "keep" or "set")
CASES = [
    ("sent", "queued", "sent", "keep"),
    ("sent", "sending", "sent", "keep"),
    ("sent", "sent", "sent", "keep"),
    ("sent", "delivered", "delivered", "clear"),
    ("sent", "read", "delivered", "clear"),
    ("sent", "undelivered", "failed", "set"),
    ("sent", "failed", "failed", "set"),
    ("delivered", "sent", "delivered", "keep"),
    ("delivered", "queued", "delivered", "keep"),
    ("delivered", "undelivered", "delivered", "keep"),
    ("delivered", "failed", "delivered", "keep"),
    ("delivered", "delivered", "delivered", "keep"),
    ("failed", "sent", "failed", "keep"),
    ("failed", "delivered", "delivered", "clear"),
    ("failed", "undelivered", "failed", "keep"),
    ("failed", "failed", "failed", "keep"),
    ("sending", "sent", "sent", "keep"),
    ("sending", "delivered", "delivered", "clear"),
    ("sending", "failed", "failed", "set"),
]


@pytest.fixture
def message_id(ctx) -> int:
    clock.freeze(NOW)
    org = make_org()
    texter = make_user(org)
    campaign = make_campaign(org, status="started", started_at=NOW)
    [cid] = make_contacts(campaign, 1)
    give_contacts(campaign, texter, 1)
    message = messaging.send_initial(db.session, cid, texter.id)
    db.session.commit()
    return message.id


def stored(message_id: int, status: str, error: tuple[str, str] = ("", "")) -> None:
    message = db.session.get(Message, message_id)
    message.status, message.provider_sid = status, SID
    message.error, message.error_detail = error
    db.session.commit()


def reload(message_id: int) -> Message:
    db.session.expire_all()
    return db.session.get(Message, message_id)


@pytest.mark.parametrize("before, callback, after, error", CASES)
def test_transition_table(message_id, before, callback, after, error):
    stored(message_id, before, OLD_ERROR if before == "failed" else ("", ""))
    clock.advance(minutes=1)
    inbound.apply_status_callback(db.session, SID, callback, "30007", "Carrier filtered")
    db.session.commit()
    message = reload(message_id)
    assert message.status == after
    expected = {
        "clear": ("", ""),
        "keep": OLD_ERROR if before == "failed" else ("", ""),
        "set": (
            "Not delivered: the carrier filtered the text as spam.",
            "Error 30007: Carrier filtered",
        ),
    }[error]
    assert (message.error, message.error_detail) == expected
    moved = after != before
    assert (message.status_at == clock.now()) is moved  # the outbox clock follows the status


def test_every_stored_and_reported_status_has_a_rule():
    stored_statuses = {"queued", "sending", "sent", "delivered", "failed"}
    reports = {"sent", "delivered", "undelivered", "failed"}
    assert set(inbound.TRANSITIONS) == {(s, r) for s in stored_statuses for r in reports}


def test_failed_then_delivered_ends_delivered_without_the_old_error(message_id):
    stored(message_id, "sent")
    inbound.apply_status_callback(db.session, SID, "failed", "30003", "Unreachable")
    inbound.apply_status_callback(db.session, SID, "delivered")
    db.session.commit()
    message = reload(message_id)
    assert (message.status, message.error, message.error_detail) == ("delivered", "", "")


def test_delivered_then_undelivered_stays_delivered(message_id):
    stored(message_id, "sent")
    inbound.apply_status_callback(db.session, SID, "delivered")
    inbound.apply_status_callback(db.session, SID, "undelivered", "30005", "Unknown handset")
    db.session.commit()
    assert (reload(message_id).status, reload(message_id).error) == ("delivered", "")


def test_an_unknown_code_gets_a_general_reason_and_unknown_statuses_change_nothing(message_id):
    stored(message_id, "sent")
    inbound.apply_status_callback(db.session, SID, "undelivered", "39999", "Something new")
    inbound.apply_status_callback(db.session, SID, "teleported")
    db.session.commit()
    message = reload(message_id)
    assert (message.status, message.error) == (
        "failed",
        "Not delivered: the carrier could not deliver it.",
    )
    assert message.error_detail == "Error 39999: Something new"
    assert db.session.scalars(select(Message.status)).all() == ["failed"]
