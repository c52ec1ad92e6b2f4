"""Joining a campaign through its assignment link: sign up or log in, join once, inactive links."""

from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from flask import g
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from spoke.assignment import join
from spoke.extensions import db
from spoke.models import (
    Assignment,
    AssignmentEvent,
    Campaign,
    CampaignContact,
    CampaignTeam,
    Membership,
    Team,
    TeamMember,
    User,
)
from tests.factories import PASSWORD, make_campaign, make_contacts, make_org, make_user

INACTIVE = "This assignment link is not active"


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def text_of(response) -> str:
    return " ".join(soup_of(response).get_text(" ").split())


def count(model, *where) -> int:
    db.session.commit()  # end the read snapshot: other sessions may have written since
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def goes_to(href: str, path: str, next_url: str) -> bool:
    """True if `href` is `path` with `next` pointing back at `next_url`."""
    parts = urlsplit(href)
    return parts.path == path and parse_qs(parts.query) == {"next": [next_url]}


def login(auth, user) -> None:
    auth.login_as(user)
    g.pop("_login_user", None)


def button(soup: BeautifulSoup, text: str):
    found = [b for b in soup.find_all("button") if b.get_text(strip=True) == text]
    return found[0] if found else None


class World:
    """A started campaign with dynamic initials on, in two teams, and a stranger to invite."""

    def __init__(self) -> None:
        self.org = make_org("Riverside Votes")
        self.admin = make_user(self.org, "admin", name="Ada Admin")
        self.campaign = make_campaign(
            self.org,
            title="Fall Turnout",
            status="started",
            dynamic_initials_enabled=True,
            initials_batch_size=5,
        )
        make_contacts(self.campaign, 20)
        self.teams = []
        for name in ("Volunteers", "Students"):
            team = Team(organization_id=self.org.id, name=name)
            db.session.add(team)
            db.session.flush()
            db.session.add(CampaignTeam(campaign_id=self.campaign.id, team_id=team.id))
            self.teams.append(team)
        db.session.commit()
        self.token = self.campaign.initials_join_token
        self.url = f"/join/{self.token}"

    def nothing_created_for(self, user: User) -> bool:
        return (
            count(Membership, Membership.user_id == user.id) == 0
            and count(TeamMember, TeamMember.user_id == user.id) == 0
            and count(Assignment, Assignment.user_id == user.id) == 0
        )


@pytest.fixture
def w(ctx):
    return World()


def test_logged_out_visitor_is_offered_sign_up_or_log_in(client, w):
    response = client.get(w.url)
    assert response.status_code == 200
    soup = soup_of(response)
    assert "Fall Turnout" in soup.find("h1").get_text()
    assert "Riverside Votes" in text_of(response)
    assert goes_to(soup.find("a", string="Sign up")["href"], "/signup", w.url)
    assert goes_to(soup.find("a", string="Log in")["href"], "/login", w.url)
    assert button(soup, "Join campaign") is None


