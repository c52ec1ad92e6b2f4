"""The Texters panel, the claim buttons and their answers, and the Assignment history."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from bs4 import BeautifulSoup, Tag
from flask import g
from sqlalchemy import func, select

from spoke import clock
from spoke.assignment import join
from spoke.extensions import db
from spoke.models import Assignment, AssignmentEvent, CampaignContact, Message
from tests.factories import give_contacts, make_campaign, make_contacts, make_org, make_user

NOW = datetime(2026, 11, 27, 12, 0, 0)
HX = {"HX-Request": "true"}


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def text_of(response_or_tag) -> str:
    """The visible words of a response or a parsed tag, with whitespace collapsed."""
    tag = response_or_tag
    if not isinstance(tag, Tag):
        tag = soup_of(tag)
    return " ".join(tag.get_text(" ").split())


def by_aria_label(soup: BeautifulSoup, label: str):
    found = soup.find(attrs={"aria-label": label})
    assert found is not None, f"no control labelled {label!r}"
    return found


def button(scope, text: str):
    found = [b for b in scope.find_all("button") if b.get_text(strip=True) == text]
    assert found, f"no button {text!r}"
    return found[0]


def row_of(soup, name: str):
    """The table row of the texter called `name`."""
    for row in soup.find_all("tr"):
        header = row.find("th", scope="row")
        if header is not None and name in header.get_text(" "):
            return row
    raise AssertionError(f"no row for {name!r}")


def login(auth, user) -> None:
    """Log in as `user`; requests share the test's app context, so drop the cached user."""
    auth.login_as(user)
    g.pop("_login_user", None)


def count_where(*where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(CampaignContact).where(*where))


class World:
    """An org with an admin and a texter, and a started campaign of 50 contacts."""

    def __init__(self) -> None:
        clock.freeze(NOW)
        self.org = make_org("Our Org")
        self.admin = make_user(self.org, "admin", name="Ada Admin")
        self.texter = make_user(self.org, "texter", name="Tina Texter")
        self.campaign = make_campaign(self.org, title="Vote Drive", status="started")
        self.ids = make_contacts(self.campaign, 50)

    @property
    def assignment(self) -> Assignment:
        db.session.expire_all()
        return db.session.scalars(
            select(Assignment).where(
                Assignment.user_id == self.texter.id, Assignment.campaign_id == self.campaign.id
            )
        ).one()

    def held(self, *statuses: str) -> int:
        where = [CampaignContact.assignment_id == self.assignment.id]
        if statuses:
            where.append(CampaignContact.message_status.in_(statuses))
        return count_where(*where)

    def held_ids(self) -> list[int]:
        return list(
            db.session.scalars(
                select(CampaignContact.id)
                .where(CampaignContact.assignment_id == self.assignment.id)
                .order_by(CampaignContact.id)
            )
        )

    def pool(self) -> int:
        return count_where(
            CampaignContact.campaign_id == self.campaign.id,
            CampaignContact.assignment_id.is_(None),
        )

    def mark(self, ids, status: str, **extra) -> None:
        for contact in db.session.scalars(
            select(CampaignContact).where(CampaignContact.id.in_(ids))
        ):
            contact.message_status = status
            for key, value in extra.items():
                setattr(contact, key, value)
        db.session.commit()

    def events(self) -> int:
        db.session.expire_all()
        return db.session.scalar(
            select(func.count())
            .select_from(AssignmentEvent)
            .where(AssignmentEvent.campaign_id == self.campaign.id)
        )

    def page_url(self) -> str:
        return f"/campaigns/{self.campaign.id}"

    def row_url(self, user=None) -> str:
        return f"/campaigns/{self.campaign.id}/texters/{(user or self.texter).id}"


@pytest.fixture
def w(ctx, auth):
    world = World()
    login(auth, world.admin)
    return world


def panel(client, w) -> BeautifulSoup:
    response = client.get(w.page_url())
    assert response.status_code == 200
    found = soup_of(response).find(id="texters-panel")
    assert found is not None
    return found


def save_row(client, w, hx=True, user=None, shown=None, **fields):
    data = {"texts_to_send": "", "max_contacts": ""}
    data.update({k: str(v) for k, v in fields.items()})
    if shown is not None:
        data["shown_texts_to_send"] = str(shown)
    return client.post(w.row_url(user), data=data, headers=HX if hx else {})


