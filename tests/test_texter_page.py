"""The texter's campaign and send pages on the first day: claim buttons that can work, one way
to start sending, counts that follow Done Texting, and what /send says when nothing is left."""

from __future__ import annotations

import pytest

from spoke.assignment import join
from spoke.extensions import db
from tests.factories import give_contacts
from tests.test_assignment_views import HX, World, claim, login, soup_of, text_of, texter_page


@pytest.fixture
def tw(ctx, auth):
    """A texter joined through the initials link of a campaign (batch 5, 50 in the pool)."""
    w = World()
    w.campaign.dynamic_initials_enabled = True
    w.campaign.initials_batch_size = 5
    db.session.commit()
    assert join.join_by_link(db.session, w.campaign.initials_join_token, w.texter.id)
    db.session.commit()
    login(auth, w.texter)
    return w


def claim_button(soup):
    return soup.find(id="claim-panel").find("button")


def test_the_claim_button_says_its_batch_size_and_is_enabled_when_it_can_work(client, tw):
    b = claim_button(texter_page(client, tw))
    assert b.get_text(strip=True) == "Get 5 more texts to send"
    assert not b.has_attr("disabled")


def test_a_cap_smaller_than_the_batch_is_the_size_on_the_button(client, tw):
    tw.assignment.max_contacts = 3
    db.session.commit()
    assert claim_button(texter_page(client, tw)).get_text(strip=True) == "Get 3 more texts to send"


def test_a_claim_that_would_be_refused_is_disabled_with_the_reason_beside_it(client, tw):
    give_contacts(tw.campaign, tw.texter, 2)
    b = claim_button(texter_page(client, tw))
    assert b.has_attr("disabled")
    why = texter_page(client, tw).find(id=b["aria-describedby"])
    assert why.get_text(strip=True) == "Send your 2 texts before asking for more."


def test_an_empty_pool_is_information_not_an_error(client, tw):
    tw.mark(tw.ids, "closed")
    page = texter_page(client, tw)
    b = claim_button(page)
    assert b.has_attr("disabled")
    why = page.find(id=b["aria-describedby"])
    assert why.get_text(strip=True) == "There are no more texts to send in this campaign right now."
    assert "muted" in why["class"] and not page.select("#claim-panel .error, .flash-error")
    # A claim posted anyway (an old tab) answers in the same neutral words, said once.
    fragment = soup_of(claim(client, tw))
    assert not fragment.select(".flash-error, .error")
    assert text_of(fragment).count("There are no more texts to send") == 1


def test_one_way_to_start_sending_after_a_claim(client, tw):
    claim(client, tw)
    page = texter_page(client, tw)
    send_links = [a for a in page.find_all("a") if a.get("href", "").endswith("/send")]
    assert [a.get_text(strip=True) for a in send_links] == ["Send initials"]


def test_the_end_of_a_batch_offers_more_right_there(client, tw):
    claim(client, tw)
    for contact_id in tw.held_ids():
        client.post(f"/texting/contacts/{contact_id}/send", headers=HX)
    page = soup_of(client.get(f"/texting/campaigns/{tw.campaign.id}/send"))
    assert "All your initials are sent." in text_of(page)
    form = page.find("button", string="Get 5 more texts to send").find_parent("form")
    assert form["action"] == f"/texting/campaigns/{tw.campaign.id}/claim/initials"
    # Claiming from the send page goes on sending there.
    response = client.post(form["action"], data={"view": "initials"}, headers=HX)
    assert response.headers["HX-Location"] == f"/texting/campaigns/{tw.campaign.id}/send"


def test_done_texting_refreshes_the_counts_and_send_says_where_the_texts_went(client, tw):
    claim(client, tw)
    campaign_url = f"/texting/campaigns/{tw.campaign.id}"
    assert "5 initials to send" in text_of(texter_page(client, tw))
    response = client.post(f"{campaign_url}/done", data={"next": campaign_url}, headers=HX)
    fragment = soup_of(response)
    status = fragment.find(id="texter-status")
    assert status["hx-swap-oob"] == "true"
    assert "0 initials to send" in text_of(status)
    assert status.find("a", string="Send initials") is None
    panel = fragment.find(id="claim-panel")
    assert panel["hx-swap-oob"] == "true" and not claim_button(fragment).has_attr("disabled")
    page = client.get(f"{campaign_url}/send")
    words = text_of(page)
    assert "You have no texts to send. Your unsent texts went back to the pool." in words
    assert "All your initials are sent." not in words


def test_send_page_with_nothing_ever_held_says_so_plainly(client, tw):
    words = text_of(client.get(f"/texting/campaigns/{tw.campaign.id}/send"))
    assert "You have no texts to send." in words
    assert "All your initials are sent." not in words and "went back" not in words


def test_opt_out_is_outlined_and_after_send_and_the_notice_has_its_own_line(client, tw):
    claim(client, tw)
    page = soup_of(client.get(f"/texting/campaigns/{tw.campaign.id}/send"))
    card = page.find(id="initial")
    status, send = card.find(class_="send-status"), card.find("button", string="Send")
    opt_out = card.find("button", string="Opt out")
    assert "danger-outline" in opt_out["class"]
    assert opt_out.find_parent(class_="away-from-send") is not None
    order = [el for el in card.find_all(True) if el in (status, send, opt_out)]
    assert order == [status, send, opt_out]
    form = opt_out.find_parent("form")
    assert form["data-confirm"].startswith("Opt out ") and form["hx-confirm"]
    sent = soup_of(client.post(f"/texting/contacts/{tw.held_ids()[0]}/send", headers=HX))
    assert sent.find(class_="send-status").get_text(strip=True).startswith("Sent to ")


def test_back_links_are_tap_sized_and_the_layout_has_a_favicon_and_a_menu(client, tw):
    page = texter_page(client, tw)
    assert page.find("a", string="← My campaigns")["class"] == ["back-link"]
    assert page.find("link", rel="icon")["href"] == "/static/favicon.svg"
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200
    icon.close()
    toggle = page.find("button", class_="nav-toggle")
    assert toggle["aria-controls"] == "main-nav" and page.find(id="main-nav").name == "nav"
