"""First-run setup, log in, sign up, log out, safe `next`, and the friendly error pages."""

from __future__ import annotations

import threading

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spoke.accounts import accounts
from spoke.extensions import db
from spoke.models import Membership, Organization, User
from tests.factories import PASSWORD, make_org, make_user

SETUP = {
    "org_name": "Riverside Votes",
    "name": "Ada Owner",
    "email": "  Ada@Example.ORG ",
    "password": "correct horse",
}


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def control(page: BeautifulSoup, label_text: str):
    """The form control a person finds by its visible label."""
    label = page.find("label", string=lambda s: s and s.strip() == label_text)
    assert label is not None, f"no label {label_text!r}"
    return page.find(id=label["for"])


def error_for(page: BeautifulSoup, label_text: str) -> str | None:
    """The error message tied to a control (via aria-describedby), if any."""
    field = control(page, label_text)
    for ref in (field.get("aria-describedby") or "").split():
        node = page.find(id=ref)
        if node is not None and "field-error" in node.get("class", []):
            return node.get_text(" ", strip=True)
    return None


def button(page: BeautifulSoup, text: str):
    return page.find("button", string=lambda s: s and s.strip() == text)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def forms_have_actions(page: BeautifulSoup) -> None:
    forms = page.find_all("form")
    assert forms
    for form in forms:
        assert form.get("action"), form


# ---- setup -------------------------------------------------------------------------------


