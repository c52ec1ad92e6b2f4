"""The Foundation issue's "Done means", tried as a new user would, in Debian's Chromium.

A fresh install (migrations, waitress, jobs on a thread: `make run` on a temp SQLite file):
the first visitor sets up the organization, creates a campaign, uploads a CSV with good and
bad rows and reads the import report, writes the script with a custom field and previews it,
and starts the campaign. A volunteer signs up on a phone and joins through the assignment
link; the admin gives them texts to send on the Texters panel. On the phone they send a few
initials one press at a time and skip one; the admin simulates a reply; the volunteer
answers it. Screenshots go to /work/notes/shots/walk-NN-*.png for a person to look at.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

import pytest

from spoke import clock
from tests.browser.conftest import CHROMIUM_ARGS, deadline

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SPOKE_SHOTS_DIR", "/work/notes/shots"))
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
STEP_MS = 10_000
WHOLE_TEST_S = 100

TITLE = "Neighborhood Turnout"
CSV_TEXT = (
    "firstName,lastName,cell,zip,pollingPlace\n"
    "Ana,Alvarez,2125550101,10001,Town Hall\n"  # row 2
    "Ben,Baker,(212) 555-0102,,Main Library\n"
    "Cy,Chen,12,,Oak School\n"  # row 4: bad cell
    "Dee,Diaz,+1 212 555 0101,,Town Hall\n"  # row 5: same cell as row 2
    "Eve,Evans,,,Main Library\n"  # row 6: missing cell
    "Fay,Fox,2125550103,,Oak School\n"
    "Gus,Green,2125550104,,Main Library\n"
    "Hal,Hill,2125550105,,Town Hall\n"
    "Ivy,Irwin,2125550106,,Oak School\n"
)
SCRIPT = "Hi {firstName}, it's {texterFirstName} from your neighbors. Vote at {pollingPlace}!"


def shot(page, number: int, name: str, phone: bool = False) -> None:
    """Save a full-page screenshot; on a phone, also insist there is no sideways scroll."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"walk-{number:02d}-{name}.png"), full_page=True)
    if phone:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{name}: {width}px wide on a {PHONE['width']}px phone"


def stat(page, group: str, words: str):
    """The number shown next to `words` in the stats list labelled `group`."""
    item = page.get_by_role("list", name=group).get_by_role("listitem").filter(has_text=words)
    return item.locator("strong")


def left_count(page) -> int:
    text = page.locator("#initial").get_by_text(re.compile(r"^\d+ left$")).inner_text()
    return int(text.split()[0])


@pytest.fixture
def noon_in_new_york():
    """The walk happens at noon in New York: new campaigns enforce texting hours there."""
    clock.freeze(datetime(2026, 6, 2, 16, 0))
    yield
    clock.freeze(None)


