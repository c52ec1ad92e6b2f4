"""Exports: columns, formula neutralisation, streaming, the big export as a job, the link."""

from __future__ import annotations

import csv
import io
import os
from datetime import datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from flask import g
from sqlalchemy import select

from spoke import clock
from spoke.extensions import db
from spoke.models import CampaignContact, CampaignExport
from spoke.reports import export, export_jobs
from spoke.texting import messaging
from tests.factories import give_contacts, make_campaign, make_contacts, make_org, make_user

HOSTILE = {
    '=HYPERLINK("http://evil","x")': '\'=HYPERLINK("http://evil","x")',
    "+cmd|' /C calc'!A0": "'+cmd|' /C calc'!A0",
    "-2+3": "'-2+3",
    "@SUM(A1:A2)": "'@SUM(A1:A2)",
    "\tTabbed": "'\tTabbed",
    "\rReturn": "'\rReturn",
    "Ann": "Ann",
}


def login(auth, user):
    auth.login_as(user)
    g.pop("_login_user", None)


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


@pytest.fixture
def world(ctx, app_config, tmp_path):
    clock.freeze(datetime(2026, 3, 10, 15, 0))
    org = make_org()
    owner = make_user(org, role="owner", name="Olive Owner")
    texter = make_user(org, name="Tom Texter")
    campaign = make_campaign(org, status="started", custom_field_names=["ward"])
    ids = make_contacts(campaign, 3, custom_fields={"ward": "=1+1"})
    first = db.session.get(CampaignContact, ids[0])
    first.first_name, first.last_name = '=HYPERLINK("http://evil","x")', "@SUM(A1:A2)"
    db.session.commit()
    give_contacts(campaign, texter, 1, actor=owner)
    messaging.send_initial(db.session, ids[0], texter.id)
    db.session.commit()
    clock.advance(minutes=5)
    messaging.receive_inbound(db.session, first.cell, "-2+3 sounds good", "SM1", contact_id=ids[0])
    db.session.commit()
    return {"org": org, "owner": owner, "texter": texter, "campaign": campaign, "ids": ids}


def post_export(client, campaign, kind, **headers):
    return client.post(f"/campaigns/{campaign.id}/export", data={"kind": kind}, headers=headers)


@pytest.mark.parametrize("raw,safe", HOSTILE.items())
def test_neutralize_prefixes_formula_cells(raw, safe):
    assert export.neutralize(raw) == safe


def test_plain_numbers_and_cells_stay_importable():
    assert export.neutralize("+15550000001") == "+15550000001"
    assert export.neutralize("-3") == "-3"
    assert export.neutralize("+1555 000 0001") == "'+1555 000 0001"


def test_contacts_export_columns_streamed(world, client, auth):
    login(auth, world["owner"])
    response = post_export(client, world["campaign"], "contacts")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.is_streamed
    assert 'attachment; filename="campaign-' in response.headers["Content-Disposition"]
    rows = read_csv(response.data)
    assert rows[0] == [
        "First name",
        "Last name",
        "Cell",
        "Zip",
        "ward",
        "Status",
        "Opted out",
        "Texter",
        "Messages sent",
        "Messages received",
        "Last message (UTC)",
    ]
    assert len(rows) == 4  # one row per contact
    hostile = rows[1]
    assert hostile[:5] == [
        '\'=HYPERLINK("http://evil","x")',
        "'@SUM(A1:A2)",
        "+15550000000",
        "",
        "'=1+1",
    ]
    assert hostile[5:] == [
        "Unhandled reply",
        "no",
        "Tom Texter",
        "1",
        "1",
        "2026-03-10 15:05:00",
    ]
    assert rows[2][5:] == ["Needs a first text", "no", "", "0", "0", ""]


def test_messages_export_one_row_per_message(world, client, auth):
    login(auth, world["owner"])
    rows = read_csv(post_export(client, world["campaign"], "messages").data)
    assert rows[0] == export.MESSAGE_HEADER
    assert len(rows) == 3
    sent, received = rows[1], rows[2]
    assert sent[1:7] == [
        "2026-03-10 15:00:00",
        "sent",
        '\'=HYPERLINK("http://evil","x")',
        "'@SUM(A1:A2)",
        "+15550000000",
        "Tom Texter",
    ]
    assert sent[8] == "queued"
    assert received[2] == "received" and received[6] == ""
    assert received[7] == "'-2+3 sounds good"


def test_every_export_is_an_audit_record(world, client, auth):
    login(auth, world["owner"])
    post_export(client, world["campaign"], "messages").get_data()
    record = db.session.scalars(select(CampaignExport)).one()
    assert (record.user_id, record.kind, record.status, record.total) == (
        world["owner"].id,
        "messages",
        "streamed",
        2,
    )
    assert record.created_at == datetime(2026, 3, 10, 15, 5)
    page = BeautifulSoup(
        client.get(f"/campaigns/{world['campaign'].id}/dashboard").data, "html.parser"
    )
    cells = [td.get_text(strip=True) for td in page.select("#export-history tbody td")]
    assert cells == ["10 Mar 2026 15:05", "Olive Owner", "Messages", "2", "Downloaded at once"]


def test_only_admins_and_owners_of_the_organization_export(world, client, auth):
    campaign = world["campaign"]
    login(auth, world["texter"])
    assert post_export(client, campaign, "contacts").status_code == 403
    login(auth, make_user(world["org"], role="supervolunteer"))
    assert post_export(client, campaign, "contacts").status_code == 403
    login(auth, make_user(make_org("Other"), role="owner"))
    assert post_export(client, campaign, "contacts").status_code == 404
    login(auth, make_user(world["org"], role="admin"))
    assert client.get(f"/campaigns/{campaign.id}/export").status_code == 405  # no GET
    assert post_export(client, campaign, "contacts").status_code == 200
    assert db.session.scalar(select(db.func.count()).select_from(CampaignExport)) == 1