def with_conversations(w, unsent: int = 10) -> list[int]:
    """Give the texter `unsent` initials plus 3 live conversations; return the conversations."""
    give_contacts(w.campaign, w.texter, unsent + 3)
    convos = w.held_ids()[:3]
    w.mark(convos[:1], "messaged")
    w.mark(convos[1:2], "needs_response", last_inbound_at=NOW - timedelta(minutes=5))
    w.mark(convos[2:], "convo")
    return convos


# --- the panel ------------------------------------------------------------------------------


def test_panel_rows_show_sent_unhandled_oldest_age_unsent_and_cap(client, w):
    give_contacts(w.campaign, w.texter, 12)
    ids = w.held_ids()
    w.mark(ids[:4], "messaged")
    w.mark(ids[4:5], "needs_response", last_inbound_at=NOW - timedelta(minutes=90))
    w.mark(ids[5:6], "needs_response", last_inbound_at=NOW - timedelta(minutes=10))
    for cid in ids[:6]:
        db.session.add(
            Message(
                contact_id=cid,
                campaign_id=w.campaign.id,
                direction="out",
                body="hi",
                user_id=w.texter.id,
                status="sent",
            )
        )
    w.assignment.max_contacts = 40
    db.session.commit()
    soup = panel(client, w)
    assert "Unassigned: 38 contacts (38 waiting for their first text)" in text_of(soup)
    headers = [th.get_text(strip=True) for th in soup.find("thead").find_all("th")]
    assert headers[:6] == [
        "Texter",
        "Sent",
        "Unhandled replies",
        "Oldest unhandled reply",
        "Texts to send",
        "Max contacts",
    ]
    row = row_of(soup, "Tina Texter")
    cells = [td.get_text(" ", strip=True) for td in row.find_all("td")]
    assert cells[:3] == ["6", "2", "1 h 30 min"]
    assert by_aria_label(row, "Texts to send for Tina Texter")["value"] == "6"
    assert by_aria_label(row, "Max contacts for Tina Texter")["value"] == "40"
    form = row.find("form")
    assert form["action"] == w.row_url() and form["hx-post"] == w.row_url()
    assert button(row, "Remove")["formaction"] == w.row_url() + "/remove"
    [label] = [
        lab
        for lab in row.find_all("label")
        if lab.get_text(" ", strip=True) == "Also unassign their conversations"
    ]
    assert row.find(id=label["for"])["type"] == "checkbox"
    for control in row.find_all("input", attrs={"form": True}):
        assert control["form"] == form["id"]


@pytest.mark.parametrize("hx", [True, False])
def test_add_texter_from_the_members_not_yet_in_the_campaign(client, w, hx):
    give_contacts(w.campaign, w.texter, 2)
    newcomer = make_user(w.org, "texter", name="Nia Newcomer")
    soup = panel(client, w)
    select_box = soup.find(id=soup.find("label", string="Add texter")["for"])
    options = [o.get_text(strip=True) for o in select_box.find_all("option") if o["value"]]
    assert any("Nia Newcomer" in o for o in options)
    assert not any("Tina Texter" in o for o in options)  # already texting here
    response = client.post(
        f"/campaigns/{w.campaign.id}/texters",
        data={"user_id": str(newcomer.id)},
        headers=HX if hx else {},
    )
    if hx:
        assert response.status_code == 200
        soup = soup_of(response).find(id="texters-panel")
    else:
        assert response.status_code == 303
        assert response.headers["Location"].endswith(f"/campaigns/{w.campaign.id}#texters")
        soup = panel(client, w)
    assert "Nia Newcomer added." in text_of(soup)
    assert by_aria_label(soup, "Texts to send for Nia Newcomer")["value"] == "0"
    added = db.session.scalars(select(Assignment).where(Assignment.user_id == newcomer.id)).one()
    assert added.is_active and added.can_claim_initials and added.can_claim_replies


def test_add_texter_refuses_blank_and_outsiders(client, w):
    soup = soup_of(client.post(f"/campaigns/{w.campaign.id}/texters", data={}, headers=HX))
    assert "Choose a texter to add." in text_of(soup)
    outsider = make_user(make_org("Elsewhere"), name="Oscar Outsider")
    response = client.post(
        f"/campaigns/{w.campaign.id}/texters", data={"user_id": str(outsider.id)}, headers=HX
    )
    assert "That person is not a member of this organization." in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0


