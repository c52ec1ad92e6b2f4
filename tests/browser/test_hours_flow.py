"""Texting hours on a phone: the texter's campaign page shows the hours, and a claim before
they open says why nothing came and when the next contacts open.

Screenshot: /work/notes/shots/hours-refusal.png (or $SPOKE_SHOTS_DIR).
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from spoke import clock
from spoke.assignment import join
from spoke.extensions import db
from tests.browser.conftest import CHROMIUM_ARGS, deadline
from tests.factories import PASSWORD, make_campaign, make_contacts, make_org, make_user

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SPOKE_SHOTS_DIR", "/work/notes/shots"))
PHONE = {"width": 390, "height": 844}
REFUSAL = (
    "No contacts can be texted right now: texting hours are 9:00 am–9:00 pm in each "
    "contact's time zone. The next ones open at 9:00 am Central (in 2 h 10 min)."
)


def test_texter_sees_hours_and_refusal_on_a_phone(live_server, chromium_path):
    from playwright.sync_api import expect, sync_playwright

    app = live_server.app
    with app.app_context():
        org = make_org()
        texter = make_user(org, email="rio@example.org", name="Rio Texter")
        campaign = make_campaign(
            org,
            title="Early Vote Chicago",
            status="started",
            texting_hours_enforced=True,
            dynamic_initials_enabled=True,
        )
        make_contacts(campaign, 5, timezone="America/Chicago")
        join.join_by_link(db.session, campaign.initials_join_token, texter.id)
        db.session.commit()
        campaign_id = campaign.id
    clock.freeze(datetime(2026, 1, 15, 12, 50))  # 6:50 am in Chicago
    try:
        with deadline(60), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True)
            page.set_default_timeout(10_000)
            page.goto(f"{live_server.url}/login")
            page.get_by_label("Email").fill("rio@example.org")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(lambda url: "/login" not in url)
            page.goto(f"{live_server.url}/texting/campaigns/{campaign_id}")
            expect(page.locator("#texting-hours")).to_have_text(
                "Texting hours: 9:00 am–9:00 pm in each contact's time zone."
            )
            # Issue 13: a claim that cannot work is disabled, with the reason beside it.
            expect(page.get_by_role("button", name="Get 200 more texts to send")).to_be_disabled()
            expect(page.locator("#claim-panel").get_by_text(REFUSAL)).to_be_visible()
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "hours-refusal.png"), full_page=True)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{width}px wide on a {PHONE['width']}px phone"
            tap = page.get_by_role("button", name="Get 200 more texts to send").bounding_box()
            assert tap["height"] >= 44
            browser.close()
    finally:
        clock.freeze(None)
