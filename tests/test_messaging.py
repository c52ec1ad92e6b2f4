"""The messaging domain: send guard, initials, replies, skip, opt-out, inbound, delivery."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import func, select
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse

from spoke import clock
from spoke.extensions import db
from spoke.models import Assignment, CampaignContact, Message, OptOut
from spoke.texting import inbound, messaging
from spoke.texting.providers import FakeProvider, ProviderError, TwilioProvider, get_provider
from tests.factories import give_contacts, make_campaign, make_contacts, make_org, make_user

NOW = datetime(2026, 11, 27, 12, 0, 0)


@pytest.fixture
def world(ctx):
    """An org with an admin, a texter holding 3 contacts of a started campaign."""
    clock.freeze(NOW)
    org = make_org()
    admin = make_user(org, "admin")
    texter = make_user(org, "texter", name="Tina Texter")
    campaign = make_campaign(org, status="started", started_at=NOW)
    ids = make_contacts(campaign, 3)
    give_contacts(campaign, texter, 3)
    return org, admin, texter, campaign, ids


def contact(cid: int) -> CampaignContact:
    db.session.expire_all()
    found = db.session.get(CampaignContact, cid)
    assert found is not None
    return found


def message_count(**where) -> int:
    query = select(func.count(Message.id)).filter_by(**where)
    return db.session.scalar(query) or 0


def refused(code: str, fn, *args, **kwargs) -> None:
    with pytest.raises(messaging.SendRefused) as info:
        fn(*args, **kwargs)
    assert info.value.code == code
    db.session.rollback()


class CountingProvider:
    name = "counting"

    def __init__(self, fail: Exception | None = None) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail = fail

    def send(self, to: str, body: str) -> str:
        if self.fail:
            raise self.fail
        self.sent.append((to, body))
        return f"SM{len(self.sent):032d}"


def test_send_initial_records_one_queued_message_with_the_rendered_script(world):
    _org, _admin, texter, _campaign, ids = world
    msg = messaging.send_initial(db.session, ids[0], texter.id)
    db.session.commit()
    assert (msg.direction, msg.status, msg.user_id) == ("out", "queued", texter.id)
    assert msg.body == "Hi First0, this is Tina. Can we count on your vote?"
    c = contact(ids[0])
    assert c.message_status == "messaged"
    assert c.last_outbound_at == NOW


def test_a_second_send_of_the_same_initial_is_refused(world):
    _org, _admin, texter, _campaign, ids = world
    messaging.send_initial(db.session, ids[0], texter.id)
    db.session.commit()
    refused("already_sent", messaging.send_initial, db.session, ids[0], texter.id)
    assert message_count(contact_id=ids[0]) == 1


def test_deliver_sends_once_and_records_the_provider_id(world):
    _org, _admin, texter, _campaign, ids = world
    msg_id = messaging.send_initial(db.session, ids[0], texter.id).id
    db.session.commit()
    provider = CountingProvider()
    messaging.deliver(db.session, msg_id, provider)
    db.session.commit()
    messaging.deliver(db.session, msg_id, provider)  # a re-run must not send again
    db.session.commit()
    msg = db.session.get(Message, msg_id)
    assert provider.sent == [("+15550000000", msg.body)]
    assert (msg.status, msg.provider_sid) == ("sent", "SM" + "1".zfill(32))


def test_the_fake_provider_sends_with_a_fake_id(world):
    _org, _admin, texter, _campaign, ids = world
    msg_id = messaging.send_initial(db.session, ids[0], texter.id).id
    db.session.commit()
    messaging.deliver(db.session, msg_id, FakeProvider())
    db.session.commit()
    msg = db.session.get(Message, msg_id)
    assert msg.status == "sent"
    assert msg.provider_sid.startswith("FAKE") and len(msg.provider_sid) == 36


@pytest.mark.parametrize(
    "error, shown, detail",
    [
        (
            ProviderError("Twilio error 21211: bad To", code=21211),
            "Not sent: the carrier rejected the number.",
            "Twilio error 21211: bad To",
        ),
        (
            ConnectionError("network down"),
            "Not sent: something went wrong while sending. Try again in a minute.",
            "ConnectionError: network down",
        ),
    ],
)
def test_a_provider_failure_marks_the_message_failed_with_the_error(world, error, shown, detail):
    """The texter reads a short reason; the provider's words are kept for admins (issue 12)."""
    _org, _admin, texter, _campaign, ids = world
    msg_id = messaging.send_initial(db.session, ids[0], texter.id).id
    db.session.commit()
    messaging.deliver(db.session, msg_id, CountingProvider(fail=error))
    db.session.commit()
    msg = db.session.get(Message, msg_id)
    assert (msg.status, msg.error, msg.provider_sid) == ("failed", shown, None)
    assert msg.error_detail == detail