def test_raise_lower_unchanged_with_live_conversations(client, w):
    convos = with_conversations(w, unsent=10)
    response = save_row(client, w, texts_to_send=15, shown=10)
    assert "Tina Texter: assigned 5." in text_of(response)
    assert w.held("needs_message") == 15
    assert set(convos) <= set(w.held_ids())

    response = save_row(client, w, texts_to_send=4, shown=15)
    assert "returned 11 unsent to the pool" in text_of(response)
    assert w.held("needs_message") == 4
    assert w.held("messaged", "needs_response", "convo") == 3  # conversations stayed
    assert w.pool() == 50 - 7

    events = w.events()
    response = save_row(client, w, texts_to_send=4)  # the value it already holds
    assert "Tina Texter: no change." in text_of(response)
    assert w.held("needs_message") == 4 and w.events() == events


def test_plain_form_save_redirects_to_the_panel_and_shows_the_result_once(client, w):
    give_contacts(w.campaign, w.texter, 2)
    response = save_row(client, w, hx=False, texts_to_send=6, shown=2)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/campaigns/{w.campaign.id}#texters")
    soup = panel(client, w)
    row = row_of(soup, "Tina Texter")
    assert by_aria_label(row, "Texts to send for Tina Texter")["value"] == "6"
    assert "Tina Texter: assigned 4." in text_of(soup)
    assert "assigned 4" not in text_of(panel(client, w))
    assert w.held("needs_message") == 6


def test_more_than_the_pool_assigns_what_there_is_and_says_so(client, w):
    response = save_row(client, w, texts_to_send=80)
    message = text_of(response)
    assert "assigned 50" in message and "holds 50 of 80 wanted: the pool ran out" in message
    assert w.held() == 50 and w.pool() == 0


def test_also_unassign_their_conversations_when_asked(client, w):
    convos = with_conversations(w, unsent=4)
    save_row(client, w, texts_to_send=4, shown=4, also_conversations="on")
    assert w.held("needs_message") == 4
    assert not set(convos) & set(w.held_ids())
    assert count_where(CampaignContact.id.in_(convos), CampaignContact.assignment_id.is_(None)) == 3


@pytest.mark.parametrize("hx", [True, False])
def test_remove_returns_unsent_and_keeps_conversations(client, w, hx):
    convos = with_conversations(w, unsent=6)
    response = client.post(w.row_url() + "/remove", data={}, headers=HX if hx else {})
    if hx:
        soup = soup_of(response)
    else:
        assert response.status_code == 303
        soup = panel(client, w)
    assert "Tina Texter: removed from the campaign; returned 6 unsent to the pool." in text_of(soup)
    assert soup.find(attrs={"aria-label": "Texts to send for Tina Texter"}) is None
    assignment = w.assignment
    assert not assignment.is_active
    assert w.held("needs_message") == 0
    assert sorted(w.held_ids()) == sorted(convos)


def test_remove_with_also_unassign_returns_conversations_too(client, w):
    with_conversations(w, unsent=2)
    client.post(w.row_url() + "/remove", data={"also_conversations": "on"}, headers=HX)
    assert w.held() == 0 and w.pool() == 50


def test_blank_texts_is_zero_blank_cap_is_no_cap_and_zero_cap_is_nothing_more(client, w):
    give_contacts(w.campaign, w.texter, 5)
    save_row(client, w, texts_to_send="", max_contacts="")
    assert w.held() == 0 and w.assignment.max_contacts is None
    save_row(client, w, texts_to_send=10, max_contacts=0)
    assert w.held() == 0 and w.assignment.max_contacts == 0
    response = save_row(client, w, texts_to_send=10, max_contacts=3)
    assert "holds 3 of 10 wanted: the cap of 3 contacts is reached" in text_of(response)
    assert w.held() == 3
    soup = soup_of(response)
    assert by_aria_label(soup, "Max contacts for Tina Texter")["value"] == "3"