def test_sign_up_comes_back_to_the_link_and_join_adds_everything_once(client, w):
    response = client.post(
        f"/signup?next=/join/{w.token}",
        data={"name": "Sam Newcomer", "email": "sam@example.org", "password": PASSWORD},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == w.url
    sam = db.session.scalars(select(User).where(User.email == "sam@example.org")).one()
    g.pop("_login_user", None)

    soup = soup_of(client.get(w.url))
    join_button = button(soup, "Join campaign")
    form = join_button.find_parent("form")
    assert form["method"] == "post" and form["action"] == w.url
    assert w.nothing_created_for(sam)  # opening the link changed nothing

    response = client.post(w.url)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/texting/campaigns/{w.campaign.id}")
    membership = db.session.scalars(select(Membership).where(Membership.user_id == sam.id)).one()
    assert membership.organization_id == w.org.id and membership.role == "texter"
    assert count(TeamMember, TeamMember.user_id == sam.id) == 2
    assignment = db.session.scalars(select(Assignment).where(Assignment.user_id == sam.id)).one()
    assert assignment.is_active and assignment.can_claim_initials
    assert not assignment.can_claim_replies
    # Joining claims nothing.
    assert count(CampaignContact, CampaignContact.assignment_id.is_not(None)) == 0

    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "You joined Fall Turnout." in text_of(page)
    assert "Get 5 more texts to send" in text_of(page)  # issue 13: the batch size


def test_double_submit_second_visit_and_two_tabs_create_nothing_twice(client, auth, w):
    texter = make_user(None, name="Tia Twice")
    login(auth, texter)
    for _ in range(3):
        assert client.post(w.url).status_code == 303
    assert count(Membership, Membership.user_id == texter.id) == 1
    assert count(TeamMember, TeamMember.user_id == texter.id) == 2
    assert count(Assignment, Assignment.user_id == texter.id) == 1
    assert count(AssignmentEvent, AssignmentEvent.reason == "join") == 1
    soup = soup_of(client.get(w.url))
    assert button(soup, "Join campaign") is None
    assert "You are in this campaign." in soup.get_text()
    assert soup.find("a", string="Open campaign")["href"] == f"/texting/campaigns/{w.campaign.id}"


def test_the_database_refuses_duplicates(w):
    """Idempotency rests on unique constraints, not only on checks in code."""
    user = make_user(w.org)
    db.session.add(Membership(organization_id=w.org.id, user_id=user.id, role="texter"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add_all(
        [
            Assignment(user_id=user.id, campaign_id=w.campaign.id),
            Assignment(user_id=user.id, campaign_id=w.campaign.id),
        ]
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add_all([TeamMember(team_id=w.teams[0].id, user_id=user.id)] * 1)
    db.session.commit()
    db.session.add(TeamMember(team_id=w.teams[0].id, user_id=user.id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_concurrent_joins_of_one_user_create_one_of_each(app, w):
    user_id = make_user(None).id
    token, org_id = w.token, w.org.id
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                assert join.join_by_link(db.session, token, user_id) is not None
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert (
        count(Membership, Membership.user_id == user_id, Membership.organization_id == org_id) == 1
    )
    assert count(TeamMember, TeamMember.user_id == user_id) == 2
    assert count(Assignment, Assignment.user_id == user_id) == 1


def test_existing_member_keeps_their_role(client, auth, w):
    login(auth, w.admin)
    client.post(w.url)
    membership = db.session.scalars(
        select(Membership).where(Membership.user_id == w.admin.id)
    ).one()
    assert membership.role == "admin"


def test_log_in_comes_back_to_the_link(client, w):
    member = make_user(w.org, name="Lee Member", email="lee@example.org")
    response = client.post(
        f"/login?next=/join/{w.token}", data={"email": "lee@example.org", "password": PASSWORD}
    )
    assert response.status_code == 303 and response.headers["Location"] == w.url
    g.pop("_login_user", None)
    assert button(soup_of(client.get(w.url)), "Join campaign") is not None
    assert count(Assignment, Assignment.user_id == member.id) == 0


def test_posting_while_logged_out_asks_to_log_in(client, w):
    response = client.post(w.url)
    assert response.status_code == 303
    assert goes_to(response.headers["Location"], "/login", w.url)
    assert count(Assignment) == 0


def test_the_replies_link_grants_the_replies_button(client, auth, w):
    w.campaign.dynamic_replies_enabled = True
    db.session.commit()
    texter = make_user(w.org)
    login(auth, texter)
    client.post(f"/join/{w.campaign.replies_join_token}")
    assignment = db.session.scalars(select(Assignment).where(Assignment.user_id == texter.id)).one()
    assert assignment.can_claim_replies and not assignment.can_claim_initials
    # The initials link still offers to join: it adds the other button.
    assert button(soup_of(client.get(w.url)), "Join campaign") is not None


def test_joining_a_campaign_not_started_yet_goes_to_my_campaigns(client, auth, w):
    w.campaign.status = "draft"
    db.session.commit()
    login(auth, make_user(None))
    response = client.post(w.url)
    assert response.status_code == 303 and response.headers["Location"].endswith("/")
    assert "You can start texting once it starts." in text_of(client.get("/"))


def turn_off(w):
    w.campaign.dynamic_initials_enabled = False


def regenerate(w):
    join.regenerate_link(db.session, w.campaign.id, "initials")


def archive(w):
    w.campaign.status = "archived"


def unknown(w):
    w.url = "/join/" + "x" * 43


@pytest.mark.parametrize("change", [turn_off, regenerate, archive, unknown])
@pytest.mark.parametrize("logged_in", [True, False])
def test_inactive_links_say_so_and_change_nothing(client, auth, w, change, logged_in):
    texter = make_user(None)
    if logged_in:
        login(auth, texter)
    change(w)
    db.session.commit()
    for response in (client.get(w.url), client.post(w.url)):
        if not logged_in and response.request.method == "POST":
            assert response.status_code == 303  # asked to log in first; nothing changes
            continue
        assert response.status_code == 404
        assert soup_of(response).find("h1").get_text(strip=True) == INACTIVE
        assert button(soup_of(response), "Join campaign") is None
    assert w.nothing_created_for(texter)
    assert count(AssignmentEvent) == 0


def test_regenerated_link_works_and_old_one_does_not(client, auth, w):
    old_url = w.url
    new_token = join.regenerate_link(db.session, w.campaign.id, "initials")
    db.session.commit()
    login(auth, make_user(None))
    assert INACTIVE in text_of(client.get(old_url))
    assert button(soup_of(client.get(f"/join/{new_token}")), "Join campaign") is not None
    assert db.session.get(Campaign, w.campaign.id).initials_join_token == new_token
