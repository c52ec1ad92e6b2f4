"""Every control on every page has an accessible name, and every form an action.

A screen reader (and a browser test) finds controls by name: a <label for>, a wrapping
<label>, aria-label / aria-labelledby, or a button's own text.
"""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from spoke.extensions import db
from spoke.models import CampaignContact
from tests.factories import give_contacts, make_campaign, make_contacts, make_org, make_user


def unnamed_controls(html: str) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    labelled = {label.get("for") for label in soup.find_all("label") if label.get("for")}
    missing = []
    for control in soup.find_all(["input", "select", "textarea", "button"]):
        if control.name == "input" and control.get("type") in ("hidden", "submit", "button"):
            if control.get("type") == "hidden" or control.get("value"):
                continue
        if control.get("aria-label") or control.get("aria-labelledby"):
            continue
        if control.get("id") and control["id"] in labelled:
            continue
        if control.find_parent("label") is not None:
            continue
        if control.name == "button" and control.get_text(strip=True):
            continue
        missing.append(str(control)[:120])
    return missing


def forms_without_action(html: str) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    return [str(f)[:120] for f in soup.find_all("form") if not f.get("action")]


@pytest.fixture
def pages(ctx):
    org = make_org()
    admin = make_user(org, role="owner")
    texter = make_user(org)
    campaign = make_campaign(
        org,
        status="started",
        dynamic_initials_enabled=True,
        dynamic_replies_enabled=True,
        release_unhandled_enabled=True,
    )
    make_contacts(campaign, 6)
    give_contacts(campaign, texter, 4)
    contact = db.session.scalars(
        db.select(CampaignContact).where(CampaignContact.assignment_id.is_not(None))
    ).first()
    contact.message_status = "needs_response"
    contact.last_inbound_at = contact.created_at
    db.session.commit()
    admin_pages = [
        "/campaigns",
        "/campaigns/new",
        f"/campaigns/{campaign.id}",
        "/review",
        "/people",
        "/teams",
        f"/texting/contacts/{contact.id}",
    ]
    texter_pages = [
        "/",
        f"/texting/campaigns/{campaign.id}",
        f"/texting/campaigns/{campaign.id}/send",
        f"/texting/campaigns/{campaign.id}/replies",
        f"/texting/contacts/{contact.id}",
        f"/join/{campaign.initials_join_token}",
    ]
    return admin, texter, admin_pages, texter_pages


def test_every_control_is_named_and_every_form_has_an_action(client, auth, pages):
    admin, texter, admin_pages, texter_pages = pages
    for user, urls in ((admin, admin_pages), (texter, texter_pages)):
        auth.login_as(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            html = response.get_data(as_text=True)
            assert unnamed_controls(html) == [], url
            assert forms_without_action(html) == [], url
    auth.logout()
    for url in ("/login", "/signup"):
        html = client.get(url).get_data(as_text=True)
        assert unnamed_controls(html) == [] and forms_without_action(html) == [], url


def test_the_checker_notices_an_unlabelled_control():
    assert unnamed_controls('<input type="text" name="x">') != []
    assert unnamed_controls('<label for="x">X</label><input id="x">') == []
    assert unnamed_controls('<button type="submit"></button>') != []