@pytest.mark.parametrize(
    "field, raw, message",
    [
        ("texts_to_send", "-1", "Enter a whole number, 0 or more."),
        ("texts_to_send", "abc", "Enter a whole number, 0 or more."),
        ("texts_to_send", "2.5", "Enter a whole number, 0 or more."),
        ("texts_to_send", "5000000", "Use at most 1,000,000."),
        ("max_contacts", "-3", "Enter a whole number, 0 or more."),
        ("max_contacts", "many", "Enter a whole number, 0 or more."),
    ],
)
@pytest.mark.parametrize("hx", [True, False])
def test_bad_numbers_change_nothing_and_say_why(client, w, field, raw, message, hx):
    give_contacts(w.campaign, w.texter, 5)
    events = w.events()
    fields = {"texts_to_send": "9", "max_contacts": "", field: raw}
    response = save_row(client, w, hx=hx, **fields)
    if hx:
        assert response.status_code == 200
        soup = soup_of(response)
    else:
        assert response.status_code == 303
        soup = panel(client, w)
    label = {"texts_to_send": "Texts to send", "max_contacts": "Max contacts"}[field]
    control = by_aria_label(soup, f"{label} for Tina Texter")
    assert control["value"] == raw and control["aria-invalid"] == "true"
    assert soup.find(id=control["aria-describedby"]).get_text(strip=True) == message
    assert "Nothing was changed" in text_of(soup)
    assert w.held() == 5 and w.assignment.max_contacts is None and w.events() == events


def test_a_stale_count_left_untouched_moves_nothing(client, w):
    """The admin saw 0 and only set a cap; the texter's fresh claim is not taken back."""
    w.campaign.dynamic_initials_enabled = True
    db.session.commit()
    give_contacts(w.campaign, w.texter, 0)
    shown = by_aria_label(panel(client, w), "Texts to send for Tina Texter")["value"]
    assert shown == "0"
    from spoke.assignment import claims

    assert claims.claim_initials(db.session, w.campaign.id, w.texter.id).claimed == 50
    db.session.commit()
    response = save_row(client, w, texts_to_send=shown, shown=shown, max_contacts=60)
    assert w.held() == 50 and w.assignment.max_contacts == 60
    assert "max contacts set to 60" in text_of(response)


def test_panel_is_read_only_for_supervolunteers(client, auth, w):
    give_contacts(w.campaign, w.texter, 3)
    login(auth, make_user(w.org, "supervolunteer"))
    soup = panel(client, w)
    assert "Tina Texter" in text_of(soup)
    assert soup.find("input") is None and soup.find("form") is None
    assert "Only owners and admins can change the texters." in text_of(soup)
    assert save_row(client, w, texts_to_send=0).status_code == 403
    assert client.post(w.row_url() + "/remove").status_code == 403
    assert w.held() == 3


def test_texters_cannot_change_assignment_and_other_orgs_are_404(client, auth, w):
    give_contacts(w.campaign, w.texter, 3)
    foreign = make_campaign(make_org("Elsewhere"))
    assert client.post(f"/campaigns/{foreign.id}/texters/{w.texter.id}", data={}).status_code == 404
    login(auth, w.texter)
    assert save_row(client, w, texts_to_send=50).status_code == 403
    assert w.held() == 3


def test_every_form_on_the_campaign_page_has_an_action(client, w):
    give_contacts(w.campaign, w.texter, 3)
    soup = soup_of(client.get(w.page_url()))
    for section in ("texters-panel", "assignment-settings"):
        for form in soup.find(id=section).find_all("form"):
            assert form.get("action"), form


# --- claims on the texter's page ------------------------------------------------------------


def texter_page(client, w) -> BeautifulSoup:
    response = client.get(f"/texting/campaigns/{w.campaign.id}")
    assert response.status_code == 200
    return soup_of(response)


def claim(client, w, kind="initials", hx=True):
    return client.post(f"/texting/campaigns/{w.campaign.id}/claim/{kind}", headers=HX if hx else {})


@pytest.fixture
def tw(w, auth):
    """The world with dynamic initials on (batch 5) and the texter joined through the link."""
    w.campaign.dynamic_initials_enabled = True
    w.campaign.initials_batch_size = 5
    db.session.commit()
    assert join.join_by_link(db.session, w.campaign.initials_join_token, w.texter.id)
    db.session.commit()
    login(auth, w.texter)
    return w


def buttons_shown(client, w) -> set[str]:
    claim_panel = texter_page(client, w).find(id="claim-panel")
    return {b.get_text(strip=True) for b in claim_panel.find_all("button")}


