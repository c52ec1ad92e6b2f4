"""One human action per text, in a real browser: Enter sends on key-up only, so a held
(auto-repeating) Enter or a double click sends exactly one message."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from spoke.extensions import db
from spoke.models import Message
from tests.browser.conftest import CHROMIUM_ARGS, deadline
from tests.factories import (
    PASSWORD,
    give_contacts,
    make_campaign,
    make_contacts,
    make_org,
    make_user,
)

pytestmark = pytest.mark.browser


def sent_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Message))


def test_held_enter_and_double_click_each_send_one(live_server, chromium_path):
    from playwright.sync_api import expect, sync_playwright

    app = live_server.app
    with app.app_context():
        org = make_org()
        texter = make_user(org, email="kim@example.org", name="Kim Lee")
        campaign = make_campaign(org, status="started")
        make_contacts(campaign, 5)
        give_contacts(campaign, texter, 5)
        campaign_id = campaign.id

    with deadline(60), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        page.set_default_timeout(10_000)
        page.goto(f"{live_server.url}/login")
        page.get_by_label("Email").fill("kim@example.org")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/login" not in url)
        page.goto(f"{live_server.url}/texting/campaigns/{campaign_id}/send")
        expect(page.get_by_text("5 left")).to_be_visible()

        # Hold Enter: the browser repeats keydown many times; only the key-up may send.
        send = page.get_by_role("button", name="Send")
        send.focus()
        for _ in range(12):
            page.keyboard.down("Enter")
        assert sent_count(app) == 0, "keydown sent a message"
        page.keyboard.up("Enter")
        expect(page.get_by_text("4 left")).to_be_visible()
        assert sent_count(app) == 1

        # A double click on Send sends one message, not two.
        page.get_by_role("button", name="Send").dblclick()
        expect(page.get_by_text("3 left")).to_be_visible()
        page.wait_for_timeout(500)  # let a second request, if any, land
        assert sent_count(app) == 2
        expect(page.get_by_text("3 left")).to_be_visible()
        browser.close()
