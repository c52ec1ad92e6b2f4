"""Release Unsent Initials as people use it, in Chromium at phone size.

The admin turns on Release Unsent Initials after 5 minutes; a texter given three contacts
sends one and sees "Unsent texts go back to the pool in 5 min" on their initials; the
(test) clock passes the window and the embedded ticker takes the other two back; the admin
sees them counted. Screenshots go to /work/notes/shots/ (or $SPOKE_SHOTS_DIR).
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
        with server.app.app_context():
            org = make_org("Get Out The Vote")
            admin = make_user(org, role="owner", name="Ada Admin", email="ada@example.org")
            texter = make_user(org, name="Tess Texter", email="tess@example.org")
            campaign = make_campaign(org, status="started", title="Early vote")
            make_contacts(campaign, 3, first_name="Jamie", last_name="Voter")
            give_contacts(campaign, texter, 3, actor=admin)
            ids = {"campaign": campaign.id, "users": (admin.email, texter.email)}
            db.session.remove()
        try:
            yield {"url": server.url, **ids}
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
    page.goto(live["url"] + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("password123")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")
    return page


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"unsent-{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: horizontal scroll ({width}px)"


def test_unsent_initials_count_down_and_go_back_to_the_pool(browser, live):
    expect = playwright.expect
    base, campaign_id = live["url"], live["campaign"]
    admin_email, texter_email = live["users"]

    admin = person(browser, live, admin_email)
    admin.goto(f"{base}/campaigns/{campaign_id}")
    admin.get_by_label("Release Unsent Initials", exact=True).check()
    admin.wait_for_load_state("networkidle")
    minutes = admin.get_by_label("Release unsent initials held for how many minutes?")
    minutes.fill("2")  # too short: refused with the range, nothing saved
    minutes.press("Tab")
    expect(admin.get_by_text("Enter a whole number from 5 to 10,080.")).to_be_visible()
    admin.wait_for_load_state("networkidle")  # the refusal's swap is done before we type again
    minutes = admin.get_by_label("Release unsent initials held for how many minutes?")
    minutes.fill("5")
    minutes.press("Tab")
    unsent = admin.locator("legend", has_text="Release Unsent Initials")
    expect(unsent.get_by_role("status")).to_have_text("Saved")
    admin.reload()
    expect(minutes).to_have_value("5")
    expect(admin.get_by_label("Release Unsent Initials", exact=True)).to_be_checked()
    shot(admin, "1-admin-settings")

    tess = person(browser, live, texter_email)
    tess.goto(f"{base}/texting/campaigns/{campaign_id}")
    expect(tess.get_by_text("Unsent texts go back to the pool in 5 min")).to_be_visible()
    tess.get_by_role("link", name="Send initials").click()
    tess.get_by_role("button", name="Send", exact=True).click()
    expect(tess.get_by_text("Sent to Jamie Voter.")).to_be_visible()
    clock.advance(minutes=3)
    tess.reload()
    expect(tess.get_by_text("Unsent texts go back to the pool in 2 min")).to_be_visible()
    shot(tess, "2-texter-countdown")

    clock.advance(minutes=2)
    tess.goto(f"{base}/texting/campaigns/{campaign_id}")
    for _ in range(30):
        if tess.get_by_role("link", name="Send initials").count() == 0:
            break
        tess.wait_for_timeout(300)
        tess.reload()
    expect(tess.get_by_role("link", name="Send initials")).to_have_count(0)
    expect(tess.get_by_text(re.compile("Unsent texts go back"))).to_have_count(0)
    shot(tess, "3-texter-released")

    admin.goto(f"{base}/campaigns/{campaign_id}")
    expect(
        admin.get_by_text(re.compile(r"^\s*2\s*Unsent initials released in the last hour"))
    ).to_be_visible()
    shot(admin, "4-admin-stats")