def test_claim_buttons_follow_toggles_and_how_the_texter_joined(client, tw):
    w = tw
    # Issue 13: each button says its batch size.
    assert buttons_shown(client, w) == {"Get 5 more texts to send"}
    w.campaign.dynamic_replies_enabled = True
    db.session.commit()
    assert buttons_shown(client, w) == {"Get 5 more texts to send"}  # not joined for replies
    join.join_by_link(db.session, w.campaign.replies_join_token, w.texter.id)
    db.session.commit()
    assert buttons_shown(client, w) == {"Get 5 more texts to send", "Get 25 more replies to answer"}
    w.campaign.dynamic_initials_enabled = False
    db.session.commit()
    assert buttons_shown(client, w) == {"Get 25 more replies to answer"}
    form = button(texter_page(client, w), "Get 25 more replies to answer").find_parent("form")
    assert form["method"] == "post"
    assert form["action"] == f"/texting/campaigns/{w.campaign.id}/claim/replies"


def test_texters_added_on_the_panel_see_both_buttons(client, auth, w):
    w.campaign.dynamic_initials_enabled = w.campaign.dynamic_replies_enabled = True
    db.session.commit()
    client.post(f"/campaigns/{w.campaign.id}/texters", data={"user_id": str(w.texter.id)})
    login(auth, w.texter)
    assert buttons_shown(client, w) == {
        "Get 200 more texts to send",
        "Get 25 more replies to answer",
    }


def test_opening_pages_never_claims(client, tw):
    texter_page(client, tw)
    assert client.get(f"/texting/campaigns/{tw.campaign.id}/claim/initials").status_code == 405
    assert tw.held() == 0


def test_claim_with_htmx_reloads_the_page_with_the_message_and_next_link(client, tw):
    response = claim(client, tw)
    assert response.status_code == 200
    campaign_url = f"/texting/campaigns/{tw.campaign.id}"
    # The counts elsewhere on the page change too, so htmx loads the page again.
    assert response.headers["HX-Location"] == campaign_url
    assert tw.held("needs_message") == 5
    soup = texter_page(client, tw)
    claim_panel = soup.find(id="claim-panel")
    assert "You got 5 texts to send." in text_of(claim_panel)
    # Issue 13: one way to start sending, the page's "Send initials" (no second link here).
    assert claim_panel.find("a") is None
    assert soup.find("a", string="Send initials")["href"] == f"{campaign_url}/send"
    assert "5 initials to send" in text_of(soup)
    # Shown once.
    assert "You got 5" not in text_of(texter_page(client, tw))


def test_claim_without_htmx_goes_to_the_send_page_with_the_message(client, tw):
    response = claim(client, tw, hx=False)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/texting/campaigns/{tw.campaign.id}/send")
    page = client.get(response.headers["Location"])
    assert "You got 5 texts to send." in text_of(page)


def test_double_click_yields_one_batch(client, tw):
    first, second = claim(client, tw), claim(client, tw)
    assert first.headers["HX-Location"]
    assert "Send your 5 texts before asking for more." in text_of(second)
    assert second.headers.get("HX-Location") is None
    assert tw.held() == 5


def test_a_short_batch_says_how_many_of_how_many(client, tw):
    tw.mark(tw.ids[:47], "closed")
    claim(client, tw)
    assert "You got 3 of 5: no more are waiting." in text_of(texter_page(client, tw))


def refuse_not_started(w):
    w.campaign.status = "draft"


def refuse_toggle_off(w):
    w.campaign.dynamic_initials_enabled = False


def refuse_removed(w):
    w.assignment.is_active = False


def refuse_unsent(w):
    give_contacts(w.campaign, w.texter, 2)


def refuse_replies_first(w):
    w.campaign.require_replies_handled = True
    give_contacts(w.campaign, w.texter, 2)
    w.mark(w.held_ids(), "needs_response", last_inbound_at=NOW)


def refuse_cap(w):
    give_contacts(w.campaign, w.texter, 2)
    w.mark(w.held_ids(), "messaged")
    w.assignment.max_contacts = 2


def refuse_empty_pool(w):
    w.mark(w.ids, "closed")


