"""An organization's first day: the invite link, removing a member, roles, teams, landings."""

from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import g
from sqlalchemy import select

from spoke.assignment import invites, members
from spoke.extensions import db
from spoke.models import (
    Assignment,
    AssignmentEvent,
    CampaignContact,
    CampaignTeam,
    Membership,
    Organization,
    Team,
    TeamMember,
    User,
)
from tests.factories import give_contacts, make_campaign, make_contacts, make_org, make_user
from tests.helpers import run_threads
from tests.test_join import count, soup_of, text_of


def login(auth, user) -> None:
    auth.login_as(user)
    g.pop("_login_user", None)


def member_of(org, user) -> Membership | None:
    db.session.commit()
    return db.session.scalars(
        select(Membership).where(
            Membership.organization_id == org.id, Membership.user_id == user.id
        )
    ).first()


@pytest.fixture
def w(ctx):
    org = make_org("Riverside")
    ns = SimpleNamespace(org=org)
    ns.owner = make_user(org, "owner", name="Olive Owner")
    ns.admin = make_user(org, "admin", name="Adam Admin")
    ns.texter = make_user(org, "texter", name="Tom Texter")
    ns.newcomer = make_user(None, name="Nina Newcomer")
    ns.url = f"/invite/{org.invite_token}"
    return ns


# ---- the invite link ---------------------------------------------------------------------


def test_invite_token_is_at_least_128_bits_and_unique_per_org(w):
    other = make_org("Elsewhere")
    # token_urlsafe(32): 43 characters of 6 bits each.
    assert len(w.org.invite_token) >= 22 and w.org.invite_token != other.invite_token


def test_people_page_shows_the_invite_link_to_admins_only(client, auth, w):
    login(auth, w.admin)
    page = soup_of(client.get("/people"))
    field = page.find(id="invite-link")
    assert field["value"] == f"http://localhost{w.url}"
    assert page.find("label", attrs={"for": "invite-link"}).get_text(strip=True) == "Invite link"
    assert page.find("button", string="Make a new link") is not None
    sv = make_user(w.org, "supervolunteer")
    login(auth, sv)
    assert soup_of(client.get("/people")).find(id="invite-link") is None


def test_logged_out_visitor_sees_the_org_and_sign_up_or_log_in(client, w):
    response = client.get(w.url)
    assert response.status_code == 200
    page = soup_of(response)
    assert "Riverside" in page.find("h1").get_text()
    for name, path in (("Sign up", "/signup"), ("Log in", "/login")):
        href = urlsplit(page.find("a", string=name)["href"])
        assert href.path == path and parse_qs(href.query) == {"next": [w.url]}
    assert client.post(w.url).headers["Location"].startswith("/login?next=")


def test_opening_the_link_changes_nothing(client, auth, w):
    login(auth, w.newcomer)
    page = soup_of(client.get(w.url))
    assert page.find("button", string="Join Riverside") is not None
    assert member_of(w.org, w.newcomer) is None


def test_joining_makes_a_texter_once_even_on_a_double_click(client, auth, w):
    login(auth, w.newcomer)
    for _ in range(3):
        assert client.post(w.url).status_code == 303
    m = member_of(w.org, w.newcomer)
    assert m is not None and m.role == "texter"
    assert count(Membership, Membership.user_id == w.newcomer.id) == 1
    page = soup_of(client.get(w.url))
    assert page.find("button", string="Join Riverside") is None
    assert "You're already in Riverside." in page.get_text()


def test_an_admin_opening_the_link_keeps_their_role(client, auth, w):
    login(auth, w.admin)
    client.post(w.url)
    assert member_of(w.org, w.admin).role == "admin"


def test_concurrent_joins_create_one_membership(app, w):
    token, user_id = w.org.invite_token, w.newcomer.id

    def join(_: int) -> None:
        assert invites.join_organization(db.session, token, user_id) is not None
        db.session.commit()

    run_threads(app, join, 5)
    assert count(Membership, Membership.user_id == user_id) == 1


def test_rotating_the_link_stops_the_old_one(client, auth, w):
    old = w.url
    login(auth, w.admin)
    response = client.post("/people/invite/rotate")
    assert response.status_code == 303
    db.session.expire_all()
    new = db.session.get(Organization, w.org.id).invite_token
    assert f"/invite/{new}" != old
    login(auth, w.newcomer)
    response = client.get(old)
    assert response.status_code == 404 and "This invite link is not active" in text_of(response)
    assert client.post(old).status_code == 404
    assert member_of(w.org, w.newcomer) is None
    assert client.post(f"/invite/{new}").status_code == 303


