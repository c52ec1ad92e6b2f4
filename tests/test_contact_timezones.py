"""Each contact's time zone at import, the import report by source, the Basics "Texting hours"
fieldset, the texter's view of the hours, and the migration that fills existing contacts."""

from __future__ import annotations

import json
from datetime import datetime, time

import pytest
from bs4 import BeautifulSoup
from flask_migrate import upgrade
from sqlalchemy import select, text

from bench.common import throwaway_postgres
from spoke import clock, create_app
from spoke.assignment import join
from spoke.extensions import db
from spoke.models import Campaign, CampaignContact
from tests.conftest import PG_URL
from tests.factories import make_campaign, make_contacts, make_org, make_user
from tests.test_contacts_import import latest_import, report, upload

HX = {"HX-Request": "true"}
CSV = (
    "firstName,lastName,cell,zip,timezone\n"
    "Ann,A,2125550101,10001,America/Denver\n"  # the CSV's zone wins over zip and cell
    "Ben,B,2125550102,60601,\n"  # zip (Chicago) wins over the cell (New York)
    "Cy,C,4155550103,,\n"  # cell: San Francisco's area code
    "Dee,D,8005550104,,\n"  # toll free: many zones, so the campaign's default
    "Eve,E,5005550105,ABCDE,\n"  # no usable zip, a cell of many zones: the default
    "Fay,F,2125550106,,Mars/Olympus_Mons\n"  # invalid zone: the row is rejected
    "Gus,G,2125550107,,america/chicago\n"  # any case of a real name
)


@pytest.fixture
def org(ctx):
    return make_org()


@pytest.fixture
def admin_client(client, auth, org):
    auth.login_as(make_user(org, "admin"))
    return client


def words(response) -> str:
    return " ".join(BeautifulSoup(response.data, "html.parser").get_text(" ").split())


def test_import_takes_csv_then_zip_then_cell_then_default(org, admin_client):
    campaign = make_campaign(org, default_timezone="America/Phoenix")
    upload(admin_client, campaign.id, CSV)
    contact_import = latest_import(campaign.id)
    db.session.expire_all()
    got = {
        c.first_name: (c.timezone, c.timezone_source)
        for c in db.session.scalars(select(CampaignContact))
    }
    assert got == {
        "Ann": ("America/Denver", "csv"),
        "Ben": ("America/Chicago", "zip"),
        "Cy": ("America/Los_Angeles", "cell"),
        "Dee": ("America/Phoenix", "default"),
        "Eve": ("America/Phoenix", "default"),
        "Gus": ("America/Chicago", "csv"),
    }
    assert contact_import.rejected_rows == [
        {
            "row": 7,
            "reason": "invalid time zone: Mars/Olympus_Mons (use a name like America/Chicago,"
            " or leave it blank)",
        }
    ]
    assert contact_import.timezone_sources == {"csv": 2, "zip": 1, "cell": 1, "default": 2}
    assert db.session.get(Campaign, campaign.id).contact_timezones == [
        "America/Chicago",
        "America/Denver",
        "America/Los_Angeles",
        "America/Phoenix",
    ]
    soup = report(admin_client, contact_import.id)
    zones = soup.find("ul", attrs={"aria-label": "Time zones"})
    assert " ".join(zones.get_text(" ").split()) == (
        "2 Time zone from the CSV 1 Time zone from zip 1 Time zone from cell "
        "2 Campaign's default time zone"
    )


def test_new_campaign_enforces_nine_to_nine_in_new_york(org, admin_client):
    admin_client.post("/campaigns/new", data={"title": "Fresh"})
    campaign = db.session.scalars(select(Campaign).where(Campaign.title == "Fresh")).one()
    assert (campaign.texting_hours_enforced, campaign.default_timezone) == (
        True,
        "America/New_York",
    )
    assert (campaign.texting_hours_start, campaign.texting_hours_stop) == (time(9), time(21))
    soup = BeautifulSoup(admin_client.get(f"/campaigns/{campaign.id}").data, "html.parser")
    fieldset = soup.find("fieldset", id="texting-hours")
    assert fieldset.legend.get_text(strip=True) == "Texting hours"
    assert fieldset.find("input", id="texting_hours_enforced").has_attr("checked")
    assert fieldset.find("input", id="texting_hours_start")["value"] == "09:00"
    assert fieldset.find("input", id="texting_hours_stop")["value"] == "21:00"
    selected = fieldset.find("select", id="default_timezone").find("option", selected=True)
    assert selected["value"] == "America/New_York"
    for control in ("texting_hours_enforced", "texting_hours_start", "default_timezone"):
        assert fieldset.find("label", attrs={"for": control})


def basics(campaign: Campaign, **hours: str) -> dict[str, str]:
    form = {
        "title": campaign.title,
        "description": "",
        "texting_hours_start": "09:00",
        "texting_hours_stop": "21:00",
        "default_timezone": "America/New_York",
        "texting_hours_enforced": "1",
    }
    form.update(hours)
    return {k: v for k, v in form.items() if v is not None}


