"""Security defaults across the app: CSRF on every POST, no state change on GET."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from spoke.extensions import db
from spoke.models import Campaign
from tests.factories import make_org, make_user

# Pages whose GET shows a form and whose POST acts on it; every other POST route is POST-only.
FORM_PAGES = {"auth.setup", "auth.login", "auth.signup", "campaigns.new", "assignment.join"}


def test_no_route_changes_state_on_get(app):
    both = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if {"GET", "POST"} <= (rule.methods or set())
    }
    assert both <= FORM_PAGES, f"routes answering both GET and POST: {both - FORM_PAGES}"


@pytest.fixture
def csrf_app(app_config, backend):
    from spoke import create_app

    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_post_without_csrf_token_is_refused_and_changes_nothing(csrf_app):
    with csrf_app.app_context():
        org = make_org()
        admin = make_user(org, role="admin")
        before = db.session.scalar(select(func.count()).select_from(Campaign))
        admin_login = admin.get_id()
    client = csrf_app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = admin_login

    refused = client.post("/campaigns/new", data={"title": "Sneaky", "description": ""})
    assert refused.status_code == 400
    assert b"CSRF" in refused.data

    page = client.get("/campaigns/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    ok = client.post("/campaigns/new", data={"title": "Real", "csrf_token": token})
    assert ok.status_code == 303
    # htmx sends the token in a header, set on <body hx-headers>.
    header = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    ok = client.post("/campaigns/new", data={"title": "Via htmx"}, headers={"X-CSRFToken": header})
    assert ok.status_code in (200, 303)
    with csrf_app.app_context():
        titles = db.session.scalars(select(Campaign.title)).all()
        assert "Sneaky" not in titles and {"Real", "Via htmx"} <= set(titles)
        assert len(titles) == before + 2