INITIALS_REFUSALS = [
    (refuse_not_started, "This campaign is not started.", None),
    (
        refuse_toggle_off,
        "Dynamic Assignment for Initials is turned off for this campaign.",
        None,
    ),
    (refuse_removed, "You are not a texter in this campaign.", None),
    (refuse_unsent, "Send your 2 texts before asking for more.", "Send initials"),
    (
        refuse_replies_first,
        "Answer your 2 replies before asking for more texts to send.",
        "Replies",
    ),
    (refuse_cap, "You have reached your limit of 2 contacts in this campaign.", None),
    (refuse_empty_pool, "There are no more texts to send in this campaign right now.", None),
]


@pytest.mark.parametrize("setup, reason, next_link", INITIALS_REFUSALS)
@pytest.mark.parametrize("hx", [True, False])
def test_every_initials_refusal_says_why(client, tw, setup, reason, next_link, hx):
    setup(tw)
    db.session.commit()
    held = tw.held()
    response = claim(client, tw, hx=hx)
    if hx:
        assert response.status_code == 200
        soup = soup_of(response)
    elif setup is refuse_not_started:
        assert response.status_code == 303 and response.headers["Location"].endswith("/")
        soup = soup_of(client.get(response.headers["Location"]))
    else:
        assert response.status_code == 303
        assert response.headers["Location"].endswith(f"/texting/campaigns/{tw.campaign.id}")
        soup = texter_page(client, tw)
    assert reason in text_of(soup)
    if next_link:  # the page's own link (issue 13: one way to start)
        assert texter_page(client, tw).find("a", string=next_link) is not None
    assert tw.held() == held


REPLIES_REFUSALS = [
    ("toggle", "Dynamic Assignment for Replies is turned off for this campaign."),
    ("unhandled", "Answer your 1 reply before asking for more."),
    ("none", "No replies are waiting to be answered right now."),
]


@pytest.mark.parametrize("case, reason", REPLIES_REFUSALS)
def test_every_replies_refusal_says_why(client, tw, case, reason):
    w = tw
    w.campaign.dynamic_replies_enabled = case != "toggle"
    db.session.commit()
    join.join_by_link(db.session, w.campaign.replies_join_token, w.texter.id)
    if case == "toggle":
        w.assignment.can_claim_replies = True
    db.session.commit()
    if case == "unhandled":
        give_contacts(w.campaign, w.texter, 1)
        w.mark(w.held_ids(), "needs_response", last_inbound_at=NOW)
    soup = soup_of(claim(client, w, "replies"))
    assert reason in text_of(soup)
    if case == "unhandled":
        page = texter_page(client, w)
        assert page.find("a", string="Replies")["href"].endswith("/replies")


def test_claim_replies_takes_pool_replies(client, tw):
    w = tw
    w.campaign.dynamic_replies_enabled = True
    db.session.commit()
    join.join_by_link(db.session, w.campaign.replies_join_token, w.texter.id)
    w.mark(w.ids[:2], "needs_response", last_inbound_at=NOW - timedelta(minutes=3))
    assert claim(client, w, "replies").headers["HX-Location"]
    soup = texter_page(client, w)
    assert "You got 2 of 25: no more are waiting." in text_of(soup)
    assert soup.find("a", string="Replies") is not None
    response = claim(client, w, "replies", hx=False)
    assert response.status_code == 303  # refused now: 2 unhandled held
    assert w.held("needs_response") == 2


def test_claim_in_another_organization_is_404(client, tw):
    foreign = make_campaign(make_org("Elsewhere"), status="started", dynamic_initials_enabled=True)
    make_contacts(foreign, 3, start=1000)
    assert client.post(f"/texting/campaigns/{foreign.id}/claim/initials").status_code == 404
    assert client.post(f"/texting/campaigns/{tw.campaign.id}/claim/other").status_code == 404


# --- the texter who lost contacts -----------------------------------------------------------


@pytest.mark.parametrize("hx", [True, False])
def test_send_after_the_count_was_lowered_goes_back_with_a_message(client, auth, w, hx):
    give_contacts(w.campaign, w.texter, 3)
    lost = w.held_ids()[-1]  # lowering returns the most recently assigned first
    save_row(client, w, texts_to_send=1, shown=3)
    assert lost not in w.held_ids()
    login(auth, w.texter)
    response = client.post(
        f"/texting/contacts/{lost}/send", data={"view": "initials"}, headers=HX if hx else {}
    )
    campaign_url = f"/texting/campaigns/{w.campaign.id}"
    if hx:
        assert response.status_code == 200
        assert response.headers["HX-Redirect"] == campaign_url
    else:
        assert response.status_code == 303
        assert response.headers["Location"].endswith(campaign_url)
    page = client.get(campaign_url)
    assert page.status_code == 200
    assert "Your assignment has changed" in text_of(page)
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0


