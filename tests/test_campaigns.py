"""Campaigns: the list, creating one, the campaign page, Basics (with teams), start and archive."""

from __future__ import annotations

from datetime import datetime

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from spoke import clock
from spoke.campaigns import service as campaign_service
from spoke.extensions import db
from spoke.models import Campaign, CampaignTeam, Team
from tests.factories import make_campaign, make_contacts, make_org, make_user

HX = {"HX-Request": "true"}
# Issue 9 puts Canned responses and Questions after Script.
SECTIONS = [
    "Basics",
    "Contacts",
    "Texters",
    "Assignment Management",
    "Script",
    "Canned responses",
    "Questions",
]


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def text_of(response) -> str:
    return soup_of(response).get_text(" ")


def control(soup: BeautifulSoup, label_text: str):
    """The form control labelled `label_text` (via <label for>)."""
    label = soup.find("label", string=lambda s: s is not None and s.strip() == label_text)
    assert label is not None, f"no label {label_text!r}"
    return soup.find(id=label["for"])


def checkbox(soup: BeautifulSoup, label_text: str):
    """The checkbox whose label reads `label_text`."""
    for label in soup.find_all("label"):
        if label.get_text(" ", strip=True) == label_text:
            return soup.find(id=label["for"])
    return None


def button(soup: BeautifulSoup, text: str):
    return soup.find("button", string=lambda s: s is not None and s.strip() == text)


def make_team(org, name: str) -> Team:
    team = Team(organization_id=org.id, name=name)
    db.session.add(team)
    db.session.commit()
    return team


@pytest.fixture
def org(ctx):
    return make_org("Our Org")


@pytest.fixture
def admin(org, auth):
    user = make_user(org, role="admin", name="Dana Organizer")
    auth.login_as(user)
    return user


@pytest.fixture
def campaign(org):
    return make_campaign(org, title="Get out the vote", description="Fall push")


def reload(campaign_id: int) -> Campaign:
    db.session.expire_all()
    return db.session.get(Campaign, campaign_id)


# --- list and create -------------------------------------------------------------------------


def test_list_shows_title_status_contact_count_and_created_date(client, org, admin):
    clock.freeze(datetime(2026, 3, 4, 12, 0))
    first = make_campaign(org, title="Spring canvass")
    make_contacts(first, 3)
    second = make_campaign(org, title="Phonebank", status="started")
    other = make_campaign(make_org("Other Org"), title="Not ours")

    response = client.get("/campaigns")

    assert response.status_code == 200
    soup = soup_of(response)
    rows = {
        tr.find("a").get_text(strip=True): [td.get_text(" ", strip=True) for td in tr("td")]
        for tr in soup.select("tbody tr")
    }
    assert rows == {
        "Spring canvass": ["Spring canvass", "Draft", "3", "4 Mar 2026"],
        "Phonebank": ["Phonebank", "Started", "0", "4 Mar 2026"],
    }
    assert other.title not in text_of(response)
    link = soup.find("a", string="Spring canvass")
    assert link["href"] == f"/campaigns/{first.id}"
    assert soup.find("a", string="Phonebank")["href"] == f"/campaigns/{second.id}"
    assert soup.find("a", string="New campaign")["href"] == "/campaigns/new"


def test_create_campaign_is_draft_and_redirects_to_its_page(client, org, admin):
    form = soup_of(client.get("/campaigns/new"))
    assert control(form, "Title")["name"] == "title"
    assert control(form, "Description")["name"] == "description"
    assert button(form, "Create campaign") is not None

    response = client.post(
        "/campaigns/new", data={"title": "  Turnout  ", "description": "Week one"}
    )

    campaign = db.session.scalars(select(Campaign)).one()
    assert response.status_code == 303
    assert response.headers["Location"] == f"/campaigns/{campaign.id}"
    assert (campaign.title, campaign.description, campaign.status) == (
        "Turnout",
        "Week one",
        "draft",
    )
    assert campaign.organization_id == org.id
    page = soup_of(client.get(response.headers["Location"]))
    assert page.find("h1").get_text(strip=True) == "Turnout"