def test_before_setup_every_page_goes_to_setup(client):
    for path in ("/", "/login", "/signup", "/people", "/no-such-page"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.location == "/setup"
    static = client.get("/static/css/spoke.css")
    assert static.status_code == 200
    static.close()


def test_setup_page_has_the_fields(client):
    page = soup(client.get("/setup"))
    for label in ("Organization name", "Your name", "Email", "Password"):
        assert control(page, label) is not None
    assert control(page, "Email")["type"] == "email"
    assert control(page, "Password")["type"] == "password"
    assert button(page, "Create organization") is not None
    forms_have_actions(page)


def test_setup_shows_errors_next_to_fields_and_keeps_values(client, ctx):
    response = client.post(
        "/setup",
        data={"org_name": "", "name": "Ada", "email": "not-an-email", "password": "short"},
    )
    assert response.status_code == 422
    page = soup(response)
    assert error_for(page, "Organization name") == "Enter the organization's name."
    assert error_for(page, "Email") == "Enter an email address like name@example.org."
    assert error_for(page, "Password") == "Use at least 8 characters."
    assert error_for(page, "Your name") is None
    assert control(page, "Your name")["value"] == "Ada"
    assert control(page, "Email")["value"] == "not-an-email"
    assert not control(page, "Password").get("value")  # passwords are never echoed
    assert count(Organization) == 0 and count(User) == 0


def test_setup_requires_every_field(client, ctx):
    page = soup(client.post("/setup", data={}))
    for label in ("Organization name", "Your name", "Email", "Password"):
        assert error_for(page, label), label
    assert count(Organization) == 0


def test_setup_creates_org_and_owner_and_logs_in(client, ctx):
    response = client.post("/setup", data=SETUP)
    assert response.status_code == 303
    assert response.location == "/campaigns"
    org = db.session.scalars(select(Organization)).one()
    assert org.name == "Riverside Votes"
    user = db.session.scalars(select(User)).one()
    assert user.email == "ada@example.org"
    assert user.check_password("correct horse")
    assert user.password_hash != "correct horse"
    membership = db.session.scalars(select(Membership)).one()
    assert (membership.organization_id, membership.user_id, membership.role) == (
        org.id,
        user.id,
        "owner",
    )
    # Logged in as the owner: the staff-only People page opens and lists them.
    people = client.get("/people")
    assert people.status_code == 200
    assert "ada@example.org" in people.get_data(as_text=True)


def test_setup_is_404_afterwards_even_by_post(client, ctx):
    assert client.post("/setup", data=SETUP).status_code == 303
    assert client.get("/setup").status_code == 404
    other = client.application.test_client()
    second = dict(SETUP, email="mallory@example.org", org_name="Takeover")
    assert other.post("/setup", data=second).status_code == 404
    assert other.get("/setup").status_code == 404
    assert count(Organization) == 1
    assert count(User) == 1
    assert db.session.scalar(select(func.count()).where(Membership.role == "owner")) == 1


def test_setup_is_404_when_an_org_already_exists(client, ctx):
    make_org()
    assert client.get("/setup").status_code == 404
    assert client.post("/setup", data=SETUP).status_code == 404
    assert count(User) == 0
    assert client.get("/login").status_code == 200


def test_concurrent_setups_create_one_org(app, ctx):
    """Two setups at once: exactly one wins, the other is told setup is done."""
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(n: int) -> None:
        with app.app_context():
            with Session(db.engine) as session:
                barrier.wait()
                try:
                    accounts.setup_organization(
                        session, f"Org {n}", f"Owner {n}", f"owner{n}@example.org", "password123"
                    )
                    outcomes.append("created")
                except accounts.AlreadySetUp:
                    outcomes.append("refused")

    threads = [threading.Thread(target=run, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["created", "refused"]
    assert count(Organization) == 1
    assert count(Membership) == 1


# ---- log in / log out --------------------------------------------------------------------


@pytest.fixture
def member(ctx):
    org = make_org()
    return make_user(org, role="admin", email="sam@example.org", name="Sam Admin")


def test_login_page(client, member):
    page = soup(client.get("/login"))
    assert control(page, "Email")["type"] == "email"
    assert control(page, "Password")["type"] == "password"
    assert button(page, "Log in") is not None
    assert page.find("a", string="Sign up")["href"] == "/signup"
    forms_have_actions(page)


def test_login_ok_is_case_insensitive(client, member):
    response = client.post("/login", data={"email": "  SAM@Example.org", "password": PASSWORD})
    assert response.status_code == 303
    assert response.location == "/"
    assert client.get("/people").status_code == 200


@pytest.mark.parametrize(
    "email,password", [("sam@example.org", "wrong-password"), ("nobody@example.org", PASSWORD)]
)
def test_login_refused_with_one_message(client, member, email, password):
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 422
    page = soup(response)
    assert page.find(role="alert").get_text(strip=True) == "Email or password is incorrect."
    assert control(page, "Email")["value"] == email
    # Still logged out.
    assert client.get("/people").status_code == 302


def test_login_honors_a_local_next(client, member):
    response = client.post(
        "/login?next=/people", data={"email": "sam@example.org", "password": PASSWORD}
    )
    assert response.location == "/people"


@pytest.mark.parametrize(
    "target", ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)"]
)
def test_login_ignores_an_unsafe_next(client, member, target):
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": "sam@example.org", "password": PASSWORD},
    )
    assert response.status_code == 303
    assert response.location == "/"


def test_login_form_and_links_keep_next(client, member):
    page = soup(client.get("/login?next=/join/abc"))
    assert page.find("form", attrs={"method": "post"})["action"] == "/login?next=/join/abc"
    assert page.find("a", string="Sign up")["href"] == "/signup?next=/join/abc"
    evil = soup(client.get("/login?next=https://evil.example"))
    assert evil.find("a", string="Sign up")["href"] == "/signup"


def test_protected_page_sends_to_login_with_next(client, member):
    response = client.get("/people")
    assert response.status_code == 302
    assert response.location == "/login?next=%2Fpeople"


def test_logged_in_user_opening_login_goes_on(client, auth, member):
    auth.login_as(member)
    assert client.get("/login?next=/teams").location == "/teams"


def test_logout(client, auth, member):
    auth.login("sam@example.org")
    assert client.get("/people").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 303
    assert response.location == "/login"
    assert "You are logged out." in client.get("/login").get_data(as_text=True)
    assert client.get("/people").status_code == 302
    assert client.get("/logout").status_code == 405


# ---- sign up -----------------------------------------------------------------------------


def test_signup_page(client, member):
    page = soup(client.get("/signup?next=/join/abc"))
    for label in ("Your name", "Email", "Password"):
        assert control(page, label) is not None
    assert button(page, "Sign up") is not None
    assert page.find("a", string="Log in")["href"] == "/login?next=/join/abc"
    forms_have_actions(page)


def test_signup_creates_user_without_membership_and_follows_next(client, member):
    response = client.post(
        "/signup?next=/join/abc",
        data={"name": "Tia Texter", "email": " Tia@Example.org", "password": "password123"},
    )
    assert response.status_code == 303
    assert response.location == "/join/abc"
    user = db.session.scalars(select(User).where(User.email == "tia@example.org")).one()
    assert user.name == "Tia Texter"
    assert user.memberships == []
    with client.session_transaction() as sess:
        assert sess["_user_id"] == user.get_id()


def test_signup_ignores_an_unsafe_next(client, member):
    response = client.post(
        "/signup",
        query_string={"next": "//evil.example"},
        data={"name": "Tia", "email": "tia@example.org", "password": "password123"},
    )
    assert response.location == "/"


def test_signup_with_a_taken_email_offers_login(client, member):
    response = client.post(
        "/signup?next=/join/abc",
        data={"name": "Sam Again", "email": "SAM@example.org", "password": "password123"},
    )
    assert response.status_code == 422
    page = soup(response)
    assert error_for(page, "Email") == "An account with this email already exists. Log in instead."
    link = page.find("a", string="Log in instead.")
    assert link["href"] == "/login?next=/join/abc"
    assert control(page, "Your name")["value"] == "Sam Again"
    assert count(User) == 1


def test_signup_validates_fields(client, member):
    page = soup(client.post("/signup", data={"name": " ", "email": "x@y", "password": "1234567"}))
    assert error_for(page, "Your name") == "Enter your name."
    assert error_for(page, "Email") == "Enter an email address like name@example.org."
    assert error_for(page, "Password") == "Use at least 8 characters."
    assert count(User) == 1


def test_form_errors_answer_200_to_htmx_so_they_are_swapped_in(client, member):
    response = client.post(
        "/login",
        data={"email": "sam@example.org", "password": "nope"},
        headers={"HX-Request": "true", "HX-Boosted": "true"},
    )
    assert response.status_code == 200
    assert "Email or password is incorrect." in response.get_data(as_text=True)


# ---- error pages -------------------------------------------------------------------------


def test_user_without_membership_gets_a_friendly_403(client, auth, member):
    loner = make_user(None, email="loner@example.org")
    auth.login_as(loner)
    response = client.get("/people")
    assert response.status_code == 403
    page = soup(response)
    assert "You are not a member of an organization." in page.get_text()
    assert page.find("h1").get_text(strip=True) == "You can't open this page"
    assert button(page, "Log out") is not None  # the normal layout, not a bare error


def test_404_page_uses_the_layout(client, member):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    page = soup(response)
    assert page.find("h1").get_text(strip=True) == "Page not found"
    assert page.find("a", class_="brand") is not None


def test_boosted_navigation_to_an_error_page_loads_it_for_real(client, auth, member):
    """htmx does not swap 4xx answers, so it is told to load the page itself."""
    loner = make_user(None, email="loner@example.org")
    auth.login_as(loner)
    boosted = {"HX-Request": "true", "HX-Boosted": "true"}
    response = client.get("/people?tab=1", headers=boosted)
    assert response.status_code == 403
    assert response.headers["HX-Redirect"] == "/people?tab=1"
    assert client.get("/nowhere", headers=boosted).headers["HX-Redirect"] == "/nowhere"
    assert "HX-Redirect" not in client.get("/people").headers  # a real load: no loop
