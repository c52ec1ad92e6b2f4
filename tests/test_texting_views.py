"""The texter's pages: my campaigns, send initials, replies, a conversation, and its actions."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from bs4 import BeautifulSoup
from flask import g
from sqlalchemy import event, func, select
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse

from spoke import clock
from spoke.extensions import db
from spoke.models import Assignment, CampaignContact, Message, OptOut
from spoke.texting import inbound
from tests.factories import give_contacts, make_campaign, make_contacts, make_org, make_user

NOW = datetime(2026, 11, 27, 12, 0, 0)
HX = {"HX-Request": "true"}


class World:
    """An org, an admin, a texter holding 3 contacts of a started campaign."""

    def __init__(self) -> None:
        clock.freeze(NOW)
        self.org = make_org()
        self.admin = make_user(self.org, "admin", name="Ada Admin")
        self.texter = make_user(self.org, "texter", name="Tina Texter")
        self.campaign = make_campaign(
            self.org, title="Vote Drive", status="started", started_at=NOW
        )
        self.ids = make_contacts(self.campaign, 3)
        give_contacts(self.campaign, self.texter, 3)

    def initials_url(self) -> str:
        return f"/texting/campaigns/{self.campaign.id}/send"


@pytest.fixture
def w(ctx, auth):
    world = World()
    login(auth, world.texter)
    return world


def login(auth, user) -> None:
    """Log in as `user`; requests share the test's app context, so drop the cached user."""
    auth.login_as(user)
    g.pop("_login_user", None)


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def text_of(response) -> str:
    return " ".join(soup(response).get_text(" ").split())


def contact(cid: int) -> CampaignContact:
    db.session.expire_all()
    return db.session.get(CampaignContact, cid)


def messages(**where) -> int:
    return db.session.scalar(select(func.count(Message.id)).filter_by(**where)) or 0


def button(page: BeautifulSoup, name: str):
    """The form whose submit button reads `name`."""
    found = [b for b in page.find_all("button") if b.get_text(strip=True) == name]
    assert found, f"no button {name!r}"
    return found[0].find_parent("form")


def labelled(page: BeautifulSoup, label: str):
    tag = page.find("label", string=label)
    assert tag is not None, f"no label {label!r}"
    return page.find(id=tag["for"])


def assert_forms_have_actions(page: BeautifulSoup) -> None:
    for form in page.find_all("form"):
        assert form.get("action"), form


# --- My campaigns ---------------------------------------------------------------------------


def test_home_lists_started_campaigns_with_counts(w, client):
    drafted = make_campaign(w.org, title="Drafty", status="draft")
    archived = make_campaign(w.org, title="Old one", status="archived")
    for other in (drafted, archived):
        db.session.add(Assignment(user_id=w.texter.id, campaign_id=other.id))
    db.session.commit()
    inbound.receive_inbound(db.session, "+15550000002", "hi", "SMh")
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 200
    page = soup(response)
    shown = text_of(response)
    assert "Vote Drive" in shown and "Drafty" not in shown and "Old one" not in shown
    assert "2 initials to send" in shown
    assert "1 reply to answer" in shown
    assert page.find("a", string="Send initials")["href"] == w.initials_url()
    assert page.find("a", string="Campaigns") is None  # texters have no admin link


def test_home_counts_every_campaign_in_one_query(w, client):
    def statements_for_home() -> int:
        seen: list[str] = []
        g.pop("_login_user", None)  # load the user the same way each time

        def count(conn, cursor, statement, *args):
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    statements_for_home()  # warm up (first-request checks)
    with_one = statements_for_home()
    for n in range(3):
        more = make_campaign(w.org, status="started", started_at=NOW)
        make_contacts(more, 2, start=10 * (n + 1))
        give_contacts(more, w.texter, 2)
    assert "2 initials to send" in text_of(client.get("/"))
    assert statements_for_home() == with_one


def test_home_hides_removed_texters_without_contacts(w, client):
    other = make_campaign(w.org, title="Left behind", status="started", started_at=NOW)
    db.session.add(Assignment(user_id=w.texter.id, campaign_id=other.id, is_active=False))
    db.session.commit()
    assert "Left behind" not in text_of(client.get("/"))


def test_home_with_nothing_to_text_sends_an_organizer_to_campaigns(w, client, auth):
    # Issue 13: an organizer's first landing is Campaigns, not an empty texter card.
    login(auth, w.admin)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/campaigns"


