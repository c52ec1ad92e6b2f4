"""The People page (roles and their rules) and the Teams page."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from spoke.extensions import db
from spoke.models import Membership, Team, TeamMember
from tests.factories import make_org, make_user

HX = {"HX-Request": "true"}


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def control(page: BeautifulSoup, label_text: str):
    """A control found by its <label> text or its aria-label."""
    label = page.find("label", string=lambda s: s and s.strip() == label_text)
    if label is not None:
        return page.find(id=label["for"])
    return page.find(attrs={"aria-label": label_text})


def options(select_tag) -> list[str]:
    return [option["value"] for option in select_tag.find_all("option") if option["value"]]


def role_of(membership: Membership) -> str:
    db.session.expire_all()
    return db.session.get(Membership, membership.id).role


def membership(org, user) -> Membership:
    return db.session.scalars(
        select(Membership).where(
            Membership.organization_id == org.id, Membership.user_id == user.id
        )
    ).one()


@pytest.fixture
def world(ctx):
    org = make_org("Riverside")
    people = SimpleNamespace(org=org)
    people.owner = make_user(org, "owner", name="Olive Owner", email="olive@example.org")
    people.admin = make_user(org, "admin", name="Adam Admin", email="adam@example.org")
    people.sv = make_user(org, "supervolunteer", name="Sue Super", email="sue@example.org")
    people.texter = make_user(org, "texter", name="Tom Texter", email="tom@example.org")
    people.other_org = make_org("Elsewhere")
    people.stranger = make_user(people.other_org, "texter", name="Stan Stranger")
    for key in ("owner", "admin", "sv", "texter"):
        setattr(people, f"{key}_m", membership(org, getattr(people, key)))
    people.stranger_m = membership(people.other_org, people.stranger)
    return people


def post_role(client, target: Membership, role: str, hx: bool = False):
    return client.post(f"/people/{target.id}/role", data={"role": role}, headers=HX if hx else None)


# ---- People ------------------------------------------------------------------------------


def test_people_page_lists_members_with_a_labelled_role_select(client, auth, world):
    auth.login_as(world.owner)
    response = client.get("/people")
    assert response.status_code == 200
    page = soup(response)
    rows = [
        (
            row.find(class_="member-name").get_text(strip=True),
            row.find(class_="member-email").get_text(strip=True),
        )
        for row in page.find("ul", class_="members").find_all("li")
    ]
    assert ("Tom Texter", "tom@example.org") in rows
    assert len(rows) == 4  # not the other organization's member
    assert "Stan Stranger" not in page.get_text()
    select_tag = control(page, "Role for Tom Texter")
    assert select_tag.name == "select"
    assert select_tag.find("option", selected=True)["value"] == "texter"
    assert options(select_tag) == ["owner", "admin", "supervolunteer", "texter"]
    form = select_tag.find_parent("form")
    assert form["action"] == f"/people/{world.texter_m.id}/role"
    assert form.find("button", string="Save") is not None
    for form in page.find_all("form"):
        assert form.get("action")


def test_admin_sees_owner_rows_read_only_and_cannot_offer_owner(client, auth, world):
    auth.login_as(world.admin)
    page = soup(client.get("/people"))
    assert control(page, "Role for Olive Owner") is None
    assert options(control(page, "Role for Tom Texter")) == ["admin", "supervolunteer", "texter"]


def test_supervolunteer_can_view_but_not_change(client, auth, world):
    auth.login_as(world.sv)
    page = soup(client.get("/people"))
    assert "tom@example.org" in page.get_text()
    assert page.find("select") is None
    assert post_role(client, world.texter_m, "admin").status_code == 403
    assert role_of(world.texter_m) == "texter"


def test_texter_cannot_see_or_change_people(client, auth, world):
    auth.login_as(world.texter)
    response = client.get("/people")
    assert response.status_code == 403
    assert "Your role does not allow this." in response.get_data(as_text=True)
    assert post_role(client, world.texter_m, "owner").status_code == 403
    assert role_of(world.texter_m) == "texter"


def test_owner_changes_a_role_inline_with_htmx(client, auth, world):
    auth.login_as(world.owner)
    response = post_role(client, world.texter_m, "admin", hx=True)
    assert response.status_code == 200
    row = soup(response)
    li = row.find("li")
    assert li["id"] == f"member-{world.texter_m.id}"
    assert li["hx-target"] == "this" and li["hx-swap"] == "outerHTML"
    assert row.find(class_="saved").get_text(strip=True) == "Saved"
    assert control(row, "Role for Tom Texter").find("option", selected=True)["value"] == "admin"
    assert row.find("html") is None  # only the fragment
    assert role_of(world.texter_m) == "admin"


def test_owner_changes_a_role_without_javascript(client, auth, world):
    auth.login_as(world.owner)
    response = post_role(client, world.texter_m, "supervolunteer")
    assert response.status_code == 303
    assert response.location == "/people"
    assert role_of(world.texter_m) == "supervolunteer"
    page = soup(client.get("/people"))
    assert "Saved: Tom Texter is now supervolunteer." in page.get_text()


def test_owner_can_grant_owner(client, auth, world):
    auth.login_as(world.owner)
    post_role(client, world.admin_m, "owner", hx=True)
    assert role_of(world.admin_m) == "owner"


def test_admin_cannot_grant_owner(client, auth, world):
    auth.login_as(world.admin)
    response = post_role(client, world.texter_m, "owner", hx=True)
    assert response.status_code == 200
    row = soup(response)
    assert row.find(role="alert").get_text(strip=True) == (
        "Only an owner can grant or remove the owner role."
    )
    assert row.find(class_="saved") is None
    assert role_of(world.texter_m) == "texter"
    # The plain form: back to the page, reason shown there.
    response = post_role(client, world.texter_m, "owner")
    assert response.status_code == 303
    assert "Only an owner can grant or remove the owner role." in client.get("/people").get_data(
        as_text=True
    )
    assert role_of(world.texter_m) == "texter"


def test_admin_cannot_demote_an_owner(client, auth, world):
    auth.login_as(world.admin)
    response = post_role(client, world.owner_m, "texter", hx=True)
    assert "Only an owner can grant or remove the owner role." in response.get_data(as_text=True)
    assert role_of(world.owner_m) == "owner"


def test_admin_sets_non_owner_roles(client, auth, world):
    auth.login_as(world.admin)
    for role in ("supervolunteer", "admin", "texter"):
        assert post_role(client, world.texter_m, role, hx=True).status_code == 200
        assert role_of(world.texter_m) == role


def test_last_owner_cannot_be_demoted(client, auth, world):
    auth.login_as(world.owner)
    response = post_role(client, world.owner_m, "admin", hx=True)
    assert soup(response).find(role="alert").get_text(strip=True) == (
        "An organization needs at least one owner."
    )
    assert role_of(world.owner_m) == "owner"
    # With a second owner, the first may step down.
    post_role(client, world.admin_m, "owner", hx=True)
    assert post_role(client, world.owner_m, "admin", hx=True).status_code == 200
    assert role_of(world.owner_m) == "admin"
    assert role_of(world.admin_m) == "owner"


def test_unknown_role_is_refused(client, auth, world):
    auth.login_as(world.owner)
    response = post_role(client, world.texter_m, "emperor", hx=True)
    assert "Choose one of: owner, admin, supervolunteer, texter." in response.get_data(as_text=True)
    assert role_of(world.texter_m) == "texter"


def test_member_of_another_org_is_404(client, auth, world):
    auth.login_as(world.owner)
    assert post_role(client, world.stranger_m, "admin").status_code == 404
    assert post_role(client, world.stranger_m, "admin", hx=True).status_code == 404
    assert role_of(world.stranger_m) == "texter"
    assert client.post("/people/99999/role", data={"role": "admin"}).status_code == 404


# ---- Teams -------------------------------------------------------------------------------


def make_team(org, name: str, *members) -> Team:
    team = Team(organization_id=org.id, name=name)
    db.session.add(team)
    db.session.flush()
    for user in members:
        db.session.add(TeamMember(team_id=team.id, user_id=user.id))
    db.session.commit()
    return team


def team_names(org) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(Team.name).where(Team.organization_id == org.id)))


def team_member_ids(team: Team) -> set[int]:
    db.session.expire_all()
    return set(db.session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team.id)))


def test_create_team(client, auth, world):
    auth.login_as(world.admin)
    page = soup(client.get("/teams"))
    name_input = control(page, "Team name")
    form = name_input.find_parent("form")
    assert form["action"] == "/teams"
    assert form.find("button", string="Create team") is not None
    response = client.post("/teams", data={"name": "  Canvassers "})
    assert response.status_code == 303
    assert team_names(world.org) == ["Canvassers"]
    team = db.session.scalars(select(Team)).one()
    assert response.location == f"/teams#team-{team.id}"
    page = soup(client.get("/teams"))
    assert page.find("section", id=f"team-{team.id}").find("h2").get_text(" ", strip=True) == (
        "Canvassers (0)"
    )


def test_duplicate_team_name_is_an_error_next_to_the_field(client, auth, world):
    make_team(world.org, "Canvassers")
    make_team(world.other_org, "Phone bank")  # another org's names don't clash
    auth.login_as(world.owner)
    response = client.post("/teams", data={"name": "canvassers"})
    assert response.status_code == 422
    page = soup(response)
    field = control(page, "Team name")
    assert field["value"] == "canvassers"
    error = page.find(id=field["aria-describedby"])
    assert error.get_text(strip=True) == "A team with this name already exists."
    assert client.post("/teams", data={"name": "Phone bank"}).status_code == 303
    assert sorted(team_names(world.org)) == ["Canvassers", "Phone bank"]


def test_blank_team_name_is_refused(client, auth, world):
    auth.login_as(world.owner)
    response = client.post("/teams", data={"name": "   "})
    assert response.status_code == 422
    assert "Enter a team name." in response.get_data(as_text=True)
    assert team_names(world.org) == []


def test_add_member_with_htmx_returns_the_team_fragment(client, auth, world):
    team = make_team(world.org, "Canvassers")
    auth.login_as(world.admin)
    page = soup(client.get("/teams"))
    picker = control(page, "Add member")
    assert picker.name == "select"
    assert picker.find_parent("form")["action"] == f"/teams/{team.id}/members"
    assert picker.find_parent("form").find("button", string="Add") is not None
    assert f"{world.texter.id}" in options(picker)
    assert f"{world.stranger.id}" not in options(picker)

    response = client.post(
        f"/teams/{team.id}/members", data={"user_id": world.texter.id}, headers=HX
    )
    assert response.status_code == 200
    fragment = soup(response)
    section = fragment.find("section")
    assert section["id"] == f"team-{team.id}"
    assert section["hx-target"] == "this" and section["hx-swap"] == "outerHTML"
    assert "Tom Texter" in section.get_text()
    remove = fragment.find("button", attrs={"aria-label": "Remove Tom Texter from Canvassers"})
    assert remove.get_text(strip=True) == "Remove"
    assert remove.find_parent("form")["action"] == (
        f"/teams/{team.id}/members/{world.texter.id}/remove"
    )
    assert f"{world.texter.id}" not in options(control(fragment, "Add member"))
    assert team_member_ids(team) == {world.texter.id}
    # Adding twice changes nothing.
    client.post(f"/teams/{team.id}/members", data={"user_id": world.texter.id}, headers=HX)
    assert team_member_ids(team) == {world.texter.id}


def test_add_member_without_javascript_redirects(client, auth, world):
    team = make_team(world.org, "Canvassers")
    auth.login_as(world.owner)
    response = client.post(f"/teams/{team.id}/members", data={"user_id": world.sv.id})
    assert response.status_code == 303
    assert response.location == f"/teams#team-{team.id}"
    assert team_member_ids(team) == {world.sv.id}


def test_add_member_needs_a_choice(client, auth, world):
    team = make_team(world.org, "Canvassers")
    auth.login_as(world.owner)
    response = client.post(f"/teams/{team.id}/members", data={"user_id": ""}, headers=HX)
    assert soup(response).find(role="alert").get_text(strip=True) == "Choose a member to add."
    response = client.post(f"/teams/{team.id}/members", data={})
    assert response.status_code == 303
    assert "Choose a member to add." in client.get("/teams").get_data(as_text=True)
    assert team_member_ids(team) == set()


def test_remove_member_with_and_without_htmx(client, auth, world):
    team = make_team(world.org, "Canvassers", world.texter, world.sv)
    auth.login_as(world.admin)
    response = client.post(f"/teams/{team.id}/members/{world.texter.id}/remove", headers=HX)
    assert response.status_code == 200
    section = soup(response).find("section")
    assert "Tom Texter" not in section.find("ul").get_text()
    assert "Sue Super" in section.get_text()
    assert team_member_ids(team) == {world.sv.id}
    response = client.post(f"/teams/{team.id}/members/{world.sv.id}/remove")
    assert response.status_code == 303
    assert response.location == f"/teams#team-{team.id}"
    assert team_member_ids(team) == set()
    assert "No members yet." in client.get("/teams").get_data(as_text=True)


def test_other_orgs_team_or_member_is_404(client, auth, world):
    theirs = make_team(world.other_org, "Theirs", world.stranger)
    ours = make_team(world.org, "Ours")
    auth.login_as(world.owner)
    assert (
        client.post(f"/teams/{theirs.id}/members", data={"user_id": world.texter.id}).status_code
        == 404
    )
    assert client.post(f"/teams/{theirs.id}/members/{world.stranger.id}/remove").status_code == 404
    assert (
        client.post(f"/teams/{ours.id}/members", data={"user_id": world.stranger.id}).status_code
        == 404
    )
    assert team_member_ids(theirs) == {world.stranger.id}
    assert team_member_ids(ours) == set()
    assert "Theirs" not in client.get("/teams").get_data(as_text=True)


def test_supervolunteer_views_teams_but_cannot_change_them(client, auth, world):
    team = make_team(world.org, "Canvassers", world.texter)
    auth.login_as(world.sv)
    page = soup(client.get("/teams"))
    assert "Tom Texter" in page.get_text()
    assert control(page, "Team name") is None
    assert control(page, "Add member") is None
    assert page.find("button", string="Remove") is None
    assert client.post("/teams", data={"name": "Mine"}).status_code == 403
    add = client.post(f"/teams/{team.id}/members", data={"user_id": world.sv.id})
    assert add.status_code == 403
    remove = client.post(f"/teams/{team.id}/members/{world.texter.id}/remove")
    assert remove.status_code == 403
    assert team_member_ids(team) == {world.texter.id}


def test_texter_cannot_open_teams(client, auth, world):
    auth.login_as(world.texter)
    assert client.get("/teams").status_code == 403


def test_every_form_on_people_and_teams_has_an_action(client, auth, world):
    make_team(world.org, "Canvassers", world.texter)
    auth.login_as(world.owner)
    for path in ("/people", "/teams"):
        forms = soup(client.get(path)).find_all("form")
        assert len(forms) > 1
        for form in forms:
            assert form.get("action"), (path, form)