def test_deliver_does_not_send_to_a_contact_who_opted_out_meanwhile(world):
    _org, _admin, texter, _campaign, ids = world
    msg_id = messaging.send_initial(db.session, ids[0], texter.id).id
    db.session.commit()
    inbound.receive_inbound(db.session, "+15550000000", "STOP", "SMstop")
    db.session.commit()
    provider = CountingProvider()
    messaging.deliver(db.session, msg_id, provider)
    db.session.commit()
    assert provider.sent == []
    assert db.session.get(Message, msg_id).status == "failed"


def test_send_guard_refuses_a_contact_moved_to_another_texter(world):
    org, _admin, texter, campaign, ids = world
    other = make_user(org, "texter")
    other_assignment = Assignment(user_id=other.id, campaign_id=campaign.id)
    db.session.add(other_assignment)
    db.session.flush()
    contact(ids[0]).assignment_id = other_assignment.id
    db.session.commit()
    refused("assignment_changed", messaging.send_initial, db.session, ids[0], texter.id)
    refused("assignment_changed", messaging.skip_contact, db.session, ids[0], texter.id)
    assert message_count() == 0
    assert contact(ids[0]).message_status == "needs_message"


def test_send_guard_refuses_someone_with_no_part_in_the_campaign(world):
    org, _admin, _texter, _campaign, ids = world
    stranger = make_user(org, "supervolunteer")
    refused("forbidden", messaging.send_initial, db.session, ids[0], stranger.id)
    refused("forbidden", messaging.opt_out_contact, db.session, ids[0], stranger.id)
    refused("forbidden", messaging.send_reply, db.session, ids[0], stranger.id, "hello")
    assert message_count() == 0
    assert not contact(ids[0]).opted_out


def test_admins_may_send_to_contacts_they_do_not_hold(world):
    _org, admin, _texter, campaign, _ids = world
    pool_id = make_contacts(campaign, 1, start=50)[0]
    msg = messaging.send_initial(db.session, pool_id, admin.id, is_admin=True)
    db.session.commit()
    assert msg.user_id == admin.id
    assert contact(pool_id).message_status == "messaged"


def test_send_guard_refuses_opted_out_contacts_and_cells_on_the_list(world):
    org, _admin, texter, _campaign, ids = world
    contact(ids[0]).opted_out = True
    db.session.add(OptOut(organization_id=org.id, cell="+15550000001"))
    db.session.commit()
    refused("opted_out", messaging.send_initial, db.session, ids[0], texter.id)
    refused("opted_out", messaging.send_initial, db.session, ids[1], texter.id)
    assert message_count() == 0


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_send_guard_refuses_when_the_campaign_is_not_started(world, status):
    _org, admin, texter, campaign, ids = world
    campaign.status = status
    db.session.commit()
    refused("not_started", messaging.send_initial, db.session, ids[0], texter.id)
    refused("not_started", messaging.send_initial, db.session, ids[0], admin.id, is_admin=True)
    assert message_count() == 0


def test_reply_flow_needs_response_to_convo(world):
    _org, _admin, texter, _campaign, ids = world
    messaging.send_initial(db.session, ids[0], texter.id)
    db.session.commit()
    clock.advance(minutes=5)
    got = inbound.receive_inbound(db.session, "(555) 000-0000", "Yes I will", "SMin1")
    db.session.commit()
    assert got is not None and got.contact_id == ids[0]
    c = contact(ids[0])
    assert (c.message_status, c.last_inbound_at) == ("needs_response", clock.now())
    holder = c.assignment_id
    refused("empty", messaging.send_reply, db.session, ids[0], texter.id, "   ")
    reply = messaging.send_reply(
        db.session, ids[0], texter.id, "Great, thanks!", seen_message_id=got.id
    )
    db.session.commit()
    assert (reply.direction, reply.status, reply.body) == ("out", "queued", "Great, thanks!")
    c = contact(ids[0])
    assert (c.message_status, c.assignment_id) == ("convo", holder)
    # The same form submitted again (double click) is not a second reply.
    refused(
        "already_sent",
        messaging.send_reply,
        db.session,
        ids[0],
        texter.id,
        "Great, thanks!",
        seen_message_id=got.id,
    )
    assert message_count(contact_id=ids[0], direction="out") == 2


def test_a_reply_before_the_initial_is_refused(world):
    _org, _admin, texter, _campaign, ids = world
    refused("initial_first", messaging.send_reply, db.session, ids[0], texter.id, "hi")
    refused("too_long", messaging.send_reply, db.session, ids[0], texter.id, "x" * 1601)