def test_home_needs_login(w, client, auth):
    auth.logout()
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_draft_and_archived_campaigns_are_invisible_to_texters(w, client, auth, status):
    w.campaign.status = status
    db.session.commit()
    cid = w.campaign.id
    urls = [
        f"/texting/campaigns/{cid}",
        f"/texting/campaigns/{cid}/send",
        f"/texting/campaigns/{cid}/replies",
        f"/texting/contacts/{w.ids[0]}",
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert client.post(f"/texting/contacts/{w.ids[0]}/send").status_code == 404
    login(auth, w.admin)
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_campaign_page_shows_counts_links_and_past_conversations(w, client):
    client.post(f"/texting/contacts/{w.ids[0]}/send")
    response = client.get(f"/texting/campaigns/{w.campaign.id}")
    page = soup(response)
    shown = text_of(response)
    assert "2 initials to send" in shown and "1 past conversation" in shown
    assert "1 past conversations" not in shown
    assert page.find("a", string="Send initials")["href"] == w.initials_url()
    assert page.find("a", string="Replies")
    past = page.find("section", attrs={"aria-labelledby": "past-heading"})
    (link,) = past.find_all("a")
    assert link["href"] == f"/texting/contacts/{w.ids[0]}"
    assert " ".join(link.get_text(" ").split()) == "First0 Last0 Texted"


def test_other_organizations_contacts_are_404(w, client):
    elsewhere = make_campaign(make_org("Other"), status="started", started_at=NOW)
    foreign = make_contacts(elsewhere, 1, start=90)[0]
    assert client.get(f"/texting/contacts/{foreign}").status_code == 404
    assert client.post(f"/texting/contacts/{foreign}/send").status_code == 404
    assert client.get(f"/texting/campaigns/{elsewhere.id}").status_code == 404


# --- Send initials --------------------------------------------------------------------------


def test_initials_page_shows_one_contact_and_its_message(w, client):
    response = client.get(w.initials_url())
    page = soup(response)
    shown = text_of(response)
    assert "First0 Last0" in shown and "3 left" in shown
    assert "Hi First0, this is Tina. Can we count on your vote?" in shown
    form = button(page, "Send")
    assert form["action"] == f"/texting/contacts/{w.ids[0]}/send"
    assert form.has_attr("data-enter-sends") and form.has_attr("hx-disabled-elt")
    opt_out = button(page, "Opt out")
    assert opt_out.has_attr("hx-confirm") and opt_out.has_attr("data-confirm")
    assert_forms_have_actions(page)
    assert messages() == 0  # looking is not sending


def test_send_with_htmx_sends_exactly_one_and_swaps_in_the_next_contact(w, client):
    response = client.post(f"/texting/contacts/{w.ids[0]}/send", headers=HX)
    assert response.status_code == 200
    page = soup(response)
    root = page.find("section")
    assert (root["hx-target"], root["hx-swap"]) == ("this", "outerHTML")
    shown = text_of(response)
    assert "Sent to First0 Last0." in shown and "First1 Last1" in shown and "2 left" in shown
    assert button(page, "Send")["action"] == f"/texting/contacts/{w.ids[1]}/send"
    assert messages() == 1
    sent = db.session.scalars(select(Message)).one()
    assert (sent.contact_id, sent.status, sent.user_id) == (w.ids[0], "sent", w.texter.id)
    assert contact(w.ids[0]).message_status == "messaged"


def test_send_without_js_redirects_to_the_send_page(w, client):
    response = client.post(f"/texting/contacts/{w.ids[0]}/send")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(w.initials_url())
    shown = text_of(client.get(w.initials_url()))
    assert "Sent to First0 Last0." in shown and "First1 Last1" in shown
    assert messages() == 1


@pytest.mark.parametrize("headers", [HX, {}])
def test_a_repeated_send_for_the_same_contact_sends_nothing(w, client, headers):
    client.post(f"/texting/contacts/{w.ids[0]}/send", headers=headers)
    again = client.post(
        f"/texting/contacts/{w.ids[0]}/send", headers=headers, follow_redirects=True
    )
    assert "Already sent" in text_of(again)
    assert messages() == 1


@pytest.mark.parametrize("headers", [HX, {}])
def test_skip_closes_and_moves_on(w, client, headers):
    response = client.post(
        f"/texting/contacts/{w.ids[0]}/skip", data={"view": "initials"}, headers=headers
    )
    if headers:
        assert response.status_code == 200 and "First1 Last1" in text_of(response)
    else:
        assert response.status_code == 303
        assert response.headers["Location"].endswith(w.initials_url())
    assert contact(w.ids[0]).message_status == "closed"
    assert messages() == 0


def test_opt_out_is_org_wide_and_later_sends_are_refused(w, client):
    other = make_campaign(w.org, status="started", started_at=NOW)
    twin = make_contacts(other, 1)[0]
    response = client.post(
        f"/texting/contacts/{w.ids[0]}/opt-out", data={"view": "initials"}, headers=HX
    )
    assert "First0 Last0 is opted out." in text_of(response)
    assert contact(w.ids[0]).opted_out and contact(twin).opted_out
    assert contact(twin).message_status == "closed"
    assert db.session.scalar(select(OptOut.cell)) == "+15550000000"
    client.post(f"/texting/contacts/{w.ids[0]}/send", headers=HX)
    assert messages() == 0


def test_when_all_initials_are_sent(w, client):
    for cid in w.ids:
        client.post(f"/texting/contacts/{cid}/send", headers=HX)
    response = client.get(w.initials_url())
    page = soup(response)
    assert "All your initials are sent." in text_of(response)
    assert page.find("a", string="Replies")["href"] == f"/texting/campaigns/{w.campaign.id}/replies"
    assert page.find("a", string="Back to campaign")
    assert messages() == 3


# --- Send guard -----------------------------------------------------------------------------


def move_to_other_texter(w: World, cid: int) -> None:
    other = make_user(w.org, "texter")
    moved = Assignment(user_id=other.id, campaign_id=w.campaign.id)
    db.session.add(moved)
    db.session.flush()
    contact(cid).assignment_id = moved.id
    db.session.commit()


def test_a_texter_who_lost_the_contact_is_sent_back_to_the_campaign(w, client):
    move_to_other_texter(w, w.ids[0])
    campaign_url = f"/texting/campaigns/{w.campaign.id}"
    response = client.post(f"/texting/contacts/{w.ids[0]}/send")
    assert response.status_code == 303 and response.headers["Location"].endswith(campaign_url)
    assert "Your assignment has changed" in text_of(client.get(campaign_url))
    htmx = client.post(f"/texting/contacts/{w.ids[0]}/send", headers=HX)
    assert htmx.headers["HX-Redirect"] == campaign_url
    assert "Your assignment has changed" in text_of(client.get(campaign_url))
    conversation = client.get(f"/texting/contacts/{w.ids[0]}")
    assert conversation.status_code == 303
    assert messages() == 0
    assert contact(w.ids[0]).message_status == "needs_message"


def test_someone_else_is_refused_and_nothing_changes(w, client, auth):
    stranger = make_user(w.org, "texter")
    login(auth, stranger)
    for action in ("send", "skip", "opt-out"):
        plain = client.post(f"/texting/contacts/{w.ids[0]}/{action}")
        assert plain.status_code == 403, action
        assert "Only the texter holding this contact" in text_of(plain)
        htmx = client.post(f"/texting/contacts/{w.ids[0]}/{action}", headers=HX)
        assert "Only the texter holding this contact" in text_of(htmx)
    assert client.get(f"/texting/contacts/{w.ids[0]}").status_code == 403
    c = contact(w.ids[0])
    assert (c.message_status, c.opted_out, messages()) == ("needs_message", False, 0)


def test_a_cell_on_the_opt_out_list_is_never_texted(w, client):
    db.session.add(OptOut(organization_id=w.org.id, cell="+15550000000"))
    db.session.commit()
    response = client.post(f"/texting/contacts/{w.ids[0]}/send", follow_redirects=True)
    assert "This contact has opted out." in text_of(response)
    assert messages() == 0


def test_admins_cannot_send_in_a_campaign_that_is_not_started(w, client, auth):
    w.campaign.status = "archived"
    db.session.commit()
    login(auth, w.admin)
    response = client.post(f"/texting/contacts/{w.ids[0]}/reply", data={"body": "hi"}, headers=HX)
    assert "Send the initial message first." in text_of(response)
    response = client.post(f"/texting/contacts/{w.ids[0]}/send", headers=HX)
    assert "This campaign is not running" in text_of(response)
    assert messages() == 0


# --- Replies and conversations --------------------------------------------------------------


def test_reply_flow(w, client):
    for cid in w.ids[:2]:
        client.post(f"/texting/contacts/{cid}/send", headers=HX)
    clock.advance(minutes=1)
    inbound.receive_inbound(db.session, "+15550000001", "Who is this?", "SM1")
    clock.advance(minutes=1)
    inbound.receive_inbound(db.session, "+15550000000", "Yes!", "SM2")
    db.session.commit()
    replies = client.get(f"/texting/campaigns/{w.campaign.id}/replies")
    links = [a for a in soup(replies).find_all("a") if "/texting/contacts/" in a["href"]]
    assert [a["href"] for a in links] == [
        f"/texting/contacts/{w.ids[1]}",
        f"/texting/contacts/{w.ids[0]}",
    ]
    assert "Who is this?" in text_of(replies)

    page = soup(client.get(f"/texting/contacts/{w.ids[1]}"))
    bubbles = [b.get_text(" ", strip=True) for b in page.select(".bubble")]
    assert bubbles[0].startswith("Hi First1") and "sent" in bubbles[0]
    assert bubbles[1].startswith("Who is this?")
    form = button(page, "Send")
    assert labelled(page, "Reply").name == "textarea"
    assert page.find("a", string="Next reply")["href"] == f"/texting/contacts/{w.ids[0]}"
    assert_forms_have_actions(page)

    data = {
        "body": "It's Tina from Vote Drive.",
        "seen": form.find("input", {"name": "seen"})["value"],
    }
    response = client.post(form["action"], data=data, headers=HX)
    assert response.status_code == 200
    assert "It's Tina from Vote Drive." in text_of(response)
    assert soup(response).find("section")["hx-target"] == "this"
    assert contact(w.ids[1]).message_status == "convo"
    # The same form again (double click) is refused, plain form this time.
    again = client.post(form["action"], data=data)
    assert again.status_code == 303
    assert "Already sent" in text_of(client.get(again.headers["Location"]))
    assert messages(contact_id=w.ids[1], direction="out") == 2


def test_an_empty_reply_shows_a_field_error(w, client):
    client.post(f"/texting/contacts/{w.ids[0]}/send")
    inbound.receive_inbound(db.session, "+15550000000", "Hi?", "SM3")
    db.session.commit()
    response = client.post(f"/texting/contacts/{w.ids[0]}/reply", data={"body": "  "})
    assert response.status_code == 400
    page = soup(response)
    assert labelled(page, "Reply")["aria-invalid"] == "true"
    assert "Write a reply first." in text_of(response)
    assert messages(direction="out") == 1


@pytest.mark.parametrize("headers", [HX, {}])
def test_skip_in_a_conversation_means_no_response_needed(w, client, headers):
    client.post(f"/texting/contacts/{w.ids[0]}/send")
    inbound.receive_inbound(db.session, "+15550000000", "ok thanks", "SM4")
    db.session.commit()
    url = f"/texting/contacts/{w.ids[0]}"
    response = client.post(f"{url}/skip", data={"view": "conversation"}, headers=headers)
    if headers:
        assert "Skipped First0 Last0." in text_of(response)
    else:
        assert response.status_code == 303 and response.headers["Location"].endswith(url)
    assert contact(w.ids[0]).message_status == "closed"


def test_a_failed_send_shows_the_error_on_the_conversation(w, client, app, monkeypatch):
    app.config.update(
        SMS_PROVIDER="twilio",
        TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        TWILIO_AUTH_TOKEN="secret",
        TWILIO_FROM_NUMBER="+15005550006",
    )
    error = {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}

    def twilio_says_no(self, method, url, **kwargs):
        return TwilioResponse(400, json.dumps(error))

    monkeypatch.setattr(TwilioHttpClient, "request", twilio_says_no)
    response = client.post(f"/texting/contacts/{w.ids[0]}/send", headers=HX)
    assert "Not sent to First0 Last0" in text_of(response)
    failed = db.session.scalars(select(Message)).one()
    assert failed.status == "failed" and "21610" in failed.error_detail
    # The texter reads why in plain words; Twilio's own text is for admins (issue 12).
    shown = text_of(client.get(f"/texting/contacts/{w.ids[0]}"))
    assert "Not sent: this number has blocked our texts" in shown
    assert "Twilio error" not in shown and "unsubscribed recipient" not in shown


# --- Simulate reply (fake provider) ---------------------------------------------------------


def test_admins_can_simulate_a_reply_with_the_fake_provider(w, client, auth):
    client.post(f"/texting/contacts/{w.ids[0]}/send")
    url = f"/texting/contacts/{w.ids[0]}"
    assert soup(client.get(url)).find("label", string="Simulate reply") is None
    login(auth, w.admin)
    page = soup(client.get(url))
    assert labelled(page, "Simulate reply").name == "textarea"
    form = button(page, "Simulate reply")
    response = client.post(form["action"], data={"body": "Count me in"}, headers=HX)
    assert "Count me in" in text_of(response)
    assert contact(w.ids[0]).message_status == "needs_response"
    assert contact(w.ids[0]).assignment.user_id == w.texter.id  # the texter still holds it
    assert messages(direction="in") == 1
    plain = client.post(form["action"], data={"body": "Again"})
    assert plain.status_code == 303 and plain.headers["Location"].endswith(url)
    assert messages(direction="in") == 2


def test_texters_cannot_simulate_replies(w, client):
    response = client.post(f"/texting/contacts/{w.ids[0]}/simulate-reply", data={"body": "x"})
    assert response.status_code == 403
    assert messages() == 0


def test_simulate_reply_exists_only_with_the_fake_provider(w, client, auth, app):
    app.config["SMS_PROVIDER"] = "twilio"
    login(auth, w.admin)
    url = f"/texting/contacts/{w.ids[0]}"
    assert soup(client.get(url)).find("label", string="Simulate reply") is None
    assert client.post(f"{url}/simulate-reply", data={"body": "x"}).status_code == 404
    assert messages() == 0
