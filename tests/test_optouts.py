"""Opt-outs: every way a person writes STOP opts the cell out; conversation does not."""

from __future__ import annotations

import pytest
from flask import g
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from spoke import clock
from spoke.contacts.optouts import OPT_OUT_PHRASES, is_opt_out_request
from spoke.extensions import db
from spoke.models import CampaignContact, Message, OptOut
from spoke.texting import messaging
from tests.factories import give_contacts, make_campaign, make_contacts, make_org, make_user

TOKEN = "twilio-auth-token"
SMS_URL = "http://localhost/webhooks/twilio/sms"

OPTS_OUT = [
    "STOP",
    "stop",
    " Stop ",
    "STOP.",
    "STOP!",
    "Stop!!!",
    "stop please",
    "STOP STOP",
    "STOP\n",
    "\u00a0STOP\u00a0",  # no-break spaces
    "\uff33\uff34\uff2f\uff30",  # fullwidth ＳＴＯＰ
    "Stop \U0001f6d1",  # Stop 🛑
    "\U0001f6d1 STOP \U0001f6d1",
    "S.T.O.P.",
    "stop2",
    "Stop, thanks",
    "stop texting me",
    "STOPALL",
    "stop all",
    "UNSUBSCRIBE",
    "unsubscribe me",
    "unsub",
    "Un-subscribe",
    "CANCEL",
    "cancel.",
    "END",
    "end!",
    "QUIT",
    "quit it",
    "OPTOUT",
    "optout",
    "opt out",
    "Opt-Out",
    "opt me out",
    "revoke",
    "REVOKE consent",
    "Please stop texting me",
    "please STOP texting me!!",
    "remove me",
    "Remove me from this list",
    "Can you take me off your list?",
    "take me off",
    "Don't text me again",
    "don\u2019t text me",  # typographic apostrophe
    "Do not text this number",
    "no more texts please",
    "Lose my number",
    "leave me alone",
    "\u00abSTOP\u00bb",  # «STOP»
    "stop \u2013 wrong person",  # en dash
]

# Conversation that mentions a keyword is not a request to stop: STOP must be the first word,
# the whole text, or part of a phrase asking for no more texts.
# "the end is near" stays a conversation: END is neither the first word nor the whole text,
# and carriers honour keywords sent as the message, not words inside a sentence.
STAYS_IN = [
    "please stop by the office",
    "don't stop",
    "please don't stop",
    "Stopping by later",
    "the end is near",
    "Yes!",
    "I'll be there at the end of the day",
    "Weekend works",
    "Endorsed!",
    "Cancelled my plans, I can volunteer",
    "quite interested",
    "Unsure",
    "Where do I stop by to vote?",
    "I won't quit on this campaign",
    "Stopwatch",
    "",
    "\U0001f6d1",
    "123",
]


@pytest.mark.parametrize("body", OPTS_OUT)
def test_these_texts_opt_out(body):
    assert is_opt_out_request(body)


@pytest.mark.parametrize("body", STAYS_IN)
def test_these_texts_do_not_opt_out(body):
    assert not is_opt_out_request(body)


def test_every_phrase_listed_in_the_readme_opts_out():
    with open("README.md", encoding="utf-8") as readme:
        text = readme.read()
    for phrase in OPT_OUT_PHRASES:
        assert f"`{phrase}`" in text
        assert is_opt_out_request(phrase.upper() + "!")


@pytest.fixture
def app_config(app_config):
    app_config["TWILIO_AUTH_TOKEN"] = TOKEN
    return app_config


def test_after_an_inbound_stop_with_a_period_an_admins_reply_is_refused(ctx, client, auth):
    clock.freeze(clock.now())
    org = make_org()
    admin = make_user(org, "admin")
    texter = make_user(org, "texter")
    campaign = make_campaign(org, status="started", started_at=clock.now())
    cid = make_contacts(campaign, 1)[0]
    give_contacts(campaign, texter, 1)
    messaging.send_initial(db.session, cid, texter.id)
    db.session.commit()
    cell = db.session.get(CampaignContact, cid).cell

    params = {"From": cell, "To": "+15005550006", "Body": "STOP.", "MessageSid": "SM" + "b" * 32}
    signature = RequestValidator(TOKEN).compute_signature(SMS_URL, params)
    response = client.post(
        "/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 200
    listed = db.session.scalars(select(OptOut).where(OptOut.organization_id == org.id)).all()
    assert [entry.cell for entry in listed] == [cell]

    auth.login_as(admin)
    g.pop("_login_user", None)
    outbound_before = db.session.scalar(
        select(func.count(Message.id)).where(Message.direction == "out")
    )
    response = client.post(
        f"/texting/contacts/{cid}/reply",
        data={"body": "Sorry to see you go!"},
        headers={"HX-Request": "true"},
    )
    assert messaging.REASONS["opted_out"] in response.get_data(as_text=True)
    outbound_after = db.session.scalar(
        select(func.count(Message.id)).where(Message.direction == "out")
    )
    assert outbound_after == outbound_before == 1
    db.session.expire_all()
    assert db.session.get(CampaignContact, cid).opted_out
