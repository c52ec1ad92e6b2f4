"""Canned responses: the admin's section (add, edit, reorder, delete, preview, checks) and the
texter's picker, which fills the Reply box and never sends."""

from __future__ import annotations

from datetime import datetime

import pytest
from bs4 import BeautifulSoup
from flask import g
from sqlalchemy import func, select

from spoke import clock
from spoke.extensions import db
from spoke.models import CannedResponse, Message
from spoke.responses import canned
from tests.factories import give_contacts, make_campaign, make_contacts, make_org, make_user

NOW = datetime(2026, 11, 27, 12, 0, 0)
HX = {"HX-Request": "true"}


class World:
    """An org with an admin, a texter holding 2 contacts of a started campaign (custom field)."""

    def __init__(self) -> None:
        clock.freeze(NOW)
        self.org = make_org()
        self.admin = make_user(self.org, "admin", name="Ada Admin")
        self.texter = make_user(self.org, "texter", name="Tina Texter")
        self.campaign = make_campaign(
            self.org,
            title="Vote Drive",
            status="started",
            started_at=NOW,
            custom_field_names=["precinct"],
        )
        self.ids = make_contacts(self.campaign, 2, custom_fields={"precinct": "12B"})
        give_contacts(self.campaign, self.texter, 2)
        self.base = f"/campaigns/{self.campaign.id}/canned"


@pytest.fixture
def w(ctx, auth):
    world = World()
    login(auth, world.admin)
    return world


def login(auth, user) -> None:
    auth.login_as(user)
    g.pop("_login_user", None)


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def words(node) -> str:
    return " ".join(node.get_text(" ").split())


def saved() -> list[tuple[str, str]]:
    db.session.expire_all()
    rows = db.session.scalars(select(CannedResponse).order_by(CannedResponse.position))
    return [(c.title, c.text) for c in rows]


def add(client, w, title: str, text: str, headers=None):
    return client.post(w.base, data={"title": title, "text": text}, headers=headers or {})


def messages() -> int:
    return db.session.scalar(select(func.count(Message.id))) or 0


# --- The admin's section --------------------------------------------------------------------


def test_section_follows_script_on_the_campaign_page(w, client):
    page = soup(client.get(f"/campaigns/{w.campaign.id}"))
    headings = [h.get_text(strip=True) for h in page.find_all("h2")]
    assert headings.index("Canned responses") == headings.index("Script") + 1
    assert "No canned responses yet." in words(page.find(id="canned-responses"))
    for form in page.find(id="canned-responses").find_all("form"):
        assert form.get("action")


def test_add_plain_form_redirects_and_lists_in_order(w, client):
    response = add(client, w, "Thanks", "Thanks {firstName}!")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/campaigns/{w.campaign.id}#canned-responses")
    add(client, w, "Where", "Your polling place is in precinct {precinct}.")
    assert saved() == [
        ("Thanks", "Thanks {firstName}!"),
        ("Where", "Your polling place is in precinct {precinct}."),
    ]
    section = soup(client.get(f"/campaigns/{w.campaign.id}")).find(id="canned-responses")
    titles = [s.find("strong").get_text() for s in section.find_all("summary")]
    assert titles == ["Thanks", "Where"]


def test_add_with_htmx_returns_the_section_with_a_preview(w, client):
    response = add(client, w, "Thanks", "Thanks {firstName}!", HX)
    assert response.status_code == 200
    panel = soup(response).find(id="canned-panel")
    assert "Canned response “Thanks” added." in words(panel)
    (item,) = panel.select(".editor-list > li")
    # The preview fills the fields for the campaign's first contact.
    assert "Thanks First0!" in words(item.select_one(".message-preview"))