def test_only_admins_rotate_the_link(client, auth, w):
    login(auth, w.texter)
    assert client.post("/people/invite/rotate").status_code == 403


# ---- a user with no organization ---------------------------------------------------------


def test_user_without_an_org_is_told_how_to_join_and_can_paste_a_link(client, auth, w):
    login(auth, w.newcomer)
    page = soup_of(client.get("/"))
    assert "You are not a member of an organization yet." in page.get_text()
    field = page.find(id="invite-paste")
    assert page.find("label", attrs={"for": "invite-paste"}) is not None
    form = field.find_parent("form")
    assert form["method"] == "get" and form["action"] == "/join"
    response = client.get("/join", query_string={"link": f"https://spoke.example{w.url}"})
    assert response.status_code == 303 and response.headers["Location"] == w.url
    campaign = make_campaign(w.org, dynamic_initials_enabled=True)
    pasted = f"http://x/join/{campaign.initials_join_token}"
    response = client.get("/join", query_string={"link": pasted})
    assert response.headers["Location"] == f"/join/{campaign.initials_join_token}"


@pytest.mark.parametrize("link", ["", "hello", "https://evil.example/people", "/logout"])
def test_pasting_something_else_explains(client, auth, w, link):
    login(auth, w.newcomer)
    response = client.get("/join", query_string={"link": link}, follow_redirects=True)
    assert "That is not an invite link." in text_of(response)


# ---- landings ----------------------------------------------------------------------------


def test_owner_lands_on_campaigns_with_a_first_campaign_prompt(client, auth, w):
    login(auth, w.owner)
    response = client.get("/", follow_redirects=True)
    page = soup_of(response)
    assert page.find("h2", string="Create your first campaign") is not None
    assert page.find("a", string="Create your first campaign")["href"] == "/campaigns/new"
    make_campaign(w.org, title="Spring")
    page = soup_of(client.get("/campaigns"))
    assert page.find("a", string="Create your first campaign") is None
    assert page.find("a", string="New campaign")["href"] == "/campaigns/new"


def test_a_texter_with_nothing_keeps_the_texter_page(client, auth, w):
    login(auth, w.texter)
    response = client.get("/")
    assert response.status_code == 200 and "Nothing to text yet" in text_of(response)


# ---- roles -------------------------------------------------------------------------------


def test_people_page_explains_each_role_in_one_line(client, auth, w):
    login(auth, w.owner)
    page = soup_of(client.get("/people"))
    roles = page.find("dl", class_="roles")
    terms = [dt.get_text(strip=True) for dt in roles.find_all("dt")]
    assert terms == ["Owner", "Admin", "Supervolunteer", "Texter"]
    assert all(dd.get_text(strip=True) for dd in roles.find_all("dd"))


# ---- removing a member -------------------------------------------------------------------


@pytest.fixture
def held(w):
    """Tom holds 3 unsent texts and 1 live conversation in a started campaign, and a team."""
    campaign = make_campaign(w.org, status="started")
    make_contacts(campaign, 6)
    give_contacts(campaign, w.texter, 4, actor=w.admin)
    convo = db.session.scalars(
        select(CampaignContact).where(CampaignContact.assignment_id.is_not(None))
    ).first()
    convo.message_status = "needs_response"
    team = Team(organization_id=w.org.id, name="Canvassers")
    db.session.add(team)
    db.session.flush()
    db.session.add(TeamMember(team_id=team.id, user_id=w.texter.id))
    db.session.commit()
    return SimpleNamespace(campaign=campaign, convo_id=convo.id, team=team)


def test_remove_asks_first_then_returns_texts_and_ends_sessions(client, auth, w, held):
    token_before = w.texter.session_token
    tom = member_of(w.org, w.texter)
    login(auth, w.admin)
    row = soup_of(client.get("/people")).find(id=f"member-{tom.id}")
    link = row.find("a", attrs={"aria-label": "Remove Tom Texter"})
    confirm = client.get(link["href"])
    assert "Remove Tom Texter from Riverside?" in text_of(confirm)
    assert member_of(w.org, w.texter) is not None  # GET changed nothing
    form = soup_of(confirm).find("main").find("form", method="post")
    response = client.post(form["action"])
    assert response.status_code == 303
    page = text_of(client.get("/people"))
    assert "Tom Texter was removed." in page and "Tom Texter" not in page.split("removed.")[1]
    assert member_of(w.org, w.texter) is None
    assert count(CampaignContact, CampaignContact.assignment_id.is_not(None)) == 0
    assert count(TeamMember, TeamMember.user_id == w.texter.id) == 0
    db.session.expire_all()
    assert db.session.get(User, w.texter.id).session_token != token_before
    assignment = db.session.scalars(select(Assignment)).one()
    assert not assignment.is_active
    event = db.session.scalars(select(AssignmentEvent).order_by(AssignmentEvent.id.desc())).first()
    assert event.reason == "manual" and event.actor_id == w.admin.id
    assert event.from_assignment_id == assignment.id and event.contact_count == 4
    assert event.detail.startswith("removed from the organization")