def test_skip_closes_the_contact(world):
    _org, _admin, texter, _campaign, ids = world
    messaging.skip_contact(db.session, ids[0], texter.id)
    db.session.commit()
    assert contact(ids[0]).message_status == "closed"
    assert message_count() == 0


def test_opt_out_lists_the_cell_and_closes_it_in_every_campaign_of_the_org(world):
    org, _admin, texter, campaign, ids = world
    other_campaign = make_campaign(org, status="started", started_at=NOW)
    twin = make_contacts(other_campaign, 1)[0]  # same cell as ids[0]
    other_org_campaign = make_campaign(make_org("Other"), status="started", started_at=NOW)
    stranger = make_contacts(other_org_campaign, 1)[0]
    messaging.opt_out_contact(db.session, ids[0], texter.id)
    db.session.commit()
    for cid in (ids[0], twin):
        c = contact(cid)
        assert (c.opted_out, c.message_status) == (True, "closed")
    assert not contact(stranger).opted_out
    assert db.session.scalars(select(OptOut.organization_id, OptOut.cell)).all() == [org.id]
    # Opting out again is harmless (insert-or-ignore).
    messaging.opt_out_contact(db.session, ids[0], texter.id)
    db.session.commit()
    assert db.session.scalar(select(func.count(OptOut.id))) == 1
    refused("opted_out", messaging.send_reply, db.session, ids[0], texter.id, "hello?")


def test_inbound_goes_to_the_most_recent_started_campaign(world):
    org, _admin, _texter, campaign, ids = world
    newer = make_campaign(org, status="started", started_at=datetime(2026, 11, 28))
    newer_contact = make_contacts(newer, 1)[0]
    draft = make_campaign(org, status="draft", started_at=datetime(2026, 11, 29))
    make_contacts(draft, 1)
    got = inbound.receive_inbound(db.session, "+1 555 000 0000", "hi", "SMa")
    db.session.commit()
    assert got.contact_id == newer_contact
    assert contact(ids[0]).message_status == "needs_message"


def test_inbound_reopens_closed_and_keeps_the_holder(world):
    _org, _admin, texter, _campaign, ids = world
    messaging.skip_contact(db.session, ids[1], texter.id)
    db.session.commit()
    holder = contact(ids[1]).assignment_id
    inbound.receive_inbound(db.session, "+15550000001", "wait, what?", "SMb")
    db.session.commit()
    c = contact(ids[1])
    assert (c.message_status, c.assignment_id) == ("needs_response", holder)


def test_inbound_is_recorded_once_per_provider_id(world):
    _org, _admin, _texter, _campaign, ids = world
    first = inbound.receive_inbound(db.session, "+15550000000", "hi", "SMdup")
    db.session.commit()
    again = inbound.receive_inbound(db.session, "+15550000000", "hi", "SMdup")
    db.session.commit()
    assert again.id == first.id
    assert message_count(direction="in") == 1


def test_inbound_survives_the_unique_violation_of_a_concurrent_twin(world, monkeypatch):
    _org, _admin, _texter, _campaign, ids = world
    first = inbound.receive_inbound(db.session, "+15550000000", "hi", "SMrace")
    db.session.commit()
    # The twin did its check before the first insert committed: it finds nothing.
    monkeypatch.setattr(inbound, "_already_recorded", lambda s, sid: None)
    inbound.receive_inbound(db.session, "+15550000000", "hi", "SMrace")
    db.session.commit()
    assert message_count(provider_sid="SMrace") == 1
    assert db.session.get(Message, first.id).body == "hi"


def test_inbound_from_an_unknown_cell_is_ignored(world):
    assert inbound.receive_inbound(db.session, "+15559999999", "who?", "SMx") is None
    assert inbound.receive_inbound(db.session, "not a number", "who?", "SMy") is None
    db.session.commit()
    assert message_count() == 0


@pytest.mark.parametrize("body", ["STOP", " stop ", "Quit", "unsubscribe\n", "StopAll"])
def test_stop_keywords_opt_out_org_wide(world, body):
    org, _admin, _texter, _campaign, ids = world
    other = make_campaign(org, status="draft")
    twin = make_contacts(other, 1)[0]
    inbound.receive_inbound(db.session, "+15550000000", body, "SMstop")
    db.session.commit()
    for cid in (ids[0], twin):
        c = contact(cid)
        assert (c.opted_out, c.message_status) == (True, "closed")
    assert db.session.scalar(select(OptOut.cell)) == "+15550000000"
    assert message_count(direction="in", body=body) == 1


