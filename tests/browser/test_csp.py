"""With the Content-Security-Policy on, htmx and spoke.js still work and nothing is blocked.

Chromium reports every blocked script, style or eval as a `securitypolicyviolation` event;
the flow below uses boosted links and forms, a live preview, an HTMX panel save, log out,
and the log-in throttle's refusal, then insists not one violation happened.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import CHROMIUM_ARGS, LiveServer, deadline, serve_app

pytestmark = pytest.mark.browser

STEP_MS = 10_000
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


@pytest.fixture
def strict_server(tmp_path: Path) -> Iterator[LiveServer]:
    with serve_app(tmp_path, LOGIN_LIMIT_PER_ACCOUNT="2 per 15 minutes") as server:
        yield server


def violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations")


def test_htmx_pages_work_under_the_policy(strict_server, chromium_path):
    from playwright.sync_api import expect, sync_playwright

    base = strict_server.url
    expect.set_options(timeout=STEP_MS)
    with deadline(60), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context().new_page()
            page.set_default_timeout(STEP_MS)
            page.add_init_script(RECORD_VIOLATIONS)
            seen: list[str] = []
            page.on("framenavigated", lambda frame: seen.extend(violations(frame.page) or []))
            response = page.goto(base)
            assert "default-src 'self'" in response.headers["content-security-policy"]
            page.get_by_label("Organization name").fill("Riverside")
            page.get_by_label("Your name").fill("Ada Organizer")
            page.get_by_label("Email").fill("ada@example.org")
            page.get_by_label("Password").fill("a long enough password")
            page.get_by_role("button", name="Create organization").click()
            expect(page.get_by_text("Your organization is ready.")).to_be_visible()
            assert page.evaluate("typeof window.htmx") == "object"
            assert page.evaluate("htmx.config.includeIndicatorStyles") is False

            page.get_by_role("link", name="Create your first campaign").click()  # a boosted link
            page.get_by_label("Title").fill("Policy check")
            page.get_by_role("button", name="Create campaign").click()
            expect(page.get_by_role("heading", name="Policy check", level=1)).to_be_visible()
            page.get_by_label("Initial message").fill("Hi {firstName}, vote!")
            expect(page.locator("#script-preview")).to_contain_text("vote!")  # live preview
            page.get_by_role("button", name="Save script").click()
            expect(page.locator("#script-panel").get_by_text("Saved")).to_be_visible()
            # htmx injected no <style> of its own.
            assert page.locator("head style").count() == 0

            page.get_by_role("button", name="Log out").click()
            expect(page.get_by_text("You are logged out.")).to_be_visible()
            for password, status in (("not my password", 200), ("nor this", 200)):
                page.get_by_label("Email").fill("ada@example.org")
                page.get_by_label("Password").fill(password)
                with page.expect_response(f"{base}/login") as answer:
                    page.get_by_role("button", name="Log in").click()
                assert answer.value.status == status  # htmx: form errors answer 200
                expect(page.get_by_role("alert")).to_have_text("Email or password is incorrect.")
            page.get_by_label("Password").fill("a long enough password")
            with page.expect_response(f"{base}/login") as answer:
                page.get_by_role("button", name="Log in").click()
            assert answer.value.status == 429
            expect(page.get_by_role("alert")).to_have_text(
                "Too many attempts, try again in 15 minutes."
            )
            assert seen + violations(page) == []
        finally:
            browser.close()
