"""Assignment Management: toggles, batch sizes, release minutes and the assignment links."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from spoke.assignment import join, settings
from spoke.extensions import db
from spoke.models import Campaign
from tests.factories import make_campaign, make_org, make_user

HX = {"HX-Request": "true"}
TOGGLES = {
    "Dynamic Assignment for Initials": "dynamic_initials_enabled",
    "Dynamic Assignment for Replies": "dynamic_replies_enabled",
    "Release Unhandled Replies": "release_unhandled_enabled",
}


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def fieldset(soup: BeautifulSoup, legend: str):
    """The fieldset whose legend starts with `legend` (a "Saved" note may follow it)."""
    for candidate in soup.find_all("fieldset"):
        found = candidate.find("legend")
        if found is not None and found.get_text(" ", strip=True).startswith(legend):
            return candidate
    raise AssertionError(f"no fieldset {legend!r}")


def control(scope, label_text: str):
    """The control labelled exactly `label_text` inside `scope`."""
    for label in scope.find_all("label"):
        if label.get_text(" ", strip=True) == label_text:
            return scope.find(id=label["for"]) or label.find_parent().find(id=label["for"])
    raise AssertionError(f"no label {label_text!r}")


def button(scope, text: str):
    return scope.find("button", string=lambda s: s is not None and s.strip() == text)


def settings_form(soup: BeautifulSoup):
    return soup.find("form", id="assignment-settings-form")


def form_values(form) -> dict[str, list[str]]:
    """What a browser would submit for `form` (checked boxes only, hidden inputs too)."""
    values: dict[str, list[str]] = {}
    for field in form.find_all(["input", "select", "textarea"]):
        name = field.get("name")
        if not name or (field.get("type") == "checkbox" and not field.has_attr("checked")):
            continue
        values.setdefault(name, []).append(field.get("value", ""))
    return values


def reload(campaign_id: int) -> Campaign:
    db.session.expire_all()
    return db.session.get(Campaign, campaign_id)


@pytest.fixture
def org(ctx):
    return make_org("Our Org")


@pytest.fixture
def campaign(org):
    return make_campaign(org, title="Fall push", status="started")


@pytest.fixture
def admin(org, auth):
    user = make_user(org, role="admin", name="Dana Admin")
    auth.login_as(user)
    return user


def page(client, campaign) -> BeautifulSoup:
    response = client.get(f"/campaigns/{campaign.id}")
    assert response.status_code == 200
    return soup_of(response)


def post_settings(client, campaign, hx: bool, **fields):
    return client.post(
        f"/campaigns/{campaign.id}/assignment-settings",
        data=fields,
        headers=HX if hx else {},
    )


# --- the domain: validate and save -------------------------------------------------------


@pytest.mark.parametrize("raw", ["0", "-1", "10001", "abc", "", " ", "1.5", "2e3", "+5"])
def test_batch_size_rejects(raw):
    clean, errors = settings.validate({"initials_batch_size": raw, "replies_batch_size": raw})
    assert clean == {}
    assert errors == {
        "initials_batch_size": "Enter a whole number from 1 to 10,000.",
        "replies_batch_size": "Enter a whole number from 1 to 10,000.",
    }


@pytest.mark.parametrize("raw, value", [("1", 1), ("10000", 10000), (" 25 ", 25), ("1,000", 1000)])
def test_batch_size_accepts(raw, value):
    assert settings.validate({"initials_batch_size": raw}) == ({"initials_batch_size": value}, {})


@pytest.mark.parametrize("raw, ok", [("1", True), ("10080", True), ("10081", False), ("0", False)])
def test_release_minutes_bounds(raw, ok):
    clean, errors = settings.validate({"release_unhandled_minutes": raw})
    assert bool(clean) is ok and bool(errors) is not ok


def test_save_keeps_valid_fields_and_leaves_rejected_ones(campaign):
    result = settings.save_settings(
        db.session,
        campaign.id,
        {"dynamic_initials_enabled": "on", "initials_batch_size": "0", "replies_batch_size": "7"},
    )
    db.session.commit()
    assert result.changed == {"dynamic_initials_enabled": True, "replies_batch_size": 7}
    assert result.rejected == {"initials_batch_size": "0"}
    campaign = reload(campaign.id)
    assert campaign.dynamic_initials_enabled and campaign.replies_batch_size == 7
    assert campaign.initials_batch_size == 200


# --- the section on the campaign page ----------------------------------------------------


def test_section_shows_three_groups_with_defaults(client, admin, campaign):
    soup = page(client, campaign)
    form = settings_form(soup)
    assert form["action"] == f"/campaigns/{campaign.id}/assignment-settings"
    assert form["hx-post"] == form["action"] and "change" in form["hx-trigger"]
    initials = fieldset(form, "Dynamic Assignment for Initials")
    assert control(initials, "Dynamic Assignment for Initials")["type"] == "checkbox"
    assert control(initials, "How large should this batch size be?")["value"] == "200"
    finish = control(
        initials, "Require texters to finish their replies before requesting more initials"
    )
    assert finish["type"] == "checkbox" and not finish.has_attr("checked")
    replies = fieldset(form, "Dynamic Assignment for Replies")
    assert control(replies, "How large should this batch size be?")["value"] == "25"
    release = fieldset(form, "Release Unhandled Replies")
    assert control(release, "Release replies unhandled for how many minutes?")["value"] == "30"
    assert control(release, "Release Unhandled Replies")["type"] == "checkbox"
    # Without JavaScript it is an ordinary form with a Save button.
    assert button(form, "Save") is not None
    assert soup.find(string="Assignment link") is None  # toggles are off: no links shown
    assert all(f.get("action") for f in soup.find_all("form"))


@pytest.mark.parametrize("legend, attribute", list(TOGGLES.items()))
@pytest.mark.parametrize("hx", [True, False])
def test_each_toggle_saves_on_and_off(client, admin, campaign, legend, attribute, hx):
    form = settings_form(page(client, campaign))
    values = form_values(form)
    values[attribute] = ["", "on"]  # hidden "" then the ticked checkbox
    response = post_settings(client, campaign, hx, **values)
    if hx:
        assert response.status_code == 200
        soup = soup_of(response)
        assert soup.find(id="assignment-settings") is not None
        assert soup.find("html") is None  # a fragment, not a page
        group = fieldset(soup, legend)
        assert "Saved" in group.find("legend").get_text()
        assert control(group, legend).has_attr("checked")
    else:
        assert response.status_code == 303
        assert response.headers["Location"].endswith(
            f"/campaigns/{campaign.id}#assignment-management"
        )
        group = fieldset(page(client, campaign), legend)
        assert control(group, legend).has_attr("checked")
    assert getattr(reload(campaign.id), attribute) is True

    values[attribute] = [""]  # unticked: only the hidden field is sent
    post_settings(client, campaign, hx, **values)
    assert getattr(reload(campaign.id), attribute) is False
    # Only the toggle changed.
    other = set(TOGGLES.values()) - {attribute}
    assert not any(getattr(reload(campaign.id), name) for name in other)


@pytest.mark.parametrize("raw", ["0", "-1", "10001", "abc", ""])
@pytest.mark.parametrize("hx", [True, False])
def test_bad_batch_size_is_rejected_next_to_the_field(client, admin, campaign, raw, hx):
    values = form_values(settings_form(page(client, campaign)))
    values["replies_batch_size"] = [raw]
    response = post_settings(client, campaign, hx, **values)
    if hx:
        assert response.status_code == 200
        soup = soup_of(response)
    else:
        assert response.status_code == 303
        soup = page(client, campaign)
    group = fieldset(soup, "Dynamic Assignment for Replies")
    field = control(group, "How large should this batch size be?")
    assert field["value"] == raw and field["aria-invalid"] == "true"
    error = soup.find(id=field["aria-describedby"])
    assert error.get_text(strip=True) == "Enter a whole number from 1 to 10,000."
    assert "Saved" not in group.find("legend").get_text()
    assert reload(campaign.id).replies_batch_size == 25
    # The message is shown once: the next visit shows the stored value again.
    again = control(
        fieldset(page(client, campaign), "Dynamic Assignment for Replies"),
        "How large should this batch size be?",
    )
    assert again["value"] == "25" and not again.has_attr("aria-invalid")


@pytest.mark.parametrize("raw", ["0", "10081", "soon"])
def test_bad_release_minutes_rejected(client, admin, campaign, raw):
    values = form_values(settings_form(page(client, campaign)))
    values["release_unhandled_minutes"] = [raw]
    soup = soup_of(post_settings(client, campaign, True, **values))
    field = control(
        fieldset(soup, "Release Unhandled Replies"),
        "Release replies unhandled for how many minutes?",
    )
    assert soup.find(id=field["aria-describedby"]).get_text(strip=True) == (
        "Enter a whole number from 1 to 10,080."
    )
    assert reload(campaign.id).release_unhandled_minutes == 30


def test_batch_size_changes_while_started_and_applies_to_next_claim(client, admin, campaign):
    values = form_values(settings_form(page(client, campaign)))
    values["initials_batch_size"] = ["3"]
    post_settings(client, campaign, True, **values)
    assert reload(campaign.id).initials_batch_size == 3
    assert reload(campaign.id).status == "started"


def test_toggle_on_shows_link_copy_and_regenerate(client, admin, campaign):
    values = form_values(settings_form(page(client, campaign)))
    values["dynamic_initials_enabled"] = ["", "on"]
    soup = soup_of(post_settings(client, campaign, True, **values))
    group = fieldset(soup, "Dynamic Assignment for Initials")
    link = control(group, "Assignment link")
    token = reload(campaign.id).initials_join_token
    assert link["value"] == f"http://localhost/join/{token}"
    assert link.has_attr("readonly")
    assert button(group, "Copy link")["data-copy-target"] == link["id"]
    regenerate = button(group, "Regenerate link")
    target_form = soup.find("form", id=regenerate["form"])
    assert target_form["action"] == f"/campaigns/{campaign.id}/links/initials/regenerate"
    # The replies link stays hidden until its toggle is on.
    assert fieldset(soup, "Dynamic Assignment for Replies").find("input", readonly=True) is None


def test_links_are_random_long_and_separate(campaign):
    assert campaign.initials_join_token != campaign.replies_join_token
    for token in (campaign.initials_join_token, campaign.replies_join_token):
        assert len(token) >= 22  # 22 url-safe base64 characters carry 128 bits
    other = make_campaign(make_org("Other"))
    assert other.initials_join_token != campaign.initials_join_token


@pytest.mark.parametrize("hx", [True, False])
def test_regenerate_replaces_the_link_and_the_old_one_stops(client, admin, campaign, hx):
    campaign.dynamic_replies_enabled = True
    db.session.commit()
    old = campaign.replies_join_token
    response = client.post(
        f"/campaigns/{campaign.id}/links/replies/regenerate", headers=HX if hx else {}
    )
    new = reload(campaign.id).replies_join_token
    assert new != old
    if hx:
        soup = soup_of(response)
    else:
        assert response.status_code == 303
        soup = page(client, campaign)
    group = fieldset(soup, "Dynamic Assignment for Replies")
    assert control(group, "Assignment link")["value"].endswith(f"/join/{new}")
    assert "The old link no longer works" in group.get_text()
    assert join.find_link(db.session, old) is None
    assert join.find_link(db.session, new) is not None


def test_regenerate_unknown_kind_is_404(client, admin, campaign):
    assert client.post(f"/campaigns/{campaign.id}/links/other/regenerate").status_code == 404


def test_public_base_url_is_used_for_links(app, client, admin, campaign):
    app.config["PUBLIC_BASE_URL"] = "https://texting.example.org/"
    campaign.dynamic_initials_enabled = True
    db.session.commit()
    link = control(
        fieldset(page(client, campaign), "Dynamic Assignment for Initials"), "Assignment link"
    )
    assert link["value"] == f"https://texting.example.org/join/{campaign.initials_join_token}"


@pytest.mark.parametrize("role", ["supervolunteer", "texter"])
def test_only_owners_and_admins_change_settings(client, auth, org, campaign, role):
    auth.login_as(make_user(org, role=role))
    assert post_settings(client, campaign, True, initials_batch_size="5").status_code == 403
    assert client.post(f"/campaigns/{campaign.id}/links/initials/regenerate").status_code == 403
    campaign = reload(campaign.id)
    assert campaign.initials_batch_size == 200


def test_supervolunteer_does_not_see_the_section(client, auth, org, campaign):
    campaign.dynamic_initials_enabled = True
    db.session.commit()
    auth.login_as(make_user(org, role="supervolunteer"))
    soup = page(client, campaign)
    assert settings_form(soup) is None
    assert campaign.initials_join_token not in str(soup)
    assert "Only owners and admins" in soup.find(id="assignment-management").get_text()


def test_owner_may_change_settings(client, auth, org, campaign):
    auth.login_as(make_user(org, role="owner"))
    response = post_settings(client, campaign, True, release_unhandled_minutes="45")
    assert response.status_code == 200
    assert reload(campaign.id).release_unhandled_minutes == 45


def test_other_organizations_campaign_is_404(client, admin):
    foreign = make_campaign(make_org("Elsewhere"))
    assert post_settings(client, foreign, True, initials_batch_size="5").status_code == 404
    assert client.post(f"/campaigns/{foreign.id}/links/initials/regenerate").status_code == 404
    assert reload(foreign.id).initials_batch_size == 200
