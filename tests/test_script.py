"""The campaign script: fields, validation at save, the Script section and its live preview."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup

from spoke.campaigns import script
from spoke.extensions import db
from spoke.models import Campaign
from tests.factories import make_campaign, make_contacts, make_org, make_user

HX = {"HX-Request": "true"}
STORED = "Hi {firstName}, this is {texterFirstName}. Can we count on your vote?"


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def initial_message(soup: BeautifulSoup):
    label = soup.find("label", string="Initial message")
    assert label is not None
    return soup.find(id=label["for"])


def reload(campaign_id: int) -> Campaign:
    db.session.expire_all()
    return db.session.get(Campaign, campaign_id)


@pytest.fixture
def org(ctx):
    return make_org()


@pytest.fixture
def admin(org, auth):
    user = make_user(org, role="admin", name="Dana Organizer")
    auth.login_as(user)
    return user


@pytest.fixture
def campaign(org):
    return make_campaign(org, script=STORED)


# --- the script module ----------------------------------------------------------------------


def contact(**values):
    base = {"first_name": "Ana", "last_name": "Diaz", "cell": "+15550001111", "zip": "02139"}
    return SimpleNamespace(**{**base, "custom_fields": {}, **values})


def test_fields_in_lists_each_field_once_in_order():
    text = "{firstName} {lastName} {firstName} {polling place}"
    assert script.fields_in(text) == ["firstName", "lastName", "polling place"]


def test_unknown_fields_include_typos_and_stray_spaces():
    text = "Hi {firstName} {firstname} { lastName} {precinct}"
    assert script.unknown_fields(text, ["precinct"]) == ["firstname", " lastName"]
    assert script.unknown_fields(text, []) == ["firstname", " lastName", "precinct"]


def test_unknown_fields_message_lists_available_fields():
    message = script.unknown_fields_message(["foo"], ["precinct"])
    assert message == (
        "Unknown field {foo}. Available fields: {firstName}, {lastName}, {texterFirstName}, "
        "{cell}, {zip}, {precinct}"
    )


def test_render_fills_builtin_and_custom_fields():
    person = contact(custom_fields={"polling place": "City Hall", "ward": 7})
    text = "Hi {firstName} {lastName}, I'm {texterFirstName}. Vote at {polling place} (ward {ward})"
    assert script.render(text, person, "Dana") == (
        "Hi Ana Diaz, I'm Dana. Vote at City Hall (ward 7)"
    )


def test_render_leaves_unknown_fields_empty():
    assert script.render("Hi {firstName}{nope}!", contact(), "Dana") == "Hi Ana!"


# --- the Script section ---------------------------------------------------------------------


def test_script_section_shows_textarea_fields_and_preview(client, admin, campaign):
    reload(campaign.id).custom_field_names = ["precinct"]
    db.session.commit()

    soup = soup_of(client.get(f"/campaigns/{campaign.id}"))

    section = soup.find(id="script")
    textarea = initial_message(section)
    assert textarea.name == "textarea" and textarea["name"] == "script"
    assert textarea.get_text() == STORED
    assert textarea["hx-post"] == f"/campaigns/{campaign.id}/script/preview"
    assert textarea["hx-trigger"] == "input changed delay:300ms"
    fields = [code.get_text() for code in section.select("#script-fields code")]
    for name in ("{firstName}", "{lastName}", "{texterFirstName}", "{precinct}"):
        assert name in fields
    form = textarea.find_parent("form")
    assert form["action"] == form["hx-post"] == f"/campaigns/{campaign.id}/script"
    assert form.find("button", string="Save script") is not None
    preview = section.find(class_="message-preview")
    assert preview["aria-live"] == "polite"


def test_save_script_with_htmx_returns_fragment_with_saved(client, admin, campaign):
    response = client.post(
        f"/campaigns/{campaign.id}/script", data={"script": "Hello {firstName}!"}, headers=HX
    )

    assert response.status_code == 200
    soup = soup_of(response)
    root = soup.find()
    assert root["id"] == "script-panel" and root["hx-target"] == "this"
    assert soup.find(class_="saved").get_text(strip=True) == "Saved"
    assert initial_message(soup).get_text() == "Hello {firstName}!"
    assert reload(campaign.id).script == "Hello {firstName}!"


def test_save_script_without_htmx_redirects(client, admin, campaign):
    response = client.post(f"/campaigns/{campaign.id}/script", data={"script": "Hey {lastName}"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/campaigns/{campaign.id}"
    assert reload(campaign.id).script == "Hey {lastName}"


def test_unknown_field_is_an_error_next_to_the_textarea(client, admin, campaign):
    typed = "Hi {foo}, vote!"
    response = client.post(f"/campaigns/{campaign.id}/script", data={"script": typed}, headers=HX)

    assert response.status_code == 200
    soup = soup_of(response)
    textarea = initial_message(soup)
    assert textarea.get_text() == typed
    assert textarea["aria-invalid"] == "true"
    error = soup.find(id="script-error").get_text(strip=True)
    assert error.startswith("Unknown field {foo}. Available fields: {firstName}, {lastName}")
    assert "script-error" in textarea["aria-describedby"]
    assert soup.find(class_="saved") is None
    assert reload(campaign.id).script == STORED


def test_unknown_field_without_htmx_renders_the_page_with_the_error(client, admin, campaign):
    response = client.post(f"/campaigns/{campaign.id}/script", data={"script": "{foo}"})

    assert response.status_code == 422
    soup = soup_of(response)
    assert soup.find("h1") is not None
    section = soup.find(id="script")
    assert initial_message(section).get_text() == "{foo}"
    assert "Unknown field {foo}." in section.find(id="script-error").get_text()
    assert reload(campaign.id).script == STORED


@pytest.mark.parametrize("typed", ["", "   \n "])
def test_empty_script_is_an_error(client, admin, campaign, typed):
    response = client.post(f"/campaigns/{campaign.id}/script", data={"script": typed}, headers=HX)
    assert soup_of(response).find(id="script-error").get_text(strip=True) == (
        "Write the initial message."
    )
    assert reload(campaign.id).script == STORED


def test_custom_field_is_allowed(client, admin, campaign):
    reload(campaign.id).custom_field_names = ["polling place"]
    db.session.commit()

    response = client.post(
        f"/campaigns/{campaign.id}/script",
        data={"script": "Vote at {polling place}, {firstName}"},
        headers=HX,
    )

    assert soup_of(response).find(id="script-error") is None
    assert reload(campaign.id).script == "Vote at {polling place}, {firstName}"


def test_script_can_be_edited_once_started(client, org, admin):
    campaign = make_campaign(org, status="started")
    client.post(f"/campaigns/{campaign.id}/script", data={"script": "New {firstName}"})
    assert reload(campaign.id).script == "New {firstName}"


@pytest.mark.parametrize("hx", [True, False])
def test_archived_script_cannot_be_edited(client, org, admin, hx):
    campaign = make_campaign(org, status="archived", script=STORED)

    response = client.post(
        f"/campaigns/{campaign.id}/script", data={"script": "New"}, headers=HX if hx else {}
    )

    assert response.status_code == (200 if hx else 422)
    section = soup_of(response).find(id="script-panel")
    assert "This campaign is archived and can't be edited." in section.get_text()
    assert reload(campaign.id).script == STORED


# --- the preview ----------------------------------------------------------------------------


def test_preview_renders_the_first_contact(client, admin, campaign):
    make_contacts(campaign, 1, first_name="Maria", last_name="Lopez")
    make_contacts(campaign, 1, start=1, first_name="Bob", last_name="Smith")

    response = client.post(
        f"/campaigns/{campaign.id}/script/preview",
        data={"script": "Hi {firstName} {lastName}, it's {texterFirstName}"},
        headers=HX,
    )

    assert response.status_code == 200
    soup = soup_of(response)
    assert soup.find(class_="bubble").get_text() == "Hi Maria Lopez, it's Dana"
    assert "Maria Lopez" in soup.find(class_="preview-for").get_text()
    assert "Bob" not in soup.get_text()
    assert reload(campaign.id).script == STORED  # a preview changes nothing


def test_campaign_page_preview_shows_the_stored_script_for_the_first_contact(
    client, admin, campaign
):
    make_contacts(campaign, 2, first_name="Maria")
    soup = soup_of(client.get(f"/campaigns/{campaign.id}"))
    preview = soup.find(class_="message-preview")
    assert preview.find(class_="bubble").get_text() == (
        "Hi Maria, this is Dana. Can we count on your vote?"
    )


def test_preview_without_contacts_uses_sample_values_and_says_so(client, admin, campaign):
    response = client.post(
        f"/campaigns/{campaign.id}/script/preview",
        data={"script": "Hi {firstName}"},
        headers=HX,
    )
    soup = soup_of(response)
    assert soup.find(class_="bubble").get_text() == "Hi Alex"
    assert "Sample preview" in soup.find(class_="preview-for").get_text()


def test_preview_flags_unknown_fields(client, admin, campaign):
    response = client.post(
        f"/campaigns/{campaign.id}/script/preview", data={"script": "Hi {foo}"}, headers=HX
    )
    soup = soup_of(response)
    assert soup.find(class_="bubble").get_text() == "Hi "
    assert soup.find(class_="field-error").get_text() == "Unknown field {foo} (shown blank here)."


def test_preview_without_htmx_redirects_to_the_page(client, admin, campaign):
    response = client.post(f"/campaigns/{campaign.id}/script/preview", data={"script": "x"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/campaigns/{campaign.id}"
    assert reload(campaign.id).script == STORED


def test_texter_cannot_preview_or_save(client, auth, org, campaign):
    auth.login_as(make_user(org, role="texter"))
    url = f"/campaigns/{campaign.id}/script"
    assert client.post(url, data={"script": "x"}).status_code == 403
    assert client.post(f"{url}/preview", data={"script": "x"}, headers=HX).status_code == 403
    assert reload(campaign.id).script == STORED


@pytest.mark.parametrize("typed", ["Hi {}, vote!", "Hi {firstName}{}", "{ }"])
def test_empty_braces_are_an_error_next_to_the_textarea(client, admin, campaign, typed):
    response = client.post(f"/campaigns/{campaign.id}/script", data={"script": typed}, headers=HX)
    error = soup_of(response).find(id="script-error").get_text(strip=True)
    assert error.startswith("Empty braces")
    assert "Available fields: {firstName}" in error
    assert reload(campaign.id).script == STORED


def test_empty_braces_are_fields_with_no_name():
    assert script.fields_in("Hi {}, {firstName}") == ["", "firstName"]
    assert script.unknown_fields("Hi {}", []) == [""]
    assert script.unknown_fields_message(["foo", ""], []).startswith("Unknown field {foo}, {}.")