@pytest.mark.parametrize(
    ("title", "text", "field", "error"),
    [
        ("", "Hi", "title", "Enter a title."),
        ("x" * 101, "Hi", "title", "Title must be 100 characters or fewer."),
        ("Empty", "   ", "text", "Write the response."),
        (
            "Typo",
            "Hi {frstName}",
            "text",
            "Unknown field {frstName}. Available fields: {firstName}",
        ),
        ("Long", "x" * 1601, "text", "1,600 characters"),
    ],
)
def test_fields_are_checked_like_the_script(w, client, title, text, field, error):
    for headers, status in ((HX, 200), ({}, 422)):
        response = add(client, w, title, text, headers)
        assert response.status_code == status
        page = soup(response)
        message = page.find(id=f"canned-{field}-error-new")
        assert message is not None and error in message.get_text()
        control = page.find(id=f"canned-{field}-new")
        assert control["aria-invalid"] == "true"
        # What the admin typed is kept.
        typed = control.get_text() if control.name == "textarea" else control["value"]
        assert typed == (title if field == "title" else text)
    assert saved() == []


def test_custom_fields_and_builtin_fields_are_allowed(w, client):
    assert (
        add(client, w, "Ok", "{texterFirstName} here, {firstName} in {precinct}").status_code == 303
    )
    assert len(saved()) == 1


def test_edit_saves_and_refuses_bad_fields(w, client):
    add(client, w, "Thanks", "Thanks!")
    (cid,) = db.session.scalars(select(CannedResponse.id))
    ok = client.post(
        f"{w.base}/{cid}", data={"title": "Thank you", "text": "Thank you {firstName}"}
    )
    assert ok.status_code == 303
    bad = client.post(f"{w.base}/{cid}", data={"title": "T", "text": "{nope}"}, headers=HX)
    assert bad.status_code == 200
    page = soup(bad)
    assert "Unknown field {nope}" in page.find(id=f"canned-text-error-{cid}").get_text()
    assert page.find("details").has_attr("open")  # the editor with the error is open
    assert saved() == [("Thank you", "Thank you {firstName}")]


def test_reorder_up_and_down(w, client):
    for title in ("A", "B", "C"):
        add(client, w, title, title)
    ids = {c.title: c.id for c in db.session.scalars(select(CannedResponse))}
    assert client.post(f"{w.base}/{ids['C']}/move", data={"direction": "up"}).status_code == 303
    assert [t for t, _ in saved()] == ["A", "C", "B"]
    response = client.post(f"{w.base}/{ids['A']}/move", data={"direction": "down"}, headers=HX)
    assert "Moved “A” down." in words(soup(response))
    assert [t for t, _ in saved()] == ["C", "A", "B"]
    # The first can't go up; nothing changes.
    client.post(f"{w.base}/{ids['C']}/move", data={"direction": "up"})
    assert [t for t, _ in saved()] == ["C", "A", "B"]
    assert client.post(f"{w.base}/{ids['C']}/move", data={"direction": "left"}).status_code == 400


def test_delete(w, client):
    add(client, w, "A", "a")
    add(client, w, "B", "b")
    ids = {c.title: c.id for c in db.session.scalars(select(CannedResponse))}
    response = client.post(f"{w.base}/{ids['A']}/delete", headers=HX)
    assert "Canned response “A” deleted." in words(soup(response))
    assert saved() == [("B", "b")]
    assert client.post(f"{w.base}/{ids['A']}/delete").status_code == 404


def test_preview_renders_what_is_typed(w, client):
    response = client.post(
        f"{w.base}/preview", data={"text": "Hi {firstName} of {precinct} {bad}"}, headers=HX
    )
    shown = words(soup(response))
    assert "Hi First0 of 12B" in shown
    assert "Unknown field {bad}" in shown
    assert messages() == 0 and saved() == []


def test_archived_campaign_refuses_changes(w, client):
    add(client, w, "A", "a")
    w.campaign.status = "archived"
    db.session.commit()
    response = add(client, w, "B", "b", HX)
    assert "archived and can't be edited" in words(soup(response))
    assert saved() == [("A", "a")]