@pytest.mark.parametrize(
    ("title", "error"),
    [("", "Enter a title."), ("   ", "Enter a title."), ("x" * 201, "Title must be 200")],
)
def test_create_campaign_validation_shows_error_next_to_title(client, admin, title, error):
    response = client.post("/campaigns/new", data={"title": title, "description": "kept"})

    assert response.status_code == 422
    soup = soup_of(response)
    title_input = control(soup, "Title")
    assert title_input["aria-invalid"] == "true"
    assert error in soup.find(id=title_input["aria-describedby"]).get_text()
    assert control(soup, "Description").get_text() == "kept"
    assert db.session.scalars(select(Campaign)).first() is None


def test_create_validation_over_boosted_htmx_answers_200_so_it_is_swapped(client, admin):
    response = client.post(
        "/campaigns/new", data={"title": ""}, headers={**HX, "HX-Boosted": "true"}
    )
    assert response.status_code == 200
    assert "Enter a title." in text_of(response)


def test_a_title_of_exactly_200_characters_is_fine(client, admin):
    response = client.post("/campaigns/new", data={"title": "x" * 200})
    assert response.status_code == 303


# --- the campaign page ----------------------------------------------------------------------


def test_campaign_page_sections_in_order(client, admin, campaign):
    soup = soup_of(client.get(f"/campaigns/{campaign.id}"))

    sections = soup.select("main > section.card")
    headings = [s.find("h2").get_text(strip=True) for s in sections]
    # The assignment history fragment brings its own section after Script.
    assert headings[: len(SECTIONS)] == SECTIONS
    assert headings[len(SECTIONS) :] in ([], ["Assignment history"])
    assert [s["id"] for s in sections[: len(SECTIONS)]] == [
        "basics",
        "contacts",
        "texters",
        "assignment-management",
        "script",
        "canned-responses",
        "questions",
    ]
    all_h2 = [h.get_text(strip=True) for h in soup.find_all("h2")]
    assert [h for h in all_h2 if h in SECTIONS] == SECTIONS


def test_campaign_page_shows_status_and_counts(client, org, admin, campaign):
    make_contacts(campaign, 4)
    make_contacts(campaign, 2, start=100, message_status="messaged")
    make_contacts(campaign, 1, start=200, message_status="needs_response")
    make_contacts(campaign, 1, start=300, message_status="convo")
    make_contacts(campaign, 1, start=400, message_status="closed")
    make_contacts(campaign, 2, start=500, message_status="closed", opted_out=True)

    soup = soup_of(client.get(f"/campaigns/{campaign.id}"))

    status = soup.find(id="campaign-status")
    assert status.find(class_="badge").get_text(strip=True) == "Draft"
    stats = {
        li.get_text(" ", strip=True).split(" ", 1)[1]: li.strong.get_text(strip=True)
        for li in status.select("ul.stats li")
    }
    assert stats == {
        "Contacts": "11",
        "Needs message": "4",
        "Messaged": "2",
        "Needs response": "1",
        "Convo": "1",
        "Closed": "1",
        "Opted out": "2",
    }


def test_campaign_counts_is_one_grouped_query(app, org, campaign):
    make_contacts(campaign, 3)
    make_contacts(campaign, 1, start=10, message_status="convo", opted_out=True)
    statements: list[str] = []

    from sqlalchemy import event

    def record(conn, cursor, statement, *args):  # noqa: ANN001
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        counts = campaign_service.campaign_counts(db.session, campaign.id)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)

    assert counts == campaign_service.CampaignCounts(total=4, needs_message=3, opted_out=1)
    assert len([s for s in statements if "campaign_contact" in s]) == 1


def test_every_form_has_an_action(client, org, admin, campaign):
    make_team(org, "Volunteers")
    pages = ["/campaigns", "/campaigns/new", f"/campaigns/{campaign.id}"]
    for url in pages:
        soup = soup_of(client.get(url))
        for form in soup.find_all("form"):
            assert form.get("action"), f"form without action on {url}: {form}"
            if form.get("method", "get").lower() == "post":
                assert form.find("input", attrs={"name": "csrf_token"}), url
    # Error states render forms too.
    soup = soup_of(client.post(f"/campaigns/{campaign.id}/basics", data={"title": ""}))
    assert all(form.get("action") for form in soup.find_all("form"))


