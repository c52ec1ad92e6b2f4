"""Dynamic Assignment for Initials tried as a new user would, in Debian's headless Chromium.

An admin turns the feature on with batch size 5 and copies the link; a texter on a phone
opens it, signs up, joins, gets 5 and sends them; the admin changes the batch size to 3
while the texter works, and the texter's next claim gives 3. Screenshots go to
/work/notes/shots/ for a person to look at.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM_ARGS, deadline

SHOTS = Path(os.environ.get("SPOKE_SHOTS", "/work/notes/shots"))
PHONE = {"width": 390, "height": 844}
STEP_MS = 10_000  # any one browser step
WHOLE_TEST_S = 180  # the whole flow

pytestmark = pytest.mark.browser


def seed(app) -> int:
    """An organization, its admin, and a started campaign with 20 contacts."""
    from spoke.extensions import db
    from tests.factories import make_campaign, make_contacts, make_org, make_user

    with app.app_context():
        org = make_org("Riverside Votes")
        make_user(org, "admin", name="Ada Admin", email="ada@example.org")
        campaign = make_campaign(
            org,
            title="Fall Turnout",
            status="started",
            script="Hi {firstName}, this is {texterFirstName} with Riverside Votes. Will you vote?",
        )
        make_contacts(campaign, 20)
        campaign_id = campaign.id
        db.session.remove()
    return campaign_id


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"assignment_{name}.png"), full_page=True)


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide on a {PHONE['width']}px phone"


def settings_group(page, legend: str):
    return page.locator("fieldset").filter(has=page.locator("legend", has_text=legend))


def set_batch_size(page, size: int) -> None:
    """Type a batch size for initials; leaving the field saves it (no page reload)."""
    group = settings_group(page, "Dynamic Assignment for Initials")
    field = group.get_by_label("How large should this batch size be?")
    field.fill(str(size))
    field.press("Tab")
    group.locator(".saved", has_text="Saved").wait_for()
    assert field.input_value() == str(size)


def send_one(page, expect, left_after: int) -> None:
    """Press Send for the contact shown, and wait for the next one (or the end)."""
    page.get_by_role("button", name="Send", exact=True).click()
    if left_after:
        expect(page.get_by_text(f"{left_after} left", exact=True)).to_be_visible()
    else:
        expect(page.get_by_text("All your initials are sent.")).to_be_visible()


def test_admin_enables_initials_and_a_new_texter_claims_on_a_phone(live_server, chromium_path):
    from playwright.sync_api import expect, sync_playwright

    base, app = live_server.url, live_server.app
    campaign_id = seed(app)
    expect.set_options(timeout=STEP_MS)

    with deadline(WHOLE_TEST_S), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            # --- the admin, on a desktop -------------------------------------------------
            admin_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
            admin_ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
            admin = admin_ctx.new_page()
            admin.set_default_timeout(STEP_MS)
            admin.goto(f"{base}/login")
            admin.get_by_label("Email").fill("ada@example.org")
            admin.get_by_label("Password").fill("password123")
            admin.get_by_role("button", name="Log in").click()
            expect(admin.get_by_role("button", name="Log out")).to_be_visible()
            admin.goto(f"{base}/campaigns/{campaign_id}#assignment-management")
            initials = settings_group(admin, "Dynamic Assignment for Initials")
            url_before = admin.url
            initials.get_by_label("Dynamic Assignment for Initials").check()
            link_field = initials.get_by_label("Assignment link")
            expect(link_field).to_be_visible()
            assert admin.url == url_before  # saved inline, no navigation
            set_batch_size(admin, 5)
            initials.get_by_role("button", name="Copy link").click()
            expect(initials.get_by_role("button", name="Copied")).to_be_visible()
            link = admin.evaluate("navigator.clipboard.readText()")
            assert link == link_field.input_value()
            assert re.fullmatch(rf"{re.escape(base)}/join/[A-Za-z0-9_-]{{22,}}", link)
            initials.scroll_into_view_if_needed()
            shot(admin, "1_admin_settings")

            # --- the texter, on a phone -------------------------------------------------
            phone_ctx = browser.new_context(
                viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
            )
            phone = phone_ctx.new_page()
            phone.set_default_timeout(STEP_MS)
            phone.goto(link)
            expect(phone.get_by_role("heading", name="Fall Turnout")).to_be_visible()
            no_sideways_scroll(phone)
            shot(phone, "2_link_logged_out")
            phone.get_by_role("link", name="Sign up").click()
            phone.get_by_label("Your name").fill("Sam Newcomer")
            phone.get_by_label("Email").fill("sam@example.org")
            phone.get_by_label("Password").fill("correct horse battery")
            phone.get_by_role("button", name="Sign up").click()
            phone.wait_for_url(link)
            expect(phone.get_by_role("button", name="Join campaign")).to_be_visible()
            no_sideways_scroll(phone)
            shot(phone, "3_link_logged_in")
            phone.get_by_role("button", name="Join campaign").click()
            phone.wait_for_url(f"{base}/texting/campaigns/{campaign_id}")
            expect(phone.get_by_text("You joined Fall Turnout.")).to_be_visible()
            no_sideways_scroll(phone)
            shot(phone, "4_joined")

            phone.get_by_role("button", name="Get 5 more texts to send").click()
            expect(phone.get_by_text("You got 5 texts to send.")).to_be_visible()
            expect(phone.get_by_role("listitem").filter(has_text="initials to send")).to_have_text(
                re.compile(r"^\s*5\s*initials to send")
            )
            no_sideways_scroll(phone)
            shot(phone, "5_claimed_5")
            phone.get_by_role("link", name="Send initials").click()
            phone.wait_for_url(f"{base}/texting/campaigns/{campaign_id}/send")
            expect(phone.get_by_text("5 left")).to_be_visible()
            no_sideways_scroll(phone)
            shot(phone, "6_send_page")
            send_one(phone, expect, 4)
            send_one(phone, expect, 3)

            # --- the admin changes the batch size while the texter works --------------
            admin.reload()
            set_batch_size(admin, 3)
            shot(admin, "7_admin_batch_3")

            for left_after in (2, 1, 0):
                send_one(phone, expect, left_after)
            shot(phone, "8_all_sent")
            phone.get_by_role("link", name="← Fall Turnout").click()
            phone.wait_for_url(f"{base}/texting/campaigns/{campaign_id}")
            phone.get_by_role("button", name="Get 3 more texts to send").click()
            expect(phone.get_by_text("You got 3 texts to send.")).to_be_visible()
            expect(phone.get_by_role("listitem").filter(has_text="initials to send")).to_have_text(
                re.compile(r"^\s*3\s*initials to send")
            )
            no_sideways_scroll(phone)
            shot(phone, "9_claimed_3")

            # --- the admin sees it all in the Texters panel and the history ----------
            admin.reload()
            row = admin.locator("#texters-panel tr").filter(has_text="Sam Newcomer")
            expect(row.get_by_label("Texts to send for Sam Newcomer")).to_have_value("3")
            expect(row.locator("td").first).to_have_text("5")  # sent
            history = admin.locator("#assignment-history tbody tr")
            expect(history.first).to_contain_text("Dynamic Assignment for Initials")
            expect(history.first).to_contain_text("You got 3 texts to send.")
            admin.locator("#texters").scroll_into_view_if_needed()
            shot(admin, "10_admin_texters_and_history")
        finally:
            browser.close()