def test_texters_cannot_edit_and_other_organizations_get_404(w, client, auth):
    add(client, w, "A", "a")
    (cid,) = db.session.scalars(select(CannedResponse.id))
    login(auth, w.texter)
    assert add(client, w, "B", "b").status_code == 403
    assert client.post(f"{w.base}/{cid}/delete").status_code == 403
    outsider_org = make_org("Other")
    login(auth, make_user(outsider_org, "admin"))
    urls = [w.base, f"{w.base}/{cid}", f"{w.base}/{cid}/move", f"{w.base}/{cid}/delete"]
    for url in [*urls, f"{w.base}/preview"]:
        assert (
            client.post(url, data={"title": "x", "text": "y", "direction": "up"}).status_code == 404
        )
    # A canned response of another campaign of the same organization is 404 through this one.
    login(auth, w.admin)
    other = make_campaign(w.org, title="Other drive")
    assert client.post(f"/campaigns/{other.id}/canned/{cid}/delete").status_code == 404
    assert saved() == [("A", "a")]


# --- The texter's picker --------------------------------------------------------------------


def reply_box(response) -> str:
    return soup(response).find(id="reply-body").get_text()


@pytest.fixture
def replying(w, client, auth):
    """Two canned responses; the texter's first contact replied."""
    add(client, w, "Thanks", "Thanks {firstName}, {texterFirstName} here.")
    add(client, w, "Where", "Precinct {precinct} votes at the school.")
    login(auth, w.texter)
    client.post(f"/texting/contacts/{w.ids[0]}/send")
    from spoke.texting import inbound

    inbound.receive_inbound(db.session, "+15550000000", "Who is this?", "SM1")
    db.session.commit()
    return w


def test_picker_lists_responses_as_links_that_fill_the_reply(replying, client):
    w = replying
    url = f"/texting/contacts/{w.ids[0]}"
    page = soup(client.get(url))
    picker = page.find(id="canned-picker")
    assert picker.find("summary").get_text(" ", strip=True).startswith("Canned responses")
    links = picker.find_all("a")
    assert [a.find("strong").get_text() for a in links] == ["Thanks", "Where"]
    assert "Thanks First0, Tina here." in words(links[0])
    before = messages()
    filled = client.get(links[0]["href"])
    assert filled.status_code == 200
    assert reply_box(filled) == "Thanks First0, Tina here."
    assert messages() == before  # filling never sends
    # The same link under htmx: the page, from which htmx picks the box.
    assert links[0]["hx-get"] == links[0]["href"] and links[0]["hx-select"] == "#reply-body"
    assert (
        reply_box(client.get(links[1]["href"], headers=HX)) == "Precinct 12B votes at the school."
    )
    assert messages() == before


def test_filled_reply_can_be_edited_before_it_is_sent(replying, client):
    w = replying
    (cid,) = db.session.scalars(select(CannedResponse.id).where(CannedResponse.title == "Thanks"))
    text = reply_box(client.get(f"/texting/contacts/{w.ids[0]}?canned={cid}"))
    client.post(f"/texting/contacts/{w.ids[0]}/reply", data={"body": text + " Edited."})
    bodies = db.session.scalars(select(Message.body).where(Message.direction == "out")).all()
    assert bodies[-1] == "Thanks First0, Tina here. Edited."


def test_picker_ignores_other_campaigns_responses(replying, client, auth):
    w = replying
    login(auth, w.admin)
    other = make_campaign(w.org, title="Other drive")
    db.session.add(CannedResponse(campaign_id=other.id, title="Secret", text="Other text"))
    db.session.commit()
    (foreign,) = db.session.scalars(
        select(CannedResponse.id).where(CannedResponse.title == "Secret")
    )
    login(auth, w.texter)
    assert reply_box(client.get(f"/texting/contacts/{w.ids[0]}?canned={foreign}")) == ""
    assert reply_box(client.get(f"/texting/contacts/{w.ids[0]}?canned=abc")) == ""


def test_render_fills_fields_for_a_contact(ctx):
    response = CannedResponse(title="t", text="Hi {firstName} ({precinct}) from {texterFirstName}")

    class Contact:
        first_name, last_name, cell, zip = "Ana", "B", "+15550000000", ""
        custom_fields = {"precinct": "7"}

    assert canned.render(response, Contact(), "Tom") == "Hi Ana (7) from Tom"