def test_send_after_removal_goes_back_with_a_message(client, auth, w):
    give_contacts(w.campaign, w.texter, 2)
    lost = w.held_ids()[0]
    client.post(w.row_url() + "/remove", data={}, headers=HX)
    login(auth, w.texter)
    response = client.post(f"/texting/contacts/{lost}/send", data={"view": "initials"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "Your assignment has changed" in text_of(page)


# --- Assignment history ---------------------------------------------------------------------


def test_history_shows_the_latest_50_events(client, auth, w):
    tw_join = join.join_by_link
    w.campaign.dynamic_initials_enabled = True
    db.session.commit()
    tw_join(db.session, w.campaign.initials_join_token, w.texter.id)
    db.session.commit()
    save_row(client, w, texts_to_send=7)
    soup = soup_of(client.get(w.page_url()))
    section = soup.find(id="assignment-history")
    assert section.find("h2").get_text(strip=True) == "Assignment history"
    headers = [th.get_text(strip=True) for th in section.find("thead").find_all("th")]
    assert headers == ["When", "Who", "What", "How many", "Why"]
    rows = [
        [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        for tr in section.find("tbody").find_all("tr")
    ]
    assert rows[0][1:4] == ["Ada Admin", "to Tina Texter", "7"]
    assert rows[0][4].startswith("Texters panel") and "assigned 7" in rows[0][4]
    assert rows[1][1:3] == ["Tina Texter", "Tina Texter joined"]
    assert rows[1][4].startswith("Joined by link")
    assert rows[0][0] == "2026-11-27 12:00 UTC"

    for n in range(60):
        clock.advance(minutes=1)
        save_row(client, w, texts_to_send=n % 2 + 1)
    section = soup_of(client.get(w.page_url())).find(id="assignment-history")
    assert len(section.find("tbody").find_all("tr")) == 50
    assert "2026-11-27 13:00 UTC" in section.find("tbody").find("tr").get_text()


# --- mid-campaign: lowering while the texter sends ------------------------------------------


def test_lowering_while_the_texter_sends_never_takes_a_sent_contact(app):
    """Sends and a lowered count race; every contact ends up sent-and-held or unsent-in-pool."""
    import threading

    from spoke.assignment import manual
    from spoke.texting import messaging

    with app.app_context():
        org = make_org()
        admin = make_user(org, "admin")
        texter = make_user(org, name="Racing Texter")
        campaign = make_campaign(org, status="started")
        make_contacts(campaign, 40)
        give_contacts(campaign, texter, 40)
        held = list(
            db.session.scalars(
                select(CampaignContact.id)
                .where(CampaignContact.assignment_id.is_not(None))
                .order_by(CampaignContact.id)
            )
        )
        campaign_id, texter_id, admin_id = campaign.id, texter.id, admin.id
        db.session.remove()

    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    refused: list[str] = []

    def send_all() -> None:
        with app.app_context():
            barrier.wait(timeout=30)
            for cid in held:
                try:
                    messaging.send_initial(db.session, cid, texter_id)
                    db.session.commit()
                except messaging.SendRefused as refusal:
                    db.session.rollback()
                    refused.append(refusal.code)
            db.session.remove()

    def lower() -> None:
        with app.app_context():
            barrier.wait(timeout=30)
            manual.set_texts_to_send(db.session, campaign_id, texter_id, 0, actor_id=admin_id)
            db.session.commit()
            db.session.remove()

    def run(target) -> None:
        try:
            target()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f,)) for f in (send_all, lower)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads) and not errors, errors
    assert set(refused) <= {"assignment_changed"}

    with app.app_context():
        contacts = db.session.scalars(
            select(CampaignContact).where(CampaignContact.id.in_(held))
        ).all()
        sent = {
            cid
            for (cid,) in db.session.execute(
                select(Message.contact_id).where(Message.direction == "out")
            )
        }
        for contact in contacts:
            if contact.message_status == "messaged":
                assert contact.assignment_id is not None and contact.id in sent
            else:
                assert contact.message_status == "needs_message"
                assert contact.assignment_id is None and contact.id not in sent
        assert len(sent) + len(refused) == 40
        db.session.remove()