def test_a_message_that_only_contains_stop_is_not_an_opt_out(world):
    _org, _admin, _texter, _campaign, ids = world
    inbound.receive_inbound(db.session, "+15550000000", "please don't stop", "SMns")
    db.session.commit()
    assert not contact(ids[0]).opted_out
    assert db.session.scalar(select(func.count(OptOut.id))) == 0


def test_status_callbacks_advance_and_record_errors(world):
    _org, _admin, texter, _campaign, ids = world
    a = messaging.send_initial(db.session, ids[0], texter.id).id
    db.session.commit()
    b = messaging.send_initial(db.session, ids[1], texter.id).id
    db.session.commit()
    for mid, sid in ((a, "SMa"), (b, "SMb")):
        db.session.get(Message, mid).provider_sid = sid
        db.session.get(Message, mid).status = "sent"
    db.session.commit()
    inbound.apply_status_callback(db.session, "SMa", "delivered")
    inbound.apply_status_callback(db.session, "SMa", "sent")  # late, out of order
    inbound.apply_status_callback(db.session, "SMb", "undelivered", "30003", "Unreachable")
    assert inbound.apply_status_callback(db.session, "SMnone", "delivered") is None
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Message, a).status == "delivered"
    failed = db.session.get(Message, b)
    # A short reason for the texter, the provider's words for admins (issue 12).
    assert (failed.status, failed.error, failed.error_detail) == (
        "failed",
        "Not delivered: the phone was off or out of reach.",
        "Error 30003: Unreachable",
    )


def test_get_provider_by_config():
    assert isinstance(get_provider({"SMS_PROVIDER": "fake"}), FakeProvider)
    assert isinstance(get_provider({"SMS_PROVIDER": "twilio"}), TwilioProvider)
    with pytest.raises(ValueError):
        get_provider({"SMS_PROVIDER": "carrier-pigeon"})


def twilio_config(**overrides):
    config = {
        "SMS_PROVIDER": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": "secret",
        "TWILIO_FROM_NUMBER": "+15005550006",
        "TWILIO_MESSAGING_SERVICE_SID": "",
        "PUBLIC_BASE_URL": "https://spoke.example.org/",
    }
    config.update(overrides)
    return config


@pytest.fixture
def twilio_http(monkeypatch):
    """Replace Twilio's HTTP API: record requests, answer with `reply` (status, json)."""
    calls: list[dict] = []
    reply = {"status": 201, "json": {"sid": "SM" + "f" * 32, "status": "queued"}}

    def request(self, method, url, params=None, data=None, headers=None, auth=None, **kw):
        calls.append({"method": method, "url": url, "data": data, "auth": auth})
        return TwilioResponse(reply["status"], json.dumps(reply["json"]))

    monkeypatch.setattr(TwilioHttpClient, "request", request)
    return calls, reply


def test_twilio_provider_posts_the_message_with_a_status_callback(ctx, twilio_http):
    calls, _reply = twilio_http
    sid = get_provider(twilio_config()).send("+15551234567", "Hello")
    assert sid == "SM" + "f" * 32
    (call,) = calls
    assert call["method"] == "POST" and call["url"].endswith("/Messages.json")
    assert call["data"]["To"] == "+15551234567"
    assert call["data"]["Body"] == "Hello"
    assert call["data"]["From"] == "+15005550006"
    assert call["data"]["StatusCallback"] == "https://spoke.example.org/webhooks/twilio/status"


def test_twilio_provider_can_use_a_messaging_service(ctx, twilio_http):
    calls, _reply = twilio_http
    config = twilio_config(TWILIO_FROM_NUMBER="", TWILIO_MESSAGING_SERVICE_SID="MG" + "2" * 32)
    get_provider(config).send("+15551234567", "Hello")
    assert calls[0]["data"]["MessagingServiceSid"] == "MG" + "2" * 32
    assert "From" not in calls[0]["data"]


def test_twilio_errors_become_readable_provider_errors(ctx, twilio_http):
    _calls, reply = twilio_http
    reply.update(
        status=400, json={"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}
    )
    with pytest.raises(ProviderError) as info:
        get_provider(twilio_config()).send("+15551234567", "Hello")
    assert str(info.value).startswith("Twilio error 21211: ")
    assert str(info.value).endswith("Invalid 'To' Phone Number")


def test_twilio_without_credentials_fails_with_a_reason(ctx, twilio_http):
    calls, _reply = twilio_http
    with pytest.raises(ProviderError, match="not configured"):
        get_provider(twilio_config(TWILIO_AUTH_TOKEN="")).send("+15551234567", "Hello")
    assert calls == []
