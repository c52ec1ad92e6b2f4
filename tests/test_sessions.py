"""Sessions end for real: logout, a password set, and a copied cookie after logout."""

from __future__ import annotations

import pytest
from flask import g
from sqlalchemy import select

from spoke.accounts import accounts, admins
from spoke.extensions import db
from spoke.models import User
from tests.factories import PASSWORD, make_org, make_user


@pytest.fixture
def sam(app):
    with app.app_context():
        org = make_org()
        make_user(org, role="admin", email="sam@example.org", name="Sam Admin")


def logged_in_client(app):
    client = app.test_client()
    response = client.post("/login", data={"email": "sam@example.org", "password": PASSWORD})
    assert response.status_code == 303
    assert client.get("/campaigns").status_code == 200
    return client


def session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_a_cookie_copied_before_logout_no_longer_opens_campaigns(app, sam):
    client = logged_in_client(app)
    copied = session_cookie(client)
    assert client.post("/logout").status_code == 303

    thief = app.test_client()
    thief.set_cookie("session", copied, domain="localhost")
    response = thief.get("/campaigns")
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_logout_ends_the_users_other_browser_sessions_too(app, sam):
    """Sessions are per user: one token for all of a user's browsers, rotated at logout."""
    laptop, phone = logged_in_client(app), logged_in_client(app)
    assert laptop.post("/logout").status_code == 303
    assert phone.get("/campaigns").status_code == 302
    # Logging in again works, and only the new session is valid.
    again = logged_in_client(app)
    assert again.get("/campaigns").status_code == 200
    assert laptop.get("/campaigns").status_code == 302


def test_setting_a_password_ends_existing_sessions(app, sam):
    client = logged_in_client(app)
    with app.app_context():
        admins.create_admin(db.session, "sam@example.org", "Sam Admin", "a new password")
    assert client.get("/campaigns").status_code == 302
    login = {"email": "sam@example.org", "password": "a new password"}
    assert app.test_client().post("/login", data=login).status_code == 303


def test_end_sessions_rotates_the_token(app, sam):
    client = logged_in_client(app)
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "sam@example.org")).one()
        before = user.session_token
        accounts.end_sessions(db.session, user.id)
        db.session.commit()
        assert user.session_token != before
    assert client.get("/campaigns").status_code == 302


@pytest.mark.parametrize("login_id", ["1", "1:", "1:wrong-token", "x:y", "²:abc", ""])
def test_a_session_without_the_current_token_is_logged_out(app, sam, login_id):
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = login_id
    assert client.get("/campaigns").status_code == 302


def test_the_login_identity_carries_the_session_token(ctx, client):
    org = make_org()
    user = make_user(org, role="admin")
    assert user.get_id() == f"{user.id}:{user.session_token}"
    with client.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
    g.pop("_login_user", None)
    assert client.get("/campaigns").status_code == 200
