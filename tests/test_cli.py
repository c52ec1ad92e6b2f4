"""`flask create-admin`: first-run setup from the shell, or an admin for the existing org."""

from __future__ import annotations

from sqlalchemy import func, select

from spoke.extensions import db
from spoke.models import Membership, Organization, User
from tests.factories import make_org, make_user


def create_admin(runner, *args: str, input: str | None = None):
    return runner.invoke(args=["create-admin", *args], input=input)


def roles() -> dict[str, str]:
    db.session.expire_all()
    rows = db.session.execute(select(User.email, Membership.role).join(Membership.user))
    return {email: role for email, role in rows}


def test_first_run_needs_an_org_name(runner, ctx):
    result = create_admin(
        runner, "--email", "a@example.org", "--name", "Ada", "--password", "password123"
    )
    assert result.exit_code == 1
    assert "No organization exists yet: give its name with --org." in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_first_run_creates_the_org_and_its_owner(runner, client, ctx):
    result = create_admin(
        runner,
        "--email", " Ada@Example.org ",
        "--name", "Ada Lovelace",
        "--password", "password123",
        "--org", "Riverside Votes",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert 'Created organization "Riverside Votes" with owner ada@example.org.' in result.output
    assert [o.name for o in db.session.scalars(select(Organization))] == ["Riverside Votes"]
    assert roles() == {"ada@example.org": "owner"}
    # The web app is now set up: no setup page, and the owner can log in.
    assert client.get("/setup").status_code == 404
    login = client.post("/login", data={"email": "ada@example.org", "password": "password123"})
    assert login.status_code == 303


def test_with_an_org_adds_a_new_admin(runner, ctx):
    org = make_org("Riverside Votes")
    make_user(org, "owner", email="olive@example.org")
    result = create_admin(
        runner, "--email", "bo@example.org", "--name", "Bo Admin", "--password", "password123"
    )
    assert result.exit_code == 0, result.output
    assert 'Created bo@example.org: admin of "Riverside Votes".' in result.output
    assert roles() == {"olive@example.org": "owner", "bo@example.org": "admin"}
    assert db.session.scalar(select(func.count()).select_from(Organization)) == 1


def test_with_an_org_updates_an_existing_user(runner, ctx):
    org = make_org("Riverside Votes")
    make_user(org, "texter", email="tia@example.org", name="Tia")
    loner = make_user(None, email="lee@example.org")
    result = create_admin(
        runner,
        "--email", "TIA@example.org",
        "--name", "Tia Admin",
        "--password", "new-password",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert 'Updated tia@example.org: admin of "Riverside Votes".' in result.output
    tia = db.session.scalars(select(User).where(User.email == "tia@example.org")).one()
    assert tia.name == "Tia Admin"
    assert tia.check_password("new-password")
    create_admin(runner, "--email", loner.email, "--name", "Lee", "--password", "password123")
    assert roles() == {"tia@example.org": "admin", "lee@example.org": "admin"}


def test_an_owner_stays_owner(runner, ctx):
    org = make_org()
    make_user(org, "owner", email="olive@example.org")
    result = create_admin(
        runner, "--email", "olive@example.org", "--name", "Olive", "--password", "password123"
    )
    assert result.exit_code == 0, result.output
    assert roles() == {"olive@example.org": "owner"}


def test_bad_input_is_a_clear_error(runner, ctx):
    make_org()
    result = create_admin(runner, "--email", "nope", "--name", "X", "--password", "short")
    assert result.exit_code == 1
    assert "Error: Enter an email address like name@example.org." in result.output
    assert "Use at least 8 characters." in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_password_is_prompted_when_left_out(runner, ctx):
    make_org()
    result = create_admin(
        runner, "--email", "pat@example.org", "--name", "Pat", input="password123\npassword123\n"
    )
    assert result.exit_code == 0, result.output
    assert roles() == {"pat@example.org": "admin"}


def memberships(email: str) -> dict[str, str]:
    """The user's organizations by name, with their role in each."""
    db.session.expire_all()
    rows = db.session.execute(
        select(Organization.name, Membership.role)
        .join(Membership, Membership.organization_id == Organization.id)
        .join(User, User.id == Membership.user_id)
        .where(User.email == email)
    )
    return {name: role for name, role in rows}


def test_org_named_after_setup_is_created_with_the_user_as_owner(runner, ctx):
    org = make_org("Riverside Votes")
    make_user(org, "owner", email="olive@example.org")
    make_user(org, "texter", email="tia@example.org")
    result = create_admin(
        runner,
        "--email", "tia@example.org",
        "--name", "Tia",
        "--password", "password123",
        "--org", " Hillside Votes ",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert 'Created organization "Hillside Votes" with owner tia@example.org.' in result.output
    names = set(db.session.scalars(select(Organization.name)))
    assert names == {"Riverside Votes", "Hillside Votes"}
    # Riverside is untouched: Tia stays a texter there.
    assert memberships("tia@example.org") == {
        "Riverside Votes": "texter",
        "Hillside Votes": "owner",
    }
    assert memberships("olive@example.org") == {"Riverside Votes": "owner"}


def test_org_named_that_exists_gets_the_admin(runner, ctx):
    make_org("Riverside Votes")
    make_org("Hillside Votes")
    result = create_admin(
        runner,
        "--email", "bo@example.org",
        "--name", "Bo",
        "--password", "password123",
        "--org", "hillside votes",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert 'Created bo@example.org: admin of "Hillside Votes".' in result.output
    assert memberships("bo@example.org") == {"Hillside Votes": "admin"}
    assert db.session.scalar(select(func.count()).select_from(Organization)) == 2


def test_an_ambiguous_org_name_is_refused_and_changes_nothing(runner, ctx):
    first, second = make_org("Riverside Votes"), make_org("Riverside Votes")
    result = create_admin(
        runner,
        "--email", "bo@example.org",
        "--name", "Bo",
        "--password", "password123",
        "--org", "Riverside Votes",
    )  # fmt: skip
    assert result.exit_code == 1
    assert (
        f'2 organizations are named "Riverside Votes" (ids {first.id}, {second.id}), so it is '
        "not clear which one you mean. Nothing was changed."
    ) in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    assert db.session.scalar(select(func.count()).select_from(Organization)) == 2
