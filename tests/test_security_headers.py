"""Every answer carries the browser-side defences; cookies are HttpOnly, Lax, Secure on https."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from spoke import create_app
from spoke.extensions import db
from tests.factories import PASSWORD, make_org, make_user

ROOT = Path(__file__).resolve().parent.parent


def csp_directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


@pytest.mark.parametrize("path", ["/login", "/no-such-page", "/static/css/spoke.css"])
def test_pages_errors_and_static_files_carry_the_headers(client, ctx, path):
    make_org()
    response = client.get(path)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    csp = csp_directives(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    response.close()


def test_htmx_is_told_not_to_inject_styles_or_eval(client, ctx):
    make_org()
    page = client.get("/login").get_data(as_text=True)
    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page).group(1)
    assert '"includeIndicatorStyles":false' in config
    assert '"allowEval":false' in config


def test_templates_have_no_inline_scripts_styles_or_handlers():
    """CSP blocks these, so none may exist: behaviour lives in static/js, looks in static/css."""
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)", r"\son[a-z]+\s*=", r"\sstyle\s*=", r"<style"):
            if re.search(pattern, text, re.IGNORECASE):
                offenders.append(f"{template.relative_to(ROOT)}: {pattern}")
        if re.search(r"hx-on|javascript:", text):
            offenders.append(f"{template.relative_to(ROOT)}: hx-on/javascript:")
    assert offenders == []


def login_cookie_flags(app) -> str:
    with app.app_context():
        make_user(make_org(), role="admin", email="sam@example.org")
    client = app.test_client()
    response = client.post("/login", data={"email": "sam@example.org", "password": PASSWORD})
    assert response.status_code == 303
    return response.headers["Set-Cookie"]


def test_session_cookie_is_httponly_and_lax_but_not_secure_over_http(app):
    cookie = login_cookie_flags(app)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_and_remember_cookies_are_secure_when_the_site_is_https(app, app_config):
    """`app` made the (empty) tables; a second app on them is served over https."""
    https_app = create_app({**app_config, "PUBLIC_BASE_URL": "https://spoke.example.org"})
    assert https_app.config["REMEMBER_COOKIE_SECURE"] is True
    assert https_app.config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert https_app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    try:
        cookie = login_cookie_flags(https_app)
    finally:
        with https_app.app_context():
            db.session.remove()
            db.engine.dispose()
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
