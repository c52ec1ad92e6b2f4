"""Release Unhandled Replies as people use it, in Chromium at phone size.

An admin turns on replies claiming and the release after 1 minute; a texter sends an
initial; the admin simulates the contact's reply; the texter sees "released in 1 min"; the
embedded ticker releases it once the (test) clock passes the minute; a second texter joins
through the replies link, claims it with "Get 25 more replies to answer" and answers it.
Screenshots go to /work/notes/shots/ (or $SPOKE_SHOTS_DIR).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from spoke import clock
from spoke.extensions import db
from tests.browser.conftest import CHROMIUM_ARGS, serve_app
from tests.factories import give_contacts, make_campaign, make_contacts, make_org, make_user

pytestmark = pytest.mark.browser

playwright = pytest.importorskip("playwright.sync_api")
SHOTS = Path(os.environ.get("SPOKE_SHOTS_DIR", "/work/notes/shots"))
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def live(tmp_path, chromium_path) -> Iterator[dict]:
    """The app served as `make run` does (SQLite), with the release ticker every 0.3 s."""
    clock.freeze(clock.now())
    with serve_app(tmp_path, ticker_interval=0.3, TESTING=True) as server:
        app = server.app
        with app.app_context():
            org = make_org("Get Out The Vote")
            admin = make_user(org, role="owner", name="Ada Admin", email="ada@example.org")
            first = make_user(org, name="Tess First", email="tess@example.org")
            second = make_user(None, name="Rob Second", email="rob@example.org")
            campaign = make_campaign(org, status="started", title="Early vote")
            make_contacts(campaign, 1, first_name="Jamie", last_name="Voter")
            give_contacts(campaign, first, 1, actor=admin)
            ids = {"campaign": campaign.id, "users": (admin.email, first.email, second.email)}
            db.session.remove()
        try:
            yield {"app": app, "url": server.url, **ids}
        finally:
            clock.freeze(None)


@pytest.fixture
def browser(chromium_path):
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


def person(browser, live, email: str):
    """A fresh browser context (its own cookies), logged in through the form."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.on("dialog", lambda d: d.accept())
    page.goto(live["url"] + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("password123")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")
    return page


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"release-{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: horizontal scroll ({width}px)"


def test_unhandled_reply_counts_down_is_released_and_claimed_by_another(browser, live):
    expect = playwright.expect
    base, campaign_id = live["url"], live["campaign"]
    admin_email, first_email, second_email = live["users"]

    # The admin turns on replies claiming and the release after 1 minute.
    admin = person(browser, live, admin_email)
    admin.goto(f"{base}/campaigns/{campaign_id}")
    # Each change saves inline and re-renders the form: wait for one before the next.
    admin.get_by_label("Dynamic Assignment for Replies", exact=True).check()
    expect(admin.locator("#replies-link")).to_be_visible()
    admin.get_by_label("Release Unhandled Replies", exact=True).check()
    admin.wait_for_load_state("networkidle")
    expect(admin.get_by_label("Release Unhandled Replies", exact=True)).to_be_checked()
    minutes = admin.get_by_label("Release replies unhandled for how many minutes?")
    minutes.fill("1")
    minutes.press("Tab")
    admin.wait_for_load_state("networkidle")
    admin.reload()
    expect(minutes).to_have_value("1")
    expect(admin.get_by_label("Release Unhandled Replies", exact=True)).to_be_checked()
    replies_link = admin.locator("#replies-link").input_value()
    shot(admin, "1-admin-settings")

    # The first texter sends the initial.
    tess = person(browser, live, first_email)
    tess.goto(f"{base}/texting/campaigns/{campaign_id}")
    tess.get_by_role("link", name="Send initials").click()
    tess.get_by_role("button", name="Send", exact=True).click()
    expect(tess.get_by_text("Sent to Jamie Voter.")).to_be_visible()
    clock.advance(seconds=30)  # the reply comes after the initial (the test clock is frozen)

    # The admin simulates Jamie's reply from the conversation page.
    admin.goto(f"{base}/review?campaign={campaign_id}")
    admin.get_by_role("link", name="Jamie Voter").click()
    admin.get_by_label("Simulate reply").fill("Yes! Where do I vote early?")
    admin.get_by_role("button", name="Simulate reply").click()
    expect(admin.get_by_text("Reply received.")).to_be_visible()

    # The texter sees the reply with its countdown.
    tess.goto(f"{base}/texting/campaigns/{campaign_id}/replies")
    expect(tess.get_by_text("Yes! Where do I vote early?")).to_be_visible()
    expect(tess.get_by_text("released in 1 min")).to_be_visible()
    shot(tess, "2-texter-countdown")
    tess.get_by_role("link", name=re.compile("Jamie Voter")).click()
    expect(tess.get_by_text("released in 1 min")).to_be_visible()

    # A minute later the ticker hands it back to the pool.
    clock.advance(minutes=1)
    tess.goto(f"{base}/texting/campaigns/{campaign_id}/replies")
    for _ in range(30):
        if tess.get_by_text("No replies to answer right now.").count():
            break
        tess.wait_for_timeout(300)
        tess.reload()
    expect(tess.get_by_text("No replies to answer right now.")).to_be_visible()
    shot(tess, "3-texter-released")

    # The admin sees it counted on the campaign page.
    admin.goto(f"{base}/campaigns/{campaign_id}")
    expect(admin.get_by_text(re.compile(r"^\s*1\s*Released in the last hour"))).to_be_visible()

    # A second texter joins through the replies link, claims it and answers.
    rob = person(browser, live, second_email)
    rob.goto(replies_link)
    rob.get_by_role("button", name="Join campaign").click()
    expect(rob.get_by_text("You joined Early vote.")).to_be_visible()
    rob.get_by_role("button", name="Get 25 more replies to answer").click()
    expect(rob.get_by_text("You got 1 of")).to_be_visible()
    shot(rob, "4-second-texter-claimed")
    rob.get_by_role("link", name="Replies", exact=True).click()
    rob.get_by_role("link", name=re.compile("Jamie Voter")).click()
    expect(rob.get_by_text("Yes! Where do I vote early?")).to_be_visible()
    rob.get_by_label("Reply").fill("At the town hall, 9am to 5pm. Thanks!")
    rob.get_by_role("button", name="Send", exact=True).click()
    expect(rob.locator(".bubble.out", has_text="At the town hall")).to_be_visible()
    expect(rob.get_by_text("released in")).to_have_count(0)
    shot(rob, "5-second-texter-answered")

    # The first texter's campaign page, with Done Texting at the bottom.
    tess.goto(f"{base}/texting/campaigns/{campaign_id}")
    shot(tess, "6-texter-campaign-done-texting")
