"""The campaign Dashboard in a browser under the app's Content-Security-Policy: the uPlot chart
draws with no console errors or CSP violations at 390x844 and 1280x800, the numbers poll
while the tab is visible, pause while it is hidden, and catch up when it comes back.

Screenshots: /work/notes/shots/dashboard-*.png (or $SPOKE_SHOTS_DIR).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from spoke import clock
from spoke.extensions import db
from spoke.models import CampaignContact
from spoke.texting import messaging
from tests.browser.conftest import CHROMIUM_ARGS, deadline, serve_app
from tests.factories import (
    PASSWORD,
    give_contacts,
    make_campaign,
    make_contacts,
    make_org,
    make_user,
)

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SPOKE_SHOTS_DIR", "/work/notes/shots"))
# The header the security-headers work sends (spoke/views/_web.py there).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
RECORD_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " from " + e.sourceFile);
});
"""


def _texting_history(campaign, texter) -> list[int]:
    """Two hours of texting in 15-minute steps, so the chart has a shape."""
    give_contacts(campaign, texter, 12)
    ids = list(
        db.session.scalars(
            db.select(CampaignContact.id)
            .where(CampaignContact.assignment_id.is_not(None))
            .order_by(CampaignContact.id)
        )
    )
    start = clock.now() - timedelta(hours=2)
    for i, contact_id in enumerate(ids[:10]):
        clock.freeze(start + timedelta(minutes=12 * i))
        messaging.send_initial(db.session, contact_id, texter.id)
        db.session.commit()
        if i % 2 == 0:
            contact = db.session.get(CampaignContact, contact_id)
            clock.advance(minutes=7)
            messaging.receive_inbound(
                db.session, contact.cell, "Sure", f"SM{contact_id}", contact_id=contact_id
            )
            db.session.commit()
    clock.freeze(None)
    return ids


def logged_in_page(browser, server, viewport: tuple[int, int], errors: list[str]):  # type: ignore[no-untyped-def]
    """A new page logged in as the admin, recording console errors and CSP violations."""
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    page.set_default_timeout(10_000)
    page.on("console", lambda m: m.type == "error" and errors.append(f"{m.text} {m.location}"))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script(RECORD_CSP)
    # The app has no favicon; the browser's own request for it is not the page's.
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page.goto(f"{server.url}/login")
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda u: "/login" not in u)
    return page


def test_dashboard_chart_under_csp_and_visible_only_polling(tmp_path, chromium_path):
    from playwright.sync_api import expect, sync_playwright

    with serve_app(tmp_path, DASHBOARD_POLL_SECONDS=1) as server:

        @server.app.after_request
        def add_csp(response):  # type: ignore[no-untyped-def]
            response.headers.setdefault("Content-Security-Policy", CSP)
            return response

        with server.app.app_context():
            org = make_org()
            make_user(org, role="owner", email="ada@example.org", name="Ada Admin")
            texter = make_user(org, name="Tess Texter")
            campaign = make_campaign(org, title="GOTV", status="started")
            make_contacts(campaign, 40)
            ids = _texting_history(campaign, texter)
            campaign_id, texter_id = campaign.id, texter.id
        url = f"{server.url}/campaigns/{campaign_id}/dashboard"
        with deadline(90), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
            SHOTS.mkdir(parents=True, exist_ok=True)
            for name, viewport in (("phone", (390, 844)), ("desktop", (1280, 800))):
                errors: list[str] = []
                page = logged_in_page(browser, server, viewport, errors)
                page.goto(f"{server.url}/campaigns/{campaign_id}")
                page.get_by_role("link", name="Dashboard").click()  # boosted: uPlot loads lazily
                page.wait_for_url(url)
                expect(page.locator("#dash-chart .uplot canvas")).to_be_visible()
                expect(page.locator("#dash-chart .u-legend")).to_contain_text("Texts sent")
                expect(page.locator("[data-stat=held-unsent]")).to_have_text("2")
                drawn = page.evaluate(
                    "(() => { const c = document.querySelector('#dash-chart canvas');"
                    " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                    " for (let i = 3; i < d.length; i += 4) if (d[i]) return true;"
                    " return false; })()"
                )
                assert drawn, "the chart canvas is blank"
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= viewport[0], f"{width}px wide on a {viewport[0]}px screen"
                page.screenshot(path=str(SHOTS / f"dashboard-{name}.png"), full_page=True)
                assert page.evaluate("window.__csp") == []
                assert errors == []
                page.close()

            # Polling at 1 s (configured): a new text shows up without a reload ...
            errors = []
            page = logged_in_page(browser, server, (1280, 800), errors)
            polls: list[str] = []

            def count_poll(request):  # type: ignore[no-untyped-def]
                if request.headers.get("hx-request") and "/dashboard" in request.url:
                    polls.append(request.url)

            page.on("request", count_poll)
            page.goto(url)
            with server.app.app_context():
                messaging.send_initial(db.session, ids[10], texter_id)
                db.session.commit()
            expect(page.locator("[data-stat=held-unsent]")).to_have_text("1")
            expect(page.locator("#dash-chart .uplot canvas")).to_be_visible()  # redrawn
            # ... hidden, the due poll is cancelled instead of sent ...
            page.evaluate(
                "Object.defineProperty(document, 'visibilityState', "
                "{get: () => 'hidden', configurable: true});"
                "document.dispatchEvent(new Event('visibilitychange'));"
            )
            page.wait_for_selector("#dashboard[data-poll-paused]", state="attached")
            sent_while_hidden = len(polls)
            with server.app.app_context():
                messaging.send_initial(db.session, ids[11], texter_id)
                db.session.commit()
            page.wait_for_timeout(2500)  # two poll periods
            assert len(polls) == sent_while_hidden
            expect(page.locator("[data-stat=held-unsent]")).to_have_text("1")
            # ... and coming back polls at once.
            page.evaluate(
                "Object.defineProperty(document, 'visibilityState', "
                "{get: () => 'visible', configurable: true});"
                "document.dispatchEvent(new Event('visibilitychange'));"
            )
            expect(page.locator("[data-stat=held-unsent]")).to_have_text("0")
            assert len(polls) > sent_while_hidden
            assert errors == []
            browser.close()