# --- basics ---------------------------------------------------------------------------------


def test_basics_save_with_htmx_returns_the_fragment_with_saved(client, admin, campaign):
    response = client.post(
        f"/campaigns/{campaign.id}/basics",
        data={"title": "New title", "description": "New description"},
        headers=HX,
    )

    assert response.status_code == 200
    soup = soup_of(response)
    root = soup.find()
    assert root["id"] == "basics-panel"
    assert root["hx-target"] == "this" and root["hx-swap"] == "outerHTML"
    assert soup.find(class_="saved").get_text(strip=True) == "Saved"
    assert control(soup, "Title")["value"] == "New title"
    assert soup.find("html") is None
    saved = reload(campaign.id)
    assert (saved.title, saved.description) == ("New title", "New description")


def test_basics_save_without_htmx_redirects_303_to_the_page(client, admin, campaign):
    response = client.post(
        f"/campaigns/{campaign.id}/basics", data={"title": "Plain", "description": ""}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == f"/campaigns/{campaign.id}"
    assert reload(campaign.id).title == "Plain"
    page = soup_of(client.get(response.headers["Location"]))
    assert control(page, "Title")["value"] == "Plain"
    assert "Basics saved." in page.get_text()


def test_basics_form_is_labelled_and_posts_with_htmx_and_plainly(client, admin, campaign):
    soup = soup_of(client.get(f"/campaigns/{campaign.id}"))
    panel = soup.find(id="basics").find(id="basics-panel")
    form = panel.find("form")
    assert form["action"] == form["hx-post"] == f"/campaigns/{campaign.id}/basics"
    assert form["method"] == "post"
    assert control(panel, "Title")["value"] == "Get out the vote"
    assert control(panel, "Description").get_text() == "Fall push"
    assert button(panel, "Save basics") is not None


def test_basics_validation_error_htmx_fragment_and_plain_page(client, admin, campaign):
    response = client.post(
        f"/campaigns/{campaign.id}/basics", data={"title": "", "description": "d"}, headers=HX
    )
    assert response.status_code == 200
    soup = soup_of(response)
    assert soup.find()["id"] == "basics-panel"
    title = control(soup, "Title")
    assert "Enter a title." in soup.find(id=title["aria-describedby"]).get_text()
    assert soup.find(class_="saved") is None

    response = client.post(f"/campaigns/{campaign.id}/basics", data={"title": "x" * 201})
    assert response.status_code == 422
    page = soup_of(response)
    assert page.find("h1") is not None  # the full page
    basics = page.find(id="basics")
    assert "Title must be 200 characters or fewer." in basics.get_text()
    assert reload(campaign.id).title == "Get out the vote"


def test_basics_teams_checkboxes_and_association(client, org, admin, campaign):
    alpha = make_team(org, "Alpha team")
    beta = make_team(org, "Beta team")
    make_team(make_org("Other Org"), "Their team")

    soup = soup_of(client.get(f"/campaigns/{campaign.id}"))
    basics = soup.find(id="basics")
    assert basics.find("legend").get_text(strip=True) == "Teams"
    assert checkbox(basics, "Alpha team")["value"] == str(alpha.id)
    assert not checkbox(basics, "Alpha team").has_attr("checked")
    assert checkbox(basics, "Their team") is None

    response = client.post(
        f"/campaigns/{campaign.id}/basics",
        data={"title": "T", "team_ids": [str(alpha.id), str(beta.id)]},
        headers=HX,
    )
    assert response.status_code == 200
    assert checkbox(soup_of(response), "Beta team").has_attr("checked")
    assert [t.name for t in reload(campaign.id).teams] == ["Alpha team", "Beta team"]

    client.post(f"/campaigns/{campaign.id}/basics", data={"title": "T", "team_ids": [beta.id]})
    assert [t.name for t in reload(campaign.id).teams] == ["Beta team"]
    client.post(f"/campaigns/{campaign.id}/basics", data={"title": "T"})
    assert reload(campaign.id).teams == []


@pytest.mark.parametrize("hx", [True, False])
def test_basics_rejects_another_organizations_team(client, org, admin, campaign, hx):
    ours = make_team(org, "Ours")
    theirs = make_team(make_org("Other Org"), "Theirs")
    db.session.add(CampaignTeam(campaign_id=campaign.id, team_id=ours.id))
    db.session.commit()

    response = client.post(
        f"/campaigns/{campaign.id}/basics",
        data={"title": "Changed", "team_ids": [str(ours.id), str(theirs.id)]},
        headers=HX if hx else {},
    )

    assert response.status_code == (200 if hx else 422)
    assert "Choose teams from this organization." in soup_of(response).get_text()
    saved = reload(campaign.id)
    assert saved.title == "Get out the vote"
    assert [t.name for t in saved.teams] == ["Ours"]


def test_basics_rejects_a_team_id_that_is_not_a_number(client, admin, campaign):
    response = client.post(
        f"/campaigns/{campaign.id}/basics", data={"title": "T", "team_ids": "abc"}, headers=HX
    )
    assert "Choose teams from this organization." in text_of(response)
    assert reload(campaign.id).title == "Get out the vote"


# --- start and archive ----------------------------------------------------------------------


def test_start_refused_without_contacts(client, admin, campaign):
    response = client.post(f"/campaigns/{campaign.id}/start", headers=HX)

    assert response.status_code == 200
    soup = soup_of(response)
    assert soup.find()["id"] == "campaign-status"
    assert soup.find(role="alert").get_text(strip=True) == "Upload contacts before starting."
    assert reload(campaign.id).status == "draft"

    response = client.post(f"/campaigns/{campaign.id}/start")
    assert response.status_code == 422
    page = soup_of(response)
    assert "Upload contacts before starting." in page.find(id="campaign-status").get_text()
    assert page.find("h1") is not None


def test_start_refused_without_script(client, org, admin):
    campaign = make_campaign(org, script="")
    make_contacts(campaign, 2)

    response = client.post(f"/campaigns/{campaign.id}/start", headers=HX)

    alert = soup_of(response).find(role="alert").get_text(strip=True)
    assert alert == "Write the script before starting."
    assert reload(campaign.id).status == "draft"


def test_start_refused_with_both_reasons(client, org, admin):
    campaign = make_campaign(org, script="  ")
    response = client.post(f"/campaigns/{campaign.id}/start", headers=HX)
    text = soup_of(response).find(role="alert").get_text(strip=True)
    assert "Upload contacts before starting." in text
    assert "Write the script before starting." in text


def test_start_with_htmx_reloads_the_page(client, admin, campaign):
    clock.freeze(datetime(2026, 5, 1, 9, 30))
    make_contacts(campaign, 2)

    response = client.post(f"/campaigns/{campaign.id}/start", headers=HX)

    assert response.status_code == 200
    assert response.headers["HX-Location"] == f"/campaigns/{campaign.id}"
    started = reload(campaign.id)
    assert (started.status, started.started_at) == ("started", datetime(2026, 5, 1, 9, 30))
    page = soup_of(client.get(f"/campaigns/{campaign.id}"))
    assert "Campaign started." in page.get_text()
    status = page.find(id="campaign-status")
    assert status.find(class_="badge").get_text(strip=True) == "Started"
    assert button(status, "Start campaign") is None
    assert button(status, "Archive campaign") is not None


def test_start_without_htmx_redirects(client, admin, campaign):
    make_contacts(campaign, 1)
    response = client.post(f"/campaigns/{campaign.id}/start")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/campaigns/{campaign.id}"
    assert reload(campaign.id).status == "started"


def test_start_twice_is_refused(client, org, admin):
    campaign = make_campaign(org, status="started")
    response = client.post(f"/campaigns/{campaign.id}/start", headers=HX)
    assert "This campaign has already started." in text_of(response)


def test_archive_controls_confirm_first(client, admin, campaign):
    soup = soup_of(client.get(f"/campaigns/{campaign.id}"))
    archive = button(soup, "Archive campaign")
    form = archive.find_parent("form")
    # Plain submit: spoke.js asks (data-confirm). htmx: the button's request asks (hx-confirm),
    # and cancels the form's submit, so the question is asked once either way.
    assert form["action"] == archive["hx-post"] == f"/campaigns/{campaign.id}/archive"
    assert form["method"] == "post"
    assert form["data-confirm"].startswith("Archive “Get out the vote”?")
    assert archive["hx-confirm"] == form["data-confirm"]
    start = button(soup, "Start campaign").find_parent("form")
    assert start["action"] == start["hx-post"] == f"/campaigns/{campaign.id}/start"


@pytest.mark.parametrize("initial", ["draft", "started"])
def test_archive(client, org, admin, initial):
    campaign = make_campaign(org, status=initial)

    response = client.post(f"/campaigns/{campaign.id}/archive")

    assert response.status_code == 303
    assert reload(campaign.id).status == "archived"
    page = soup_of(client.get(f"/campaigns/{campaign.id}"))
    status = page.find(id="campaign-status")
    assert status.find(class_="badge").get_text(strip=True) == "Archived"
    assert button(page, "Start campaign") is None
    assert button(page, "Archive campaign") is None
    assert "Campaign archived." in page.get_text()


def test_archive_with_htmx_reloads_the_page(client, admin, campaign):
    response = client.post(f"/campaigns/{campaign.id}/archive", headers=HX)
    assert response.headers["HX-Location"] == f"/campaigns/{campaign.id}"
    assert reload(campaign.id).status == "archived"


def test_archived_campaign_cannot_be_started_or_edited(client, org, admin):
    campaign = make_campaign(org, status="archived", title="Old")
    make_contacts(campaign, 1)

    response = client.post(f"/campaigns/{campaign.id}/start", headers=HX)
    assert "This campaign is archived and can't be started again." in text_of(response)
    response = client.post(f"/campaigns/{campaign.id}/basics", data={"title": "New"}, headers=HX)
    assert soup_of(response).find(role="alert").get_text(strip=True) == (
        "This campaign is archived and can't be edited."
    )
    response = client.post(f"/campaigns/{campaign.id}/basics", data={"title": "New"})
    assert response.status_code == 422
    response = client.post(f"/campaigns/{campaign.id}/archive", headers=HX)
    assert "This campaign is already archived." in text_of(response)

    saved = reload(campaign.id)
    assert (saved.status, saved.title) == ("archived", "Old")
    page = soup_of(client.get(f"/campaigns/{campaign.id}"))
    assert page.find(id="basics-panel").find("fieldset").has_attr("disabled")


# --- who may see what -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "supervolunteer"])
def test_other_staff_roles_may_manage_campaigns(client, auth, org, campaign, role):
    auth.login_as(make_user(org, role=role))
    assert client.get("/campaigns").status_code == 200
    assert client.get(f"/campaigns/{campaign.id}").status_code == 200


def test_texter_gets_403(client, auth, org, campaign):
    auth.login_as(make_user(org, role="texter"))
    assert client.get("/campaigns").status_code == 403
    assert client.get("/campaigns/new").status_code == 403
    assert client.post("/campaigns/new", data={"title": "x"}).status_code == 403
    assert client.get(f"/campaigns/{campaign.id}").status_code == 403
    assert client.post(f"/campaigns/{campaign.id}/basics", data={"title": "x"}).status_code == 403
    assert client.post(f"/campaigns/{campaign.id}/start").status_code == 403
    assert client.post(f"/campaigns/{campaign.id}/archive").status_code == 403
    assert reload(campaign.id).title == "Get out the vote"
    assert db.session.scalars(select(Campaign)).all() == [reload(campaign.id)]


def test_other_organizations_campaign_is_404(client, admin):
    theirs = make_campaign(make_org("Other Org"), title="Theirs")
    make_contacts(theirs, 1)
    cid = theirs.id
    assert client.get(f"/campaigns/{cid}").status_code == 404
    for path in ("basics", "script", "script/preview", "start", "archive"):
        response = client.post(f"/campaigns/{cid}/{path}", data={"title": "x", "script": "x"})
        assert response.status_code == 404, path
    saved = reload(cid)
    assert (saved.status, saved.title) == ("draft", "Theirs")


def test_logged_out_is_sent_away(client, org, campaign):
    make_user(org, role="admin")
    response = client.get(f"/campaigns/{campaign.id}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