def test_removed_member_cannot_open_the_orgs_pages(client, auth, w, held):
    members.remove_member(db.session, w.org.id, w.admin.id, member_of(w.org, w.texter).id)
    db.session.commit()
    login(auth, w.texter)
    assert client.get(f"/texting/campaigns/{held.campaign.id}").status_code in (403, 404)


@pytest.mark.parametrize(
    "actor, target, reason",
    [
        ("admin", "admin", members.NOT_YOURSELF),
        ("admin", "owner", members.OWNER_ONLY),
        ("owner", "owner", members.NOT_YOURSELF),
    ],
)
def test_remove_refusals_say_why(client, auth, w, actor, target, reason):
    login(auth, getattr(w, actor))
    target_m = member_of(w.org, getattr(w, target))
    response = client.post(f"/people/{target_m.id}/remove", follow_redirects=True)
    assert reason in text_of(response)
    assert member_of(w.org, getattr(w, target)) is not None


def test_an_owner_removes_another_owner(w):
    second = make_user(w.org, "owner", name="Second Owner")
    members.remove_member(db.session, w.org.id, w.owner.id, member_of(w.org, second).id)
    db.session.commit()
    assert member_of(w.org, second) is None


def test_texters_and_other_orgs_cannot_remove(client, auth, w):
    tom = member_of(w.org, w.texter)
    login(auth, w.texter)
    assert client.post(f"/people/{tom.id}/remove").status_code == 403
    elsewhere = make_org("Elsewhere")
    stranger = make_user(elsewhere, "texter")
    login(auth, w.admin)
    assert client.post(f"/people/{member_of(elsewhere, stranger).id}/remove").status_code == 404
    assert client.get(f"/people/{member_of(elsewhere, stranger).id}/remove").status_code == 404


# ---- teams: rename and delete ------------------------------------------------------------


def test_rename_team_inline_and_refuse_a_taken_name(client, auth, w):
    a = Team(organization_id=w.org.id, name="Canvassers")
    b = Team(organization_id=w.org.id, name="Phones")
    db.session.add_all([a, b])
    db.session.commit()
    login(auth, w.admin)
    page = soup_of(client.get("/teams"))
    assert page.find("label", attrs={"for": f"team-name-{a.id}"}) is not None
    response = client.post(
        f"/teams/{a.id}/rename", data={"name": "Door knockers"}, headers={"HX-Request": "true"}
    )
    assert "Door knockers" in soup_of(response).find("h2").get_text()
    response = client.post(
        f"/teams/{a.id}/rename", data={"name": "phones"}, headers={"HX-Request": "true"}
    )
    assert "A team with this name already exists." in text_of(response)
    response = client.post(f"/teams/{a.id}/rename", data={"name": "Walkers"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Team, a.id).name == "Walkers"


def test_delete_team_keeps_its_members_in_the_org(client, auth, w):
    team = Team(organization_id=w.org.id, name="Canvassers")
    db.session.add(team)
    db.session.flush()
    campaign = make_campaign(w.org)
    db.session.add(TeamMember(team_id=team.id, user_id=w.texter.id))
    db.session.add(CampaignTeam(campaign_id=campaign.id, team_id=team.id))
    db.session.commit()
    team_id = team.id
    login(auth, w.admin)
    response = client.post(f"/teams/{team_id}/delete", follow_redirects=True)
    assert "Team Canvassers deleted." in text_of(response)
    assert count(Team, Team.id == team_id) == 0
    assert count(CampaignTeam) == 0 and count(TeamMember) == 0
    assert member_of(w.org, w.texter) is not None


def test_texters_cannot_rename_or_delete_teams_and_other_orgs_are_404(client, auth, w):
    mine = Team(organization_id=w.org.id, name="Mine")
    theirs = Team(organization_id=make_org("Elsewhere").id, name="Theirs")
    db.session.add_all([mine, theirs])
    db.session.commit()
    login(auth, w.texter)
    assert client.post(f"/teams/{mine.id}/delete").status_code == 403
    login(auth, w.admin)
    assert client.post(f"/teams/{theirs.id}/delete").status_code == 404
    assert client.post(f"/teams/{theirs.id}/rename", data={"name": "x"}).status_code == 404
