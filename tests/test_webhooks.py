"""Twilio webhooks: signed inbound texts and status callbacks; everything else is 403."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from spoke import clock
from spoke.extensions import db
from spoke.models import CampaignContact, Message, OptOut
from spoke.texting import messaging
from tests.factories import give_contacts, make_campaign, make_contacts, make_org, make_user

TOKEN = "twilio-auth-token"
SMS_URL = "http://localhost/webhooks/twilio/sms"
STATUS_URL = "http://localhost/webhooks/twilio/status"


@pytest.fixture
def app_config(app_config):
    app_config["TWILIO_AUTH_TOKEN"] = TOKEN
    return app_config


@pytest.fixture
def world(ctx):
    org = make_org()
    texter = make_user(org, "texter")
    campaign = make_campaign(org, status="started", started_at=clock.now())
    ids = make_contacts(campaign, 2)
    give_contacts(campaign, texter, 2)
    return org, texter, campaign, ids


def signed(url: str, params: dict, token: str = TOKEN) -> dict:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, params)}


def inbound_params(body: str = "Yes!", sid: str = "SM" + "a" * 32, cell: str = "+15550000000"):
    return {"From": cell, "To": "+15005550006", "Body": body, "MessageSid": sid}


def count(model, **where) -> int:
    return db.session.scalar(select(func.count(model.id)).filter_by(**where)) or 0


def contact(cid: int) -> CampaignContact:
    db.session.expire_all()
    return db.session.get(CampaignContact, cid)


def test_a_signed_inbound_text_is_recorded_and_answered_with_empty_twiml(world, client):
    _org, texter, _campaign, ids = world
    params = inbound_params()
    response = client.post("/webhooks/twilio/sms", data=params, headers=signed(SMS_URL, params))
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert response.get_data(as_text=True) == "<Response/>"
    message = db.session.scalars(select(Message)).one()
    assert (message.direction, message.status, message.body) == ("in", "received", "Yes!")
    assert message.provider_sid == params["MessageSid"]
    c = contact(ids[0])
    assert c.message_status == "needs_response" and c.assignment.user_id == texter.id


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
        "wrong token",
        "other url",
        "other params",
    ],
)
def test_unsigned_or_badly_signed_requests_are_rejected(world, client, headers):
    params = inbound_params()
    if headers == "wrong token":
        headers = signed(SMS_URL, params, token="guess")
    elif headers == "other url":
        headers = signed("http://localhost/webhooks/twilio/other", params)
    elif headers == "other params":
        headers = signed(SMS_URL, {**params, "Body": "something else"})
    response = client.post("/webhooks/twilio/sms", data=params, headers=headers)
    assert response.status_code == 403
    status = client.post("/webhooks/twilio/status", data={"MessageSid": "x"}, headers=headers)
    assert status.status_code == 403
    assert count(Message) == 0


def test_without_an_auth_token_nothing_is_accepted(world, client, app):
    app.config["TWILIO_AUTH_TOKEN"] = ""
    params = inbound_params()
    response = client.post("/webhooks/twilio/sms", data=params, headers=signed(SMS_URL, params))
    assert response.status_code == 403
    assert count(Message) == 0


def test_behind_a_proxy_the_public_url_is_what_twilio_signed(world, client, app):
    app.config["PUBLIC_BASE_URL"] = "https://texts.example.org/"
    params = inbound_params()
    public = "https://texts.example.org/webhooks/twilio/sms"
    rejected = client.post("/webhooks/twilio/sms", data=params, headers=signed(SMS_URL, params))
    assert rejected.status_code == 403
    accepted = client.post("/webhooks/twilio/sms", data=params, headers=signed(public, params))
    assert accepted.status_code == 200
    assert count(Message) == 1


def test_a_repeated_message_sid_is_recorded_once(world, client):
    params = inbound_params()
    for _ in range(3):
        response = client.post("/webhooks/twilio/sms", data=params, headers=signed(SMS_URL, params))
        assert response.status_code == 200
    assert count(Message, provider_sid=params["MessageSid"]) == 1


def test_stop_opts_the_cell_out(world, client):
    org, _texter, _campaign, ids = world
    params = inbound_params(body="Stop ")
    response = client.post("/webhooks/twilio/sms", data=params, headers=signed(SMS_URL, params))
    assert response.status_code == 200
    c = contact(ids[0])
    assert (c.opted_out, c.message_status) == (True, "closed")
    assert count(OptOut, organization_id=org.id, cell="+15550000000") == 1


def test_a_text_from_an_unknown_number_is_ignored(world, client):
    params = inbound_params(cell="+15559990000")
    response = client.post("/webhooks/twilio/sms", data=params, headers=signed(SMS_URL, params))
    assert response.status_code == 200 and response.get_data(as_text=True) == "<Response/>"
    assert count(Message) == 0


def test_a_signed_request_missing_fields_is_a_bad_request(world, client):
    params = {"From": "+15550000000", "Body": "hi"}
    response = client.post("/webhooks/twilio/sms", data=params, headers=signed(SMS_URL, params))
    assert response.status_code == 400
    assert count(Message) == 0


def sent_message(world, sid: str) -> int:
    _org, texter, _campaign, ids = world
    message = messaging.send_initial(db.session, ids[0], texter.id)
    message.status, message.provider_sid = "sent", sid
    db.session.commit()
    return message.id


def post_status(client, **params):
    return client.post("/webhooks/twilio/status", data=params, headers=signed(STATUS_URL, params))


def test_status_callbacks_update_the_message(world, client):
    sid = "SM" + "b" * 32
    message_id = sent_message(world, sid)
    assert post_status(client, MessageSid=sid, MessageStatus="delivered").status_code == 204
    db.session.expire_all()
    assert db.session.get(Message, message_id).status == "delivered"


def test_undelivered_is_recorded_as_failed_with_the_error(world, client):
    sid = "SM" + "c" * 32
    message_id = sent_message(world, sid)
    response = post_status(
        client,
        MessageSid=sid,
        MessageStatus="undelivered",
        ErrorCode="30003",
        ErrorMessage="Unreachable destination handset",
    )
    assert response.status_code == 204
    db.session.expire_all()
    message = db.session.get(Message, message_id)
    # A short reason for the texter, the provider's words for admins (issue 12).
    assert (message.status, message.error, message.error_detail) == (
        "failed",
        "Not delivered: the phone was off or out of reach.",
        "Error 30003: Unreachable destination handset",
    )


def test_status_for_an_unknown_message_is_ignored(world, client):
    sid = "SM" + "d" * 32
    message_id = sent_message(world, sid)
    response = post_status(client, MessageSid="SM" + "e" * 32, MessageStatus="failed")
    assert response.status_code == 204
    db.session.expire_all()
    assert db.session.get(Message, message_id).status == "sent"