def test_new_organization_to_answered_reply(live_server, chromium_path, tmp_path, noon_in_new_york):
    from playwright.sync_api import expect, sync_playwright

    base = live_server.url
    expect.set_options(timeout=STEP_MS)
    csv_path = tmp_path / "turnout.csv"
    csv_path.write_text(CSV_TEXT, encoding="utf-8")

    with deadline(WHOLE_TEST_S), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            # --- 1. the organizer's first visit, on a desktop -----------------------------
            admin = browser.new_context(viewport=DESKTOP).new_page()
            admin.set_default_timeout(STEP_MS)
            admin.on("dialog", lambda d: d.accept())
            admin.goto(base)
            expect(admin.get_by_role("heading", name="Set up spoke")).to_be_visible()
            assert admin.url == f"{base}/setup"
            shot(admin, 1, "setup")
            admin.get_by_label("Organization name").fill("Riverside Neighbors")
            admin.get_by_label("Your name").fill("Ada Organizer")
            admin.get_by_label("Email").fill("ada@example.org")
            admin.get_by_label("Password").fill("a long enough password")
            admin.get_by_role("button", name="Create organization").click()
            expect(admin.get_by_text("Your organization is ready.")).to_be_visible()

            # --- 2. a campaign, its contacts, its script; start it ------------------------
            admin.get_by_role("link", name="Create your first campaign").click()
            admin.get_by_label("Title").fill(TITLE)
            admin.get_by_label("Description").fill("Remind neighbors where they vote.")
            admin.get_by_role("button", name="Create campaign").click()
            expect(admin.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
            campaign_url = admin.url
            campaign_id = int(re.fullmatch(rf"{re.escape(base)}/campaigns/(\d+)", campaign_url)[1])

            admin.get_by_label("Contacts CSV").set_input_files(str(csv_path))
            admin.get_by_role("button", name="Upload").click()
            # The import page polls itself until the job (on its thread) is done.
            expect(admin.get_by_role("heading", name="Status: Finished")).to_be_visible()
            expect(stat(admin, "Import result", "Imported")).to_have_text("6")
            expect(stat(admin, "Import result", "Duplicates skipped")).to_have_text("1")
            expect(stat(admin, "Import result", "Rejected")).to_have_text("2")
            rejected = admin.locator("table").filter(has_text="Reason").locator("tbody tr")
            expect(rejected).to_have_count(2)
            expect(rejected.nth(0).locator("td")).to_have_text(["4", "invalid phone number: 12"])
            expect(rejected.nth(1).locator("td")).to_have_text(["6", "missing cell"])
            shot(admin, 2, "import-report")
            admin.get_by_role("link", name="Back to campaign").click()
            admin.wait_for_url(f"{campaign_url}#contacts")
            expect(stat(admin, "Contacts", "Contacts")).to_have_text("6")
            expect(admin.locator("#contacts")).to_contain_text(
                "6 imported, 1 duplicates skipped, 0 opted-out skipped, 2 rejected"
            )
            admin.evaluate("window.scrollTo(0, 0)")
            admin.screenshot(path=str(SHOTS / "walk-03-campaign-top.png"))  # the first screen
            admin.locator("#contacts").scroll_into_view_if_needed()
            admin.locator("#contacts").screenshot(path=str(SHOTS / "walk-04-contacts.png"))

            script = admin.locator("#script-panel")
            expect(script.locator("code", has_text="{pollingPlace}")).to_be_visible()
            script.get_by_label("Initial message").fill(SCRIPT)
            preview = admin.locator("#script-preview")
            expect(preview).to_contain_text("Preview for the first contact, Ana Alvarez.")
            expect(preview.locator(".bubble")).to_contain_text("Hi Ana, it's Ada")
            expect(preview.locator(".bubble")).to_contain_text("Vote at Town Hall!")
            script.get_by_role("button", name="Save script").click()
            expect(admin.locator("#script-panel").get_by_text("Saved")).to_be_visible()
            admin.locator("#script").scroll_into_view_if_needed()
            admin.locator("#script").screenshot(path=str(SHOTS / "walk-05-script.png"))

            admin.get_by_role("button", name="Start campaign").click()
            expect(admin.locator("#campaign-status .badge")).to_have_text("Started")

            # --- 3. a volunteer signs up and joins; the admin gives them texts -------------
            admin.locator("#assignment-management").get_by_label(
                "Dynamic Assignment for Initials", exact=True
            ).check()
            link_field = admin.get_by_label("Assignment link").first
            expect(link_field).to_have_value(re.compile(rf"^{re.escape(base)}/join/"))
            link = link_field.input_value()

            phone_ctx = browser.new_context(
                viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
            )
            phone = phone_ctx.new_page()
            phone.set_default_timeout(STEP_MS)
            phone.goto(f"{base}/signup")
            phone.get_by_label("Your name").fill("Sam Volunteer")
            phone.get_by_label("Email").fill("sam@example.org")
            phone.get_by_label("Password").fill("correct horse battery")
            phone.get_by_role("button", name="Sign up").click()
            expect(
                phone.get_by_text("You are not a member of an organization yet.")
            ).to_be_visible()
            phone.goto(link)
            phone.get_by_role("button", name="Join campaign").click()
            expect(phone.get_by_text(f"You joined {TITLE}.")).to_be_visible()
            phone_ctx.close()

            # Only the Texters panel hands out contacts from here on.
            admin.reload()
            admin.locator("#assignment-management").get_by_label(
                "Dynamic Assignment for Initials", exact=True
            ).uncheck()
            expect(admin.get_by_label("Assignment link")).to_have_count(0)
            texters = admin.locator("#texters-panel")
            row = texters.locator("tr").filter(has_text="Sam Volunteer")
            row.get_by_label("Texts to send for Sam Volunteer").fill("5")
            row.get_by_role("button", name="Save").click()
            expect(
                texters.locator("tr")
                .filter(has_text="Sam Volunteer")
                .get_by_label("Texts to send for Sam Volunteer")
            ).to_have_value("5")
            expect(texters.locator(".pool strong")).to_have_text("1")
            admin.locator("#texters").scroll_into_view_if_needed()
            admin.locator("#texters").screenshot(path=str(SHOTS / "walk-06-texters.png"))

            # --- 4. the volunteer logs in on a phone and sends -----------------------------
            phone = browser.new_context(
                viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
            ).new_page()
            phone.set_default_timeout(STEP_MS)
            phone.goto(f"{base}/login")
            phone.get_by_label("Email").fill("sam@example.org")
            phone.get_by_label("Password").fill("correct horse battery")
            phone.get_by_role("button", name="Log in").click()
            expect(phone.get_by_role("heading", name="My campaigns")).to_be_visible()
            card = phone.get_by_role("region", name=TITLE)
            expect(card.get_by_role("listitem").filter(has_text="initials to send")).to_have_text(
                re.compile(r"^\s*5\s*initials to send")
            )
            shot(phone, 7, "texter-home", phone=True)
            card.get_by_role("link", name=TITLE).click()
            phone.wait_for_url(f"{base}/texting/campaigns/{campaign_id}")
            phone.get_by_role("link", name="Send initials").click()
            expect(phone.get_by_role("heading", name="Send initials")).to_be_visible()
            assert left_count(phone) == 5
            message = phone.get_by_label("Message")
            expect(message).to_contain_text("Hi Ana, it's Sam from your neighbors.")
            shot(phone, 8, "send", phone=True)

            sent: list[str] = []
            for action, left in (("Send", 4), ("Send", 3), ("Skip", 2), ("Send", 1)):
                name = phone.locator("#initial h2").inner_text()
                phone.get_by_role("button", name=action, exact=True).click()
                expect(
                    phone.locator("#initial").get_by_text(f"{left} left", exact=True)
                ).to_be_visible()
                expect(phone.locator("#initial h2")).not_to_have_text(name)
                if action == "Send":
                    sent.append(name)
            assert sent[0] == "Ana Alvarez" and len(set(sent)) == 3
            shot(phone, 9, "send-after", phone=True)

            # --- 5. a reply comes in (simulated by the admin) and is answered ------------
            admin.goto(f"{base}/review?campaign={campaign_id}")
            admin.get_by_role("link", name=sent[0]).click()
            admin.get_by_label("Simulate reply").fill("Thanks! Is Town Hall open at 7am?")
            admin.get_by_role("button", name="Simulate reply").click()
            expect(admin.get_by_text("Reply received.")).to_be_visible()

            phone.get_by_role("link", name=f"← {TITLE}").click()
            phone.wait_for_url(f"{base}/texting/campaigns/{campaign_id}")
            expect(phone.get_by_role("listitem").filter(has_text="reply to answer")).to_have_text(
                re.compile(r"^\s*1\s*reply to answer")
            )
            shot(phone, 10, "texter-campaign", phone=True)
            phone.get_by_role("link", name="Replies", exact=True).click()
            expect(phone.get_by_role("heading", name="Replies")).to_be_visible()
            expect(phone.get_by_text("Thanks! Is Town Hall open at 7am?")).to_be_visible()
            shot(phone, 11, "replies", phone=True)
            phone.get_by_role("link", name=re.compile(sent[0])).click()
            expect(phone.get_by_role("heading", name=sent[0])).to_be_visible()
            phone.get_by_label("Reply").fill("Yes, from 6am to 9pm. See you there!")
            phone.get_by_role("button", name="Send", exact=True).click()
            thread = phone.get_by_label("Messages")
            expect(thread.locator(".bubble.out", has_text="See you there!")).to_be_visible()
            expect(thread.locator(".bubble")).to_have_count(3)
            expect(phone.get_by_label("Reply")).to_have_value("")
            shot(phone, 12, "conversation", phone=True)
        finally:
            browser.close()
