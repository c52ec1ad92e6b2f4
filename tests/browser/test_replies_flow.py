"""Canned responses and questions tried as people would, in Debian's headless Chromium.

An admin adds two canned responses and a question whose "Yes" suggests one of them; a texter
on a phone (390x844) answers a reply with a canned response, records the contact's answer,
uses the suggested reply and sends it; the admin finds the contact in Message Review by its
answer. Screenshots go to /work/notes/shots/ for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM_ARGS, deadline

SHOTS = Path(os.environ.get("SPOKE_SHOTS", "/work/notes/shots"))
PHONE = {"width": 390, "height": 844}
STEP_MS = 10_000
WHOLE_TEST_S = 180

pytestmark = pytest.mark.browser


def seed(app) -> tuple[int, int]:
    """An admin, a texter holding 2 contacts of a started campaign; the first one replied."""
    from spoke.extensions import db
    from spoke.texting import inbound
    from tests.factories import give_contacts, make_campaign, make_contacts, make_org, make_user

    with app.app_context():
        org = make_org("Riverside Votes")
        make_user(org, "admin", name="Ada Admin", email="ada@example.org")
        texter = make_user(org, "texter", name="Tina Texter", email="tina@example.org")
        campaign = make_campaign(org, title="Fall Turnout", status="started")
        ids = make_contacts(campaign, 2)
        give_contacts(campaign, texter, 2)
        inbound.receive_inbound(
            db.session, "+15550000000", "Who is this? Is voting Tuesday?", "SM1"
        )
        db.session.commit()
        campaign_id = campaign.id
        db.session.remove()
    return campaign_id, ids[0]


def shot(page, name: str, section: str = "") -> None:
    """Screenshot the whole page, or just one section of it (long admin pages)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = str(SHOTS / f"replies_{name}.png")
    if section:
        page.locator(section).screenshot(path=path)
    else:
        page.screenshot(path=path, full_page=True)


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide on a {PHONE['width']}px phone"


def tall_enough(locator) -> None:
    """A control a thumb can hit: at least 44 px tall."""
    box = locator.bounding_box()
    assert box is not None and box["height"] >= 44, f"{locator} is {box} (under 44 px)"


def log_in(browser, base: str, email: str, **context):  # type: ignore[no-untyped-def]
    page = browser.new_context(**context).new_page()
    page.set_default_timeout(STEP_MS)
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("password123")
    page.get_by_role("button", name="Log in").click()
    # On a phone the nav is folded behind Menu: wait for the button to exist, not to show.
    page.get_by_role("button", name="Log out", include_hidden=True).wait_for(state="attached")
    return page


def add_canned(admin, expect, title: str, text: str) -> None:
    panel = admin.locator("#canned-panel")
    form = panel.locator("form").filter(has=admin.get_by_role("button", name="Add canned response"))
    form.get_by_label("Title").fill(title)
    form.get_by_label("Text").fill(text)
    expect(panel.locator("#canned-preview-new .bubble")).to_contain_text("First0")  # live preview
    form.get_by_role("button", name="Add canned response").click()
    expect(admin.locator("#canned-panel [role=status]")).to_have_text(
        f"Canned response “{title}” added."
    )