def test_unknown_kind_is_refused_with_a_reason(world, client, auth):
    login(auth, world["owner"])
    response = post_export(client, world["campaign"], "passwords")
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert "Choose what to export: contacts or messages." in page.get_data(as_text=True)


def test_rows_are_read_in_pages(world):
    campaign = world["campaign"]
    make_contacts(campaign, 5, start=100)
    paged = list(export.contact_rows(db.session, campaign, page=2))
    assert [r[2] for r in paged] == [r[2] for r in export.contact_rows(db.session, campaign)]
    assert len(paged) == 8


@pytest.fixture
def big(app_config, tmp_path):
    """Exports of more than 2 rows run as a job (inline here: JOBS_IN_THREAD is off)."""
    app_config["EXPORT_JOB_THRESHOLD"] = 2
    app_config["EXPORT_FOLDER"] = str(tmp_path / "exports")
    return tmp_path / "exports"


def test_big_export_runs_as_a_job_with_a_download_link(big, world, client, auth):
    login(auth, world["owner"])
    response = post_export(client, world["campaign"], "contacts")
    assert response.status_code == 303
    status_url = response.headers["Location"]
    record = db.session.scalars(select(CampaignExport)).one()
    assert status_url.endswith(f"/exports/{record.id}")
    db.session.refresh(record)
    assert (record.status, record.written, record.total) == ("done", 3, 3)
    assert record.expires_at == datetime(2026, 3, 11, 15, 5)
    assert os.path.dirname(record.path) == str(big)
    page = BeautifulSoup(client.get(status_url).data, "html.parser")
    assert "Status: Ready" in page.get_text()
    assert page.select_one("progress")["value"] == "100"
    link = page.select_one("#export-download")["href"]
    assert record.token in link
    download = client.get(link)
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    streamed = read_csv(
        "".join(
            export.csv_chunks(export.rows_of(db.session, world["campaign"], "contacts"))
        ).encode()
    )
    assert read_csv(download.data) == streamed
    download.close()


def test_big_export_htmx_answers_with_the_progress_fragment(big, world, client, auth):
    login(auth, world["owner"])
    response = post_export(client, world["campaign"], "contacts", **{"HX-Request": "true"})
    frag = BeautifulSoup(response.data, "html.parser")
    assert frag.find("html") is None
    assert frag.select_one("section.export-progress progress")


def test_a_running_export_polls_itself_with_a_progress_bar(big, world, client, auth):
    record = export_jobs.record_export(
        db.session, world["campaign"], world["owner"].id, "contacts", threshold=2
    )
    db.session.commit()
    assert record.status == "queued" and record.token
    login(auth, world["owner"])
    frag = BeautifulSoup(
        client.get(f"/exports/{record.id}", headers={"HX-Request": "true"}).data, "html.parser"
    )
    section = frag.select_one("section.export-progress")
    assert section["hx-trigger"] == "load delay:1s"
    assert "Waiting to start" in section.get_text()
    assert frag.select_one("#export-download") is None
    page = client.get(f"/exports/{record.id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in page  # in <noscript>: no-JS refresh
    # Before the job finishes, the link is refused with a reason.
    refused = client.get(f"/exports/{record.id}/download/{record.token}")
    assert refused.status_code == 409
    assert "not finished yet" in refused.get_data(as_text=True)


def test_download_link_checks_token_org_role_and_expiry(big, world, client, auth):
    login(auth, world["owner"])
    post_export(client, world["campaign"], "contacts")
    record = db.session.scalars(select(CampaignExport)).one()
    link = f"/exports/{record.id}/download/{record.token}"
    assert client.get(f"/exports/{record.id}/download/{'x' * 43}").status_code == 404
    login(auth, world["texter"])
    assert client.get(link).status_code == 403
    login(auth, make_user(make_org("Other"), role="owner"))
    assert client.get(link).status_code == 404
    login(auth, make_user(world["org"], role="admin"))  # any admin of the organization
    clock.advance(hours=23, minutes=59)
    ok = client.get(link)
    assert ok.status_code == 200
    ok.close()
    clock.advance(minutes=1)
    expired = client.get(link)
    assert expired.status_code == 410
    assert "expired" in expired.get_data(as_text=True)
    page = BeautifulSoup(client.get(f"/exports/{record.id}").data, "html.parser")
    assert page.select_one("#export-download") is None
    assert "expired" in page.get_text()


def test_expired_files_are_removed(big, world, client, auth):
    login(auth, world["owner"])
    post_export(client, world["campaign"], "contacts")
    record = db.session.scalars(select(CampaignExport)).one()
    path = record.path
    assert os.path.exists(path)
    assert export_jobs.remove_expired(db.session, clock.now()) == 0
    assert export_jobs.remove_expired(db.session, clock.now() + timedelta(hours=24)) == 1
    assert not os.path.exists(path)
    db.session.refresh(record)
    assert record.path == ""


def test_a_job_runs_a_queued_export_once(big, world):
    record = export_jobs.record_export(
        db.session, world["campaign"], world["owner"].id, "messages", threshold=0
    )
    db.session.commit()
    done = export_jobs.run_export(db.session, record.id, str(big))
    assert done is not None and done.status == "done" and done.written == 2
    assert export_jobs.run_export(db.session, record.id, str(big)) is None  # a retried job