def test_basics_saves_texting_hours_inline(org, admin_client):
    campaign = make_campaign(org)
    form = basics(
        campaign,
        texting_hours_start="10:30",
        texting_hours_stop="20:00",
        default_timezone="America/Chicago",
        texting_hours_enforced=None,
    )
    response = admin_client.post(f"/campaigns/{campaign.id}/basics", data=form, headers=HX)
    assert response.status_code == 200 and "Saved" in words(response)
    db.session.expire_all()
    saved = db.session.get(Campaign, campaign.id)
    assert (saved.texting_hours_enforced, saved.default_timezone) == (False, "America/Chicago")
    assert (saved.texting_hours_start, saved.texting_hours_stop) == (time(10, 30), time(20))


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("texting_hours_start", "21:00", "Stop texting at must be later than Start texting at."),
        ("texting_hours_stop", "25:00", "Enter a time like 21:00 for Stop texting at."),
        ("texting_hours_start", "", "Enter a time like 09:00 for Start texting at."),
        ("default_timezone", "Mars/Base", "Choose a time zone from the list."),
    ],
)
def test_basics_refuses_bad_hours_and_saves_nothing(org, admin_client, field, value, error):
    campaign = make_campaign(org, title="Before")
    form = basics(campaign, **{field: value})
    form["title"] = "After"
    response = admin_client.post(f"/campaigns/{campaign.id}/basics", data=form, headers=HX)
    assert error in words(response)
    db.session.expire_all()
    unchanged = db.session.get(Campaign, campaign.id)
    assert unchanged.title == "Before" and unchanged.texting_hours_start == time(9)
    assert unchanged.default_timezone == "America/New_York"


def test_texter_sees_the_hours_and_the_refusal(org, client, auth):
    texter = make_user(org, "texter")
    campaign = make_campaign(
        org, status="started", texting_hours_enforced=True, dynamic_initials_enabled=True
    )
    make_contacts(campaign, 3, timezone="America/Chicago")
    join.join_by_link(db.session, campaign.initials_join_token, texter.id)
    db.session.commit()
    clock.freeze(datetime(2026, 1, 15, 12, 50))  # 6:50 am CST
    auth.login_as(texter)
    page = client.get(f"/texting/campaigns/{campaign.id}")
    assert "Texting hours: 9:00 am–9:00 pm in each contact's time zone." in words(page)
    answer = client.post(f"/texting/campaigns/{campaign.id}/claim/initials", headers=HX)
    assert (
        "No contacts can be texted right now: texting hours are 9:00 am–9:00 pm in each "
        "contact's time zone. The next ones open at 9:00 am Central (in 2 h 10 min)."
    ) in words(answer)


@pytest.fixture
def empty_url(backend, tmp_path):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    with throwaway_postgres(PG_URL, "spoke_test_tz") as url:
        yield url


def test_migration_gives_existing_contacts_a_zone(empty_url, tmp_path):
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": empty_url, "SECRET_KEY": "x", "UPLOAD_FOLDER": str(tmp_path)}
    )
    with app.app_context():
        upgrade(revision="38d67f0e41b4")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO organization (id, name, created_at) VALUES (1, 'O', '2026-01-01')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO campaign (id, organization_id, title, description, status, "
                    "script, custom_field_names, dynamic_initials_enabled, initials_batch_size, "
                    "require_replies_handled, dynamic_replies_enabled, replies_batch_size, "
                    "release_unhandled_enabled, release_unhandled_minutes, "
                    "initials_join_token, replies_join_token, created_at) VALUES "
                    "(1, 1, 'C', '', 'draft', '', '[]', false, 200, false, false, 25, false, "
                    "30, 'a', 'b', '2026-01-01')"
                )
            )
            for i, (cell, zip_code) in enumerate(
                [("+13125550100", "98101"), ("+13125550101", ""), ("+15555550102", "")]
            ):
                conn.execute(
                    text(
                        "INSERT INTO campaign_contact (campaign_id, first_name, last_name, cell,"
                        " zip, custom_fields, message_status, opted_out, created_at, updated_at)"
                        " VALUES (1, :n, '', :cell, :zip, '{}', 'needs_message', false,"
                        " '2026-01-01', '2026-01-01')"
                    ),
                    {"n": f"P{i}", "cell": cell, "zip": zip_code},
                )
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT timezone, timezone_source FROM campaign_contact ORDER BY id")
            ).all()
            campaign = conn.execute(
                text("SELECT texting_hours_enforced, contact_timezones FROM campaign")
            ).one()
        assert [tuple(r) for r in rows] == [
            ("America/Los_Angeles", "zip"),
            ("America/Chicago", "cell"),
            ("America/New_York", "default"),
        ]
        assert bool(campaign[0]) is True
        zones = campaign[1] if isinstance(campaign[1], list) else json.loads(campaign[1])
        assert zones == ["America/Chicago", "America/Los_Angeles", "America/New_York"]
        db.engine.dispose()