def test_texter_answers_with_a_canned_response_and_records_an_answer(live_server, chromium_path):
    from playwright.sync_api import expect, sync_playwright

    base, app = live_server.url, live_server.app
    campaign_id, contact_id = seed(app)
    expect.set_options(timeout=STEP_MS)

    with deadline(WHOLE_TEST_S), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            # --- the admin, on a desktop -------------------------------------------------
            admin = log_in(
                browser, base, "ada@example.org", viewport={"width": 1280, "height": 900}
            )
            admin.goto(f"{base}/campaigns/{campaign_id}#canned-responses")
            add_canned(
                admin, expect, "Who we are", "Hi {firstName}, I'm {texterFirstName}, a volunteer."
            )
            add_canned(admin, expect, "Thanks", "Thanks {firstName}! Polls open 7am-8pm Tuesday.")
            # A typo in a field is refused in place, with what fields exist.
            panel = admin.locator("#canned-panel")
            new_form = panel.locator("form").filter(
                has=admin.get_by_role("button", name="Add canned response")
            )
            new_form.get_by_label("Title").fill("Broken")
            new_form.get_by_label("Text").fill("Hi {frstName}")
            new_form.get_by_role("button", name="Add canned response").click()
            expect(panel.locator("#canned-text-error-new")).to_contain_text(
                "Unknown field {frstName}"
            )
            shot(admin, "1_admin_canned", "#canned-responses")
            # Fixed, it is added; deleting asks first, then deletes just that one.
            new_form.get_by_label("Text").fill("Hi {firstName}")
            new_form.get_by_role("button", name="Add canned response").click()
            expect(panel.locator("summary strong")).to_have_count(3)
            posts: list[str] = []
            admin.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
            admin.once("dialog", lambda dialog: dialog.accept())
            panel.get_by_role("button", name="Delete “Broken”").click()
            expect(admin.locator("#canned-panel [role=status]")).to_have_text(
                "Canned response “Broken” deleted."
            )
            assert len(posts) == 1 and posts[0].endswith("/delete"), posts  # one request only
            expect(panel.locator("summary strong")).to_have_count(2)
            # Reorder: "Thanks" first.
            panel.locator("li").filter(has_text="Thanks").get_by_role(
                "button", name="Move “Thanks” up"
            ).click()
            expect(panel.locator("summary strong").first).to_have_text("Thanks")

            questions = admin.locator("#questions-panel")
            questions.get_by_label("Question", exact=True).fill("Will you vote?")
            questions.get_by_label("Answers, one per line").fill("Yes\nNo\nMaybe")
            questions.get_by_role("button", name="Add question").click()
            expect(questions.locator("[role=status]")).to_have_text(
                "Question “Will you vote?” added."
            )
            questions.get_by_label("Suggested reply").first.select_option(label="Thanks")
            questions.get_by_role("button", name="Save question").click()
            expect(questions.locator("[role=status]")).to_have_text("Question saved.")
            shot(admin, "2_admin_questions", "#questions")

            # --- the texter, on a phone -------------------------------------------------
            phone = log_in(
                browser,
                base,
                "tina@example.org",
                viewport=PHONE,
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
            )
            phone.goto(f"{base}/texting/contacts/{contact_id}")
            expect(phone.get_by_text("Who is this? Is voting Tuesday?")).to_be_visible()
            no_sideways_scroll(phone)
            shot(phone, "3_conversation")
            picker = phone.locator("#canned-picker summary")
            tall_enough(picker)
            picker.click()
            choice = phone.locator(".canned-choice").filter(has_text="Who we are")
            tall_enough(choice)
            no_sideways_scroll(phone)
            shot(phone, "4_picker_open")
            url_before = phone.url
            choice.click()
            reply = phone.get_by_label("Reply", exact=True)
            expect(reply).to_have_value("Hi First0, I'm Tina, a volunteer.")
            assert phone.url == url_before  # filled in place, nothing sent
            expect(phone.locator(".bubble.out")).to_have_count(0)
            reply.fill(reply.input_value() + " Yes, Tuesday!")
            phone.get_by_role("button", name="Send", exact=True).click()
            expect(phone.locator(".bubble.out")).to_have_count(1)
            expect(phone.locator(".bubble.out")).to_contain_text("a volunteer. Yes, Tuesday!")

            # The contact answers; the texter records it with one tap.
            yes = phone.locator("#survey label").filter(has_text="Yes")
            tall_enough(yes)
            yes.click()
            expect(phone.locator("#survey [role=status]")).to_have_text("Saved: Yes.")
            expect(phone.locator("#survey .recorded")).to_contain_text("Recorded by Tina Texter")
            suggestion = phone.get_by_role("link", name="Use “Thanks”")
            tall_enough(suggestion)
            no_sideways_scroll(phone)
            shot(phone, "5_answer_recorded")
            suggestion.click()
            expect(reply).to_have_value("Thanks First0! Polls open 7am-8pm Tuesday.")
            expect(phone.locator(".bubble.out")).to_have_count(1)  # offered, not sent
            shot(phone, "6_suggested_reply_filled")
            # Changing the answer is one more tap.
            phone.locator("#survey label").filter(has_text="Maybe").click()
            expect(phone.locator("#survey [role=status]")).to_have_text("Saved: Maybe.")
            expect(phone.get_by_role("link", name="Use “Thanks”")).to_have_count(0)

            # --- the admin finds the contact by its answer ------------------------------
            admin.goto(f"{base}/review")
            admin.get_by_label("Answer", exact=True).select_option(label="Will you vote? — Maybe")
            admin.get_by_role("button", name="Filter").click()
            expect(admin.locator("#review-count")).to_have_text("1 conversation matches")
            expect(admin.locator("#review-results tbody")).to_contain_text("First0 Last0")
            shot(admin, "7_review_by_answer", "main")
        finally:
            browser.close()
