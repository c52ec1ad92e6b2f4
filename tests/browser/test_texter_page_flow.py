"""The texter's pages at 390x844 on the first day: every tap is 44 px, nothing scrolls sideways,
Send stays put across sends, and Done Texting updates the counts without a reload.

Screenshots: $SPOKE_SHOTS_DIR (default /work/notes/shots), files texter-page-*.png.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from spoke.assignment import join
from spoke.extensions import db
from tests.browser.conftest import CHROMIUM_ARGS, deadline
from tests.factories import PASSWORD, make_campaign, make_contacts, make_org, make_user

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SPOKE_SHOTS_DIR", "/work/notes/shots"))
PHONE = {"width": 390, "height": 844}
STEP_MS = 10_000

# Every visible link and button in <main> and the top bar, with its height.
TAPS_JS = """(scope) => [...document.querySelectorAll(scope)]
  .filter(el => el.offsetParent !== null && el.getBoundingClientRect().height > 0)
  .map(el => [el.textContent.trim().slice(0, 40), el.getBoundingClientRect().height])"""


def check_phone_layout(page, scope: str = "main a, main button, header a, header button") -> None:
    """No sideways scroll, and every visible link and button at least 44 px tall."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide"
    small = [(text, h) for text, h in page.evaluate(TAPS_JS, scope) if h < 44]
    assert not small, f"taps under 44 px on {page.url}: {small}"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"texter-page-{name}.png"), full_page=True)


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_texter_pages_on_a_phone(live_server, chromium_path):
    from playwright.sync_api import expect, sync_playwright

    base, app = live_server.url, live_server.app
    with app.app_context():
        org = make_org("Riverside Votes")
        make_user(org, "admin", name="Ada Admin", email="ada@example.org")
        texter = make_user(org, name="Rio Texter", email="rio@example.org")
        campaign = make_campaign(
            org, title="Fall Turnout", status="started", dynamic_initials_enabled=True
        )
        campaign.initials_batch_size = 3
        make_contacts(campaign, 10)
        join.join_by_link(db.session, campaign.initials_join_token, texter.id)
        db.session.commit()
        campaign_url = f"{base}/texting/campaigns/{campaign.id}"
    expect.set_options(timeout=STEP_MS)

    with deadline(150), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context(
                viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
            )
            page = ctx.new_page()
            page.set_default_timeout(STEP_MS)
            page.on("dialog", lambda d: d.accept())
            log_in(page, base, "rio@example.org")
            page.goto(campaign_url)
            check_phone_layout(page)
            shot(page, "1-campaign")

            page.get_by_role("button", name="Get 3 more texts to send").click()
            expect(page.get_by_text("You got 3 texts to send.")).to_be_visible()
            expect(page.locator("#texter-status li").first).to_have_text(
                re.compile(r"^\s*3\s*initials to send")
            )
            # One way to start sending; the claim button now waits, with its reason.
            expect(page.get_by_role("link", name=re.compile("Send"))).to_have_count(1)
            expect(page.get_by_role("button", name="Get 3 more texts to send")).to_be_disabled()
            expect(page.get_by_text("Send your 3 texts before asking for more.")).to_be_visible()
            check_phone_layout(page)
            shot(page, "2-claimed")

            page.get_by_role("link", name="Send initials").click()
            page.wait_for_url(f"{campaign_url}/send")
            send = page.get_by_role("button", name="Send", exact=True)
            before = send.bounding_box()
            check_phone_layout(page)
            shot(page, "3-send")
            send.click()
            expect(page.get_by_text("2 left", exact=True)).to_be_visible()
            expect(page.locator(".send-status")).to_have_text(re.compile("^Sent to "))
            after = send.bounding_box()
            assert abs(after["y"] - before["y"]) < 1, (before, after)
            check_phone_layout(page)
            shot(page, "4-sent-one")

            page.get_by_role("link", name="← Fall Turnout").click()
            page.wait_for_url(campaign_url)
            expect(page.locator("#texter-status li").first).to_have_text(
                re.compile(r"^\s*2\s*initials to send")
            )
            page.get_by_role("button", name="Done Texting").click()
            expect(page.locator("#done-texting .saved")).to_be_visible()
            # Counts, the Send button and the claim button follow without a reload.
            expect(page.locator("#texter-status li").first).to_have_text(
                re.compile(r"^\s*0\s*initials to send")
            )
            expect(page.get_by_role("link", name="Send initials")).to_have_count(0)
            expect(page.get_by_role("button", name="Get 3 more texts to send")).to_be_enabled()
            check_phone_layout(page)
            shot(page, "5-done-texting")

            page.goto(f"{campaign_url}/send")
            expect(
                page.get_by_text(
                    "You have no texts to send. Your unsent texts went back to the pool."
                )
            ).to_be_visible()
            expect(page.get_by_role("button", name="Get 3 more texts to send")).to_be_visible()
            check_phone_layout(page)
            shot(page, "6-send-after-done")
            ctx.close()

            # The admin's nav folds behind "Menu" on a phone instead of wrapping.
            ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
            admin = ctx.new_page()
            admin.set_default_timeout(STEP_MS)
            log_in(admin, base, "ada@example.org")
            assert admin.locator("header.topbar").bounding_box()["height"] < 70
            expect(admin.get_by_role("link", name="Message Review")).to_be_hidden()
            admin.get_by_role("button", name="Menu").click()
            expect(admin.get_by_role("link", name="Message Review")).to_be_visible()
            check_phone_layout(admin, "header a, header button")
            shot(admin, "7-admin-menu")
            ctx.close()
        finally:
            browser.close()
