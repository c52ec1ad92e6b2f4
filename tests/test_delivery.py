"""Delivery: claim before sending (never twice), readable failures with redacted detail, Retry."""

from __future__ import annotations

import json
import threading
from datetime import datetime

import pytest
import requests
from bs4 import BeautifulSoup
from flask import g
from sqlalchemy import select
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse

from spoke import clock
from spoke.extensions import db
from spoke.models import Message
from spoke.texting import messaging
from spoke.texting.failures import redact
from spoke.texting.providers import ProviderError
from tests.factories import give_contacts, make_campaign, make_contacts, make_org, make_user
from tests.helpers import run_threads

NOW = datetime(2026, 11, 27, 12, 0, 0)
HX = {"HX-Request": "true"}
SID = "AC" + "0123456789abcdef" * 2
TOKEN = "fedcba9876543210" * 2


class CountingProvider:
    """Counts provider calls (thread-safe); fails with `fail` while it is set."""

    name = "counting"

    def __init__(self, fail: Exception | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail = fail
        self.lock = threading.Lock()
        self.during_send = None  # called inside send(), after the call is counted

    def send(self, to: str, body: str) -> str:
        with self.lock:
            self.calls.append((to, body))
            n = len(self.calls)
        if self.during_send is not None:
            self.during_send()
        if self.fail:
            raise self.fail
        return f"SM{n:032d}"


@pytest.fixture
def world(ctx):
    clock.freeze(NOW)
    org = make_org()
    admin = make_user(org, "admin", name="Ada Admin")
    texter = make_user(org, "texter", name="Tina Texter")
    campaign = make_campaign(org, status="started", started_at=NOW)
    ids = make_contacts(campaign, 2)
    give_contacts(campaign, texter, 2)
    return org, admin, texter, campaign, ids


def queued(world, index: int = 0) -> int:
    _org, _admin, texter, _campaign, ids = world
    message_id = messaging.send_initial(db.session, ids[index], texter.id).id
    db.session.commit()
    return message_id


def message(message_id: int) -> Message:
    db.session.expire_all()
    return db.session.get(Message, message_id)


# --- Claim: exactly one provider call ---------------------------------------------------------


def test_two_concurrent_delivers_make_one_provider_call(world, app):
    message_id = queued(world)
    provider = CountingProvider()

    def deliver(_i: int) -> None:
        messaging.deliver(db.session, message_id, provider)
        db.session.commit()

    run_threads(app, deliver, 2)
    assert len(provider.calls) == 1
    sent = message(message_id)
    assert (sent.status, sent.attempts, sent.provider_sid) == ("sent", 1, "SM" + "1".zfill(32))


def test_a_deliver_arriving_while_another_is_at_the_provider_makes_no_call(world, app):
    """The second job runs while the first is inside the provider's HTTP call."""
    message_id = queued(world)
    provider = CountingProvider()
    seen: list[str] = []

    def second_deliver() -> None:
        provider.during_send = None

        def run() -> None:
            with app.app_context():
                got = messaging.deliver(db.session, message_id, provider)
                seen.append(got.status)
                db.session.commit()
                db.session.remove()

        thread = threading.Thread(target=run)
        thread.start()
        thread.join(timeout=60)
        assert not thread.is_alive()

    provider.during_send = second_deliver
    messaging.deliver(db.session, message_id, provider)
    db.session.commit()
    assert len(provider.calls) == 1
    assert seen == ["sending"]  # the second saw the first one's claim and stood back
    assert message(message_id).status == "sent"


def test_every_status_change_moves_the_outbox_clock(world):
    message_id = queued(world)
    assert message(message_id).status_at == NOW
    clock.advance(seconds=30)
    messaging.deliver(db.session, message_id, CountingProvider())
    db.session.commit()
    assert message(message_id).status_at == clock.now()


# --- Failures: a reason for the texter, the detail for admins, no secrets ----------------------


@pytest.mark.parametrize(
    "text, hidden, kept",
    [
        (f"Unable to create record: /2010-04-01/Accounts/{SID}/Messages.json", SID, "Accounts/AC"),
        (f"auth token {TOKEN} rejected", TOKEN, "rejected"),
        (f"https://{SID}:{TOKEN}@api.twilio.com/x failed", TOKEN, "api.twilio.com/x"),
        ("redis://:hunter2secret@10.0.0.5:6379/0 down", "hunter2secret", "10.0.0.5:6379"),
        ("Authorization: Basic QUMxMjM0NTY3ODk6c2VjcmV0 sent", "QUMxMjM0NTY3ODk6c2VjcmV0", "Basic"),
    ],
)
def test_redact_strips_sids_tokens_and_url_credentials(text, hidden, kept):
    cleaned = redact(text)
    assert hidden not in cleaned and kept in cleaned and "[redacted]" in cleaned


def test_message_ids_are_not_secrets():
    assert redact("message SM" + "a" * 32 + " queued") == "message SM" + "a" * 32 + " queued"


def twilio(app, monkeypatch, answer) -> None:
    app.config.update(
        SMS_PROVIDER="twilio",
        TWILIO_ACCOUNT_SID=SID,
        TWILIO_AUTH_TOKEN=TOKEN,
        TWILIO_FROM_NUMBER="+15005550006",
    )
    monkeypatch.setattr(TwilioHttpClient, "request", answer)


def network_down(self, method, url, **kwargs):
    raise requests.exceptions.ConnectionError(
        f"HTTPSConnectionPool(host='api.twilio.com', port=443): Max retries exceeded with url: "
        f"{url} (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection>: "
        "Failed to establish a new connection: [Errno 111] Connection refused'))"
    )


def rejects_the_number(self, method, url, **kwargs):
    error = {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}
    return TwilioResponse(400, json.dumps(error))


@pytest.fixture
def texter_client(world, client, auth):
    auth.login_as(world[2])
    g.pop("_login_user", None)
    return client


def page(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def text_of(response) -> str:
    return " ".join(page(response).get_text(" ").split())


@pytest.mark.parametrize(
    "answer, reason, detail",
    [
        (
            network_down,
            "Not sent: the texting service could not be reached. Try again in a minute.",
            "Max retries exceeded",
        ),
        (
            rejects_the_number,
            "Not sent: the carrier rejected the number.",
            "Twilio error 21211: Unable to create record: Invalid 'To' Phone Number",
        ),
    ],
)
def test_a_provider_failure_shows_a_reason_and_keeps_the_redacted_detail_for_admins(
    world, app, monkeypatch, texter_client, auth, answer, reason, detail
):
    _org, admin, _texter, _campaign, ids = world
    twilio(app, monkeypatch, answer)
    response = texter_client.post(f"/texting/contacts/{ids[0]}/send", headers=HX)
    assert f"Not sent to First0 Last0: {reason.removeprefix('Not sent: ')}" in text_of(response)
    failed = db.session.scalars(select(Message)).one()
    assert (failed.status, failed.error) == ("failed", reason)
    assert detail in failed.error_detail and SID not in failed.error_detail
    shown = texter_client.get(f"/texting/contacts/{ids[0]}").get_data(as_text=True)
    assert reason in shown
    for raw in (SID, "HTTPSConnectionPool", "Twilio error", "urllib3"):
        assert raw not in shown
    auth.login_as(admin)
    g.pop("_login_user", None)
    as_admin = texter_client.get(f"/texting/contacts/{ids[0]}").get_data(as_text=True)
    assert detail in BeautifulSoup(as_admin, "html.parser").get_text() and SID not in as_admin


# --- Retry ------------------------------------------------------------------------------------


def failed_once(world) -> int:
    message_id = queued(world)
    messaging.deliver(db.session, message_id, CountingProvider(fail=ProviderError("boom")))
    db.session.commit()
    assert message(message_id).status == "failed"
    return message_id


def test_retry_resends_once_through_the_send_guard(world):
    _org, _admin, texter, _campaign, _ids = world
    message_id = failed_once(world)
    retried = messaging.retry_message(db.session, message_id, texter.id)
    db.session.commit()
    assert (retried.status, retried.error, retried.error_detail) == ("queued", "", "")
    provider = CountingProvider(fail=ProviderError("boom again"))
    messaging.deliver(db.session, message_id, provider)
    db.session.commit()
    assert len(provider.calls) == 1
    assert (message(message_id).status, message(message_id).attempts) == ("failed", 2)
    with pytest.raises(messaging.SendRefused) as info:
        messaging.retry_message(db.session, message_id, texter.id)
    assert info.value.code == "retried" and "already retried" in info.value.message
    db.session.rollback()
    assert message(message_id).status == "failed"


def test_retry_is_refused_for_a_text_that_did_not_fail(world):
    _org, _admin, texter, _campaign, _ids = world
    message_id = queued(world)
    with pytest.raises(messaging.SendRefused) as info:
        messaging.retry_message(db.session, message_id, texter.id)
    assert info.value.code == "not_failed"
    db.session.rollback()


def test_retry_goes_through_the_guard_an_opted_out_contact_is_refused(world):
    _org, _admin, texter, _campaign, ids = world
    message_id = failed_once(world)
    messaging.opt_out_contact(db.session, ids[0], texter.id)
    db.session.commit()
    with pytest.raises(messaging.SendRefused) as info:
        messaging.retry_message(db.session, message_id, texter.id)
    assert info.value.code == "opted_out"
    db.session.rollback()
    assert message(message_id).status == "failed"


@pytest.mark.parametrize("headers", [HX, {}])
def test_the_holder_retries_from_the_conversation(world, texter_client, headers):
    _org, _admin, _texter, _campaign, ids = world
    message_id = failed_once(world)
    url = f"/texting/contacts/{ids[0]}"
    form = page(texter_client.get(url)).find("form", action=f"/texting/messages/{message_id}/retry")
    assert form is not None and form["hx-post"] == form["action"]
    assert form.find("button").get_text(strip=True) == "Retry"
    response = texter_client.post(form["action"], headers=headers)
    if headers:
        assert response.status_code == 200 and "Sent." in text_of(response)
    else:
        assert response.status_code == 303 and response.headers["Location"].endswith(url)
    retried = message(message_id)
    assert (retried.status, retried.attempts) == ("sent", 2)  # the fake provider accepted it
    again = texter_client.post(form["action"], headers=HX)
    assert "Only a text that failed can be retried." in text_of(again)


def test_admins_may_retry_other_texters_may_not(world, client, auth):
    org, admin, _texter, _campaign, _ids = world
    message_id = failed_once(world)
    other = make_user(org, "texter")
    auth.login_as(other)
    g.pop("_login_user", None)
    assert client.post(f"/texting/messages/{message_id}/retry").status_code == 403
    assert message(message_id).status == "failed"
    auth.login_as(admin)
    g.pop("_login_user", None)
    client.post(f"/texting/messages/{message_id}/retry")
    assert message(message_id).status == "sent"


def test_another_organizations_message_is_404(world, client, auth):
    message_id = failed_once(world)
    stranger_org = make_org("Elsewhere")
    auth.login_as(make_user(stranger_org, "admin"))
    g.pop("_login_user", None)
    assert client.post(f"/texting/messages/{message_id}/retry").status_code == 404
    assert client.post("/texting/messages/999999/retry").status_code == 404
    assert message(message_id).status == "failed"
