"""Contacts CSV upload and the streaming import: upload, progress page, report, rules."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from flask import g, render_template_string
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from spoke.contacts import csv_reader, importer
from spoke.extensions import db
from spoke.models import Campaign, CampaignContact, ContactImport, Membership, OptOut
from tests.factories import make_campaign, make_contacts, make_org, make_user

HEADER = "firstName,lastName,cell,zip\n"


@pytest.fixture
def org(ctx):
    return make_org("Org A")


@pytest.fixture
def admin(org):
    return make_user(org, role="admin")


@pytest.fixture
def campaign(org):
    return make_campaign(org)


@pytest.fixture
def staff_client(client, auth, admin):
    auth.login_as(admin)
    return client


def upload(client, campaign_id: int, data: bytes | str, filename: str = "contacts.csv"):
    """Post a file through the upload form's endpoint (no redirects followed)."""
    raw = data.encode() if isinstance(data, str) else data
    return client.post(
        f"/campaigns/{campaign_id}/contacts",
        data={"file": (io.BytesIO(raw), filename)},
        content_type="multipart/form-data",
    )


def latest_import(campaign_id: int) -> ContactImport:
    db.session.expire_all()
    return db.session.scalars(
        select(ContactImport)
        .where(ContactImport.campaign_id == campaign_id)
        .order_by(ContactImport.id.desc())
    ).first()


def contacts_of(campaign_id: int) -> list[CampaignContact]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(CampaignContact)
            .where(CampaignContact.campaign_id == campaign_id)
            .order_by(CampaignContact.id)
        )
    )


def report(client, import_id: int) -> BeautifulSoup:
    response = client.get(f"/imports/{import_id}")
    assert response.status_code == 200
    return BeautifulSoup(response.data, "html.parser")


def stat(soup: BeautifulSoup, label: str) -> int:
    """The number shown next to a report label, e.g. stat(soup, "Imported")."""
    for item in soup.select("ul.stats li"):
        strong = item.find("strong")
        if item.get_text(" ", strip=True).endswith(label) and strong:
            return int(strong.get_text().replace(",", ""))
    raise AssertionError(f"no {label!r} in the report")


def rejected_table(soup: BeautifulSoup) -> list[tuple[str, str]]:
    return [
        tuple(td.get_text(strip=True) for td in tr.find_all("td"))
        for tr in soup.select("table tbody tr")
    ]


def test_happy_path_with_zip_and_custom_fields(app, staff_client, campaign):
    campaign.custom_field_names = ["ward"]
    db.session.commit()
    csv_text = (
        "firstName , lastName,cell,zip,ward,district\n"
        "Ana,Lima,(212) 555-0100,10001,W1,D9\n"
        "Bo,Chan,+1 415 555 2671,94110,W2,\n"
    )
    response = upload(staff_client, campaign.id, csv_text)

    assert response.status_code == 303
    contact_import = latest_import(campaign.id)
    assert response.headers["Location"].endswith(f"/imports/{contact_import.id}")
    assert contact_import.status == "done"
    assert contact_import.finished_at is not None
    assert contact_import.processed_bytes == contact_import.total_bytes == len(csv_text)
    contacts = contacts_of(campaign.id)
    assert [(c.first_name, c.last_name, c.cell, c.zip) for c in contacts] == [
        ("Ana", "Lima", "+12125550100", "10001"),
        ("Bo", "Chan", "+14155552671", "94110"),
    ]
    assert contacts[0].custom_fields == {"ward": "W1", "district": "D9"}
    assert contacts[1].custom_fields == {"ward": "W2", "district": ""}
    assert db.session.get(Campaign, campaign.id).custom_field_names == ["ward", "district"]
    assert list(Path(app.config["UPLOAD_FOLDER"]).iterdir()) == []  # the upload is deleted

    soup = report(staff_client, contact_import.id)
    assert stat(soup, "Imported") == 2
    assert stat(soup, "Duplicates skipped") == 0
    assert stat(soup, "Opted-out skipped") == 0
    assert stat(soup, "Rejected") == 0
    assert soup.find("progress", attrs={"aria-label": "Import progress"})["value"] == "100"
    assert "2 rows processed" in soup.get_text()
    assert soup.find("a", string="Back to campaign")["href"] == f"/campaigns/{campaign.id}#contacts"
    assert soup.find("meta", attrs={"http-equiv": "refresh"}) is None
    assert soup.find(attrs={"hx-get": True}) is None


def test_missing_required_columns_imports_nothing(staff_client, campaign):
    upload(staff_client, campaign.id, "firstName,phone\nAna,2125550100\n")

    contact_import = latest_import(campaign.id)
    assert contact_import.status == "failed"
    assert "Missing required columns: lastName, cell" in contact_import.error
    assert contacts_of(campaign.id) == []
    soup = report(staff_client, contact_import.id)
    alert = soup.find(attrs={"role": "alert"})
    assert "lastName, cell" in alert.get_text()
    assert soup.select("ul.stats") == []  # nothing ran: no row of zeros
    assert soup.find("a", string="Back to campaign")["href"] == f"/campaigns/{campaign.id}#contacts"


def test_bad_and_missing_cells_rejected_with_spreadsheet_row_numbers(staff_client, campaign):
    csv_text = (
        "firstName,lastName,cell,notes\n"
        'Ana,Lima,2125550100,"two\nlines"\n'  # row 2 spans two lines of the file
        "Bad,Number,12,\n"  # row 3
        "\n"  # row 4: blank, skipped
        "No,Cell,,\n"  # row 5
        "Cy,Diaz,2125550101,\n"  # row 6: valid rows are never dropped
    )
    upload(staff_client, campaign.id, csv_text)

    contact_import = latest_import(campaign.id)
    assert contact_import.status == "done"
    assert contact_import.rejected_rows == [
        {"row": 3, "reason": "invalid phone number: 12"},
        {"row": 5, "reason": "missing cell"},
    ]
    assert [c.cell for c in contacts_of(campaign.id)] == ["+12125550100", "+12125550101"]
    soup = report(staff_client, contact_import.id)
    assert stat(soup, "Rejected") == 2
    assert stat(soup, "Imported") == 2
    assert rejected_table(soup) == [("3", "invalid phone number: 12"), ("5", "missing cell")]


def test_duplicates_within_file_and_against_campaign_are_skipped(staff_client, campaign):
    make_contacts(campaign, 1, cell="+12125550100")
    csv_text = HEADER + (
        "Ana,Lima,212-555-0100,\n"  # already in the campaign
        "Bo,Chan,2125550177,\n"
        "Bo,Again,+1 (212) 555-0177,\n"  # same cell as the row above
        "Cy,Diaz,2125550178,\n"
    )
    upload(staff_client, campaign.id, csv_text)

    contact_import = latest_import(campaign.id)
    assert (contact_import.imported, contact_import.duplicates) == (2, 2)
    cells = sorted(c.cell for c in contacts_of(campaign.id))
    assert cells == ["+12125550100", "+12125550177", "+12125550178"]
    assert stat(report(staff_client, contact_import.id), "Duplicates skipped") == 2


def test_duplicates_across_chunks(staff_client, campaign, monkeypatch):
    monkeypatch.setattr(importer, "CHUNK_SIZE", 2)
    rows = [f"P{i},Q,21255501{i:02d}," for i in range(5)]
    upload(staff_client, campaign.id, HEADER + "\n".join(rows + rows[:3]) + "\n")

    contact_import = latest_import(campaign.id)
    assert (contact_import.imported, contact_import.duplicates) == (5, 3)


def test_utf8_bom_header_matches(staff_client, campaign):
    data = "\ufeff".encode() + "firstName,lastName,cell\nJosé,Núñez,2125550100\n".encode()
    upload(staff_client, campaign.id, data)

    contact_import = latest_import(campaign.id)
    assert contact_import.status == "done", contact_import.error
    [contact] = contacts_of(campaign.id)
    assert (contact.first_name, contact.last_name) == ("José", "Núñez")
    assert contact.custom_fields == {}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\n  \n", "The file is empty."),
        (b"firstName,lastName,cell\n", "The file has a header but no rows."),
        (b"firstName,lastName,cell\n,,\n\n", "The file has a header but no rows."),
    ],
)
def test_empty_files_fail_with_a_clear_message(staff_client, campaign, data, message):
    upload(staff_client, campaign.id, data)

    contact_import = latest_import(campaign.id)
    assert (contact_import.status, contact_import.error) == ("failed", message)
    soup = report(staff_client, contact_import.id)
    assert message in soup.find(attrs={"role": "alert"}).get_text()
    assert db.session.get(Campaign, campaign.id).custom_field_names == []


def test_opted_out_cell_is_skipped(staff_client, campaign, org):
    other_org = make_org("Org B")
    db.session.add_all(
        [
            OptOut(organization_id=org.id, cell="+12125550100"),
            OptOut(organization_id=other_org.id, cell="+12125550101"),
        ]
    )
    db.session.commit()
    upload(staff_client, campaign.id, HEADER + "A,B,2125550100,\nC,D,2125550101,\n")

    contact_import = latest_import(campaign.id)
    assert (contact_import.imported, contact_import.opted_out_skipped) == (1, 1)
    assert [c.cell for c in contacts_of(campaign.id)] == ["+12125550101"]
    assert stat(report(staff_client, contact_import.id), "Opted-out skipped") == 1


def test_non_utf8_file_fails_clearly_and_imports_nothing(staff_client, campaign):
    data = ("firstName,lastName,cell\nAna,Lima,2125550100\nJosé,Núñez,2125550101\n").encode(
        "latin-1"
    )
    response = upload(staff_client, campaign.id, data)

    assert response.status_code == 303
    contact_import = latest_import(campaign.id)
    assert contact_import.status == "failed"
    assert "not UTF-8" in contact_import.error
    assert "line 3" in contact_import.error
    assert contacts_of(campaign.id) == []
    assert "not UTF-8" in report(staff_client, contact_import.id).get_text()


def test_unexpected_error_keeps_committed_chunks_and_says_so(staff_client, campaign, monkeypatch):
    monkeypatch.setattr(importer, "CHUNK_SIZE", 2)
    real_insert = importer._ChunkWriter._insert
    calls = []

    def failing_insert(self, rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real_insert(self, rows)

    monkeypatch.setattr(importer._ChunkWriter, "_insert", failing_insert)
    rows = "".join(f"P{i},Q,21255501{i:02d},\n" for i in range(5))
    upload(staff_client, campaign.id, HEADER + rows)

    contact_import = latest_import(campaign.id)
    assert contact_import.status == "failed"
    assert "disk on fire" in contact_import.error
    assert "2 contacts imported before the error were kept" in contact_import.error
    assert contact_import.imported == 2 and contact_import.rows_processed == 2
    assert len(contacts_of(campaign.id)) == 2
    assert contact_import.finished_at is not None
    soup = report(staff_client, contact_import.id)
    assert "were kept" in soup.find(attrs={"role": "alert"}).get_text()
    assert stat(soup, "Imported") == 2


def test_progress_is_committed_chunk_by_chunk(app, staff_client, campaign, monkeypatch):
    monkeypatch.setattr(importer, "CHUNK_SIZE", 3)
    seen: list[tuple[str, int, int, int]] = []

    def look_from_outside(session: Session) -> None:
        # What another request (the progress bar) can see after each commit.
        with db.engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT status, rows_processed, processed_bytes, imported"
                    " FROM contact_import ORDER BY id DESC LIMIT 1"
                )
            ).first()
        if row is not None:
            seen.append(tuple(row))

    event.listen(Session, "after_commit", look_from_outside)
    try:
        rows = "".join(f"P{i},Q,21255502{i:02d},\n" for i in range(8))
        upload(staff_client, campaign.id, HEADER + rows)
    finally:
        event.remove(Session, "after_commit", look_from_outside)

    running = [s for s in seen if s[0] == "running"]
    assert [s[1] for s in running] == [0, 3, 6, 8]
    assert [s[3] for s in running] == [0, 3, 6, 8]
    assert all(a[2] <= b[2] for a, b in zip(running, running[1:], strict=False))
    assert running[-1][2] > 0
    assert seen[-1][0] == "done"


def test_archived_campaign_refuses_upload(staff_client, org):
    archived = make_campaign(org, status="archived")
    response = upload(staff_client, archived.id, HEADER + "A,B,2125550100,\n")

    assert response.status_code == 303
    assert response.headers["Location"] == f"/campaigns/{archived.id}#contacts"
    assert latest_import(archived.id) is None
    assert contacts_of(archived.id) == []
    page = BeautifulSoup(staff_client.get(response.headers["Location"]).data, "html.parser")
    assert importer.ARCHIVED in page.select_one(".flash-error").get_text()
    assert page.find("label", string="Contacts CSV") is None


def test_missing_file_is_refused_with_a_message(staff_client, campaign):
    response = staff_client.post(f"/campaigns/{campaign.id}/contacts", data={})

    assert response.status_code == 303
    assert latest_import(campaign.id) is None
    with staff_client.session_transaction() as sess:
        assert ("error", "Choose a CSV file to upload.") in sess["_flashes"]


def _done_import(campaign) -> ContactImport:
    contact_import = ContactImport(
        campaign_id=campaign.id, status="done", filename="x.csv", rejected_rows=[]
    )
    db.session.add(contact_import)
    db.session.commit()
    return contact_import


def test_texter_gets_403_on_upload_and_status(client, auth, org, campaign):
    contact_import = _done_import(campaign)
    auth.login_as(make_user(org, role="texter"))

    assert upload(client, campaign.id, HEADER + "A,B,2125550100,\n").status_code == 403
    assert client.get(f"/imports/{contact_import.id}").status_code == 403
    assert latest_import(campaign.id).id == contact_import.id


def test_other_organization_gets_404_on_upload_and_status(client, auth, campaign):
    contact_import = _done_import(campaign)
    outsider = make_user(make_org("Org B"), role="owner")
    auth.login_as(outsider)

    assert upload(client, campaign.id, HEADER + "A,B,2125550100,\n").status_code == 404
    assert client.get(f"/imports/{contact_import.id}").status_code == 404
    assert client.get("/imports/999999").status_code == 404
    assert latest_import(campaign.id).id == contact_import.id


def test_supervolunteer_may_upload(client, auth, org, campaign):
    auth.login_as(make_user(org, role="supervolunteer"))
    assert upload(client, campaign.id, HEADER + "A,B,2125550100,\n").status_code == 303
    assert latest_import(campaign.id).imported == 1


def test_status_page_fragment_while_running_and_full_page(staff_client, campaign):
    contact_import = ContactImport(
        campaign_id=campaign.id,
        status="running",
        total_bytes=1000,
        processed_bytes=250,
        rows_processed=1234,
        rejected_rows=[],
    )
    db.session.add(contact_import)
    db.session.commit()
    url = f"/imports/{contact_import.id}"

    fragment = staff_client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert b"<html" not in fragment.data
    soup = BeautifulSoup(fragment.data, "html.parser")
    root = soup.find(True)
    assert root["hx-get"] == url
    assert root["hx-trigger"] == "load delay:1s"
    assert (root["hx-target"], root["hx-swap"]) == ("this", "outerHTML")
    assert root.find("progress", attrs={"aria-label": "Import progress"})["value"] == "25"
    assert "1,234 rows processed" in root.get_text()
    assert soup.find("meta") is None

    page = BeautifulSoup(staff_client.get(url).data, "html.parser")
    assert page.find("html") is not None
    refresh = page.find("meta", attrs={"http-equiv": "refresh"})
    assert refresh["content"] == "2"
    assert page.find(attrs={"hx-get": url})["hx-trigger"] == "load delay:1s"

    # htmx's boosted navigation swaps the body and polls: no full-page refresh on top.
    boosted = staff_client.get(url, headers={"HX-Request": "true", "HX-Boosted": "true"})
    boosted_soup = BeautifulSoup(boosted.data, "html.parser")
    assert boosted_soup.find("html") is not None
    assert boosted_soup.find("meta", attrs={"http-equiv": "refresh"}) is None
    assert "HX-Request" in fragment.headers["Vary"]


def test_status_fragment_when_done_stops_polling_and_shows_report(staff_client, campaign):
    upload(staff_client, campaign.id, HEADER + "A,B,2125550100,\nC,D,12,\n")
    contact_import = latest_import(campaign.id)

    fragment = staff_client.get(f"/imports/{contact_import.id}", headers={"HX-Request": "true"})
    soup = BeautifulSoup(fragment.data, "html.parser")
    assert soup.find(attrs={"hx-get": True}) is None
    assert soup.find(attrs={"hx-trigger": True}) is None
    assert stat(soup, "Imported") == 1
    assert rejected_table(soup) == [("3", "invalid phone number: 12")]


def render_section(app, user, campaign) -> BeautifulSoup:
    """Render the Contacts section the way the campaign page includes it."""
    # A context of its own: the test's app context (shared by the client) keeps its `g`.
    with app.app_context(), app.test_request_context():
        g.membership = db.session.scalars(
            select(Membership).where(Membership.user_id == user.id)
        ).first()
        html = render_template_string(
            '{% include "contacts/_section.html" %}', campaign=db.session.get(Campaign, campaign.id)
        )
    return BeautifulSoup(html, "html.parser")


def test_section_upload_form_works_and_shows_count_and_latest(app, staff_client, admin, campaign):
    make_contacts(campaign, 3, start=900)
    soup = render_section(app, admin, campaign)

    assert "3 contacts" in soup.get_text(" ", strip=True)
    label = soup.find("label", string="Contacts CSV")
    file_input = soup.find(id=label["for"])
    assert file_input["type"] == "file"
    form = file_input.find_parent("form")
    assert form["method"] == "post"
    assert form["enctype"] == "multipart/form-data"
    assert form["action"] == f"/campaigns/{campaign.id}/contacts"
    assert form.find("button", string="Upload")["type"] == "submit"

    response = staff_client.post(
        form["action"],
        data={file_input["name"]: (io.BytesIO((HEADER + "A,B,2125550100,\n").encode()), "a.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    soup = render_section(app, admin, campaign)
    assert "4 contacts" in soup.get_text(" ", strip=True)
    link = soup.find("a", string="View import report")
    assert link["href"] == f"/imports/{latest_import(campaign.id).id}"
    assert "1 imported" in soup.get_text(" ", strip=True)

    # The campaign page includes this section inside its "Contacts" section.
    page = BeautifulSoup(staff_client.get(f"/campaigns/{campaign.id}").data, "html.parser")
    section = page.find(id="contacts")
    assert section.find("label", string="Contacts CSV")
    assert "4 contacts" in section.get_text(" ", strip=True)


def test_section_for_archived_campaign_has_no_upload_form(app, admin, org):
    archived = make_campaign(org, status="archived")
    soup = render_section(app, admin, archived)
    assert soup.find("form") is None
    assert "archived" in soup.get_text()


def test_every_form_has_an_action(app, staff_client, admin, campaign):
    upload(staff_client, campaign.id, HEADER + "A,B,2125550100,\n")
    pages = [
        render_section(app, admin, campaign),
        report(staff_client, latest_import(campaign.id).id),
    ]
    forms = [form for soup in pages for form in soup.find_all("form")]
    assert len(forms) >= 2
    assert all(form.get("action") for form in forms)


def test_background_thread_mode_runs_after_the_response(app_config, backend):
    """With JOBS_IN_THREAD the upload returns at once and the page shows the finished report."""
    from spoke import create_app

    app_config["JOBS_IN_THREAD"] = True
    thread_app = create_app(app_config)
    with thread_app.app_context():
        db.create_all()
        if backend == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            db.session.commit()
        org = make_org()
        admin_login = make_user(org, role="owner").get_id()
        campaign_id = make_campaign(org).id
    # Requests get app contexts of their own, as in production.
    client = thread_app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = admin_login
    response = upload(client, campaign_id, HEADER + "A,B,2125550100,\n")
    assert response.status_code == 303
    location = response.headers["Location"]
    deadline = time.monotonic() + 20
    while True:
        soup = BeautifulSoup(client.get(location).data, "html.parser")
        if soup.find("ul", class_="stats"):
            break
        assert time.monotonic() < deadline, "import did not finish"
        time.sleep(0.05)
    assert stat(soup, "Imported") == 1
    with thread_app.app_context():
        db.engine.dispose()


@pytest.fixture
def gb_region(app_config):
    app_config["DEFAULT_PHONE_REGION"] = "GB"


def test_cells_are_read_in_the_configured_default_region(gb_region, staff_client, campaign):
    upload(staff_client, campaign.id, HEADER + "Ada,Byron,020 7946 0958,\nBo,Chan,2125550100,\n")

    contact_import = latest_import(campaign.id)
    assert [c.cell for c in contacts_of(campaign.id)] == ["+442079460958"]
    assert contact_import.rejected_rows == [
        {"row": 3, "reason": "invalid phone number: 2125550100"}
    ]


def test_import_without_progress_for_ten_minutes_says_it_stopped(staff_client, campaign, admin):
    """A worker that died leaves its import 'running'; the page says so and stops polling."""
    from datetime import timedelta

    from spoke import clock

    stuck = ContactImport(
        campaign_id=campaign.id, user_id=admin.id, status="running", rows_processed=3000
    )
    db.session.add(stuck)
    db.session.commit()
    page = staff_client.get(f"/imports/{stuck.id}")
    soup = BeautifulSoup(page.data, "html.parser")
    assert soup.find(attrs={"hx-trigger": "load delay:1s"}) is not None  # still polling
    assert "no progress" not in soup.get_text()

    clock.freeze(stuck.updated_at + timedelta(minutes=11))
    for headers in ({}, {"HX-Request": "true"}):
        soup = BeautifulSoup(
            staff_client.get(f"/imports/{stuck.id}", headers=headers).data, "html.parser"
        )
        alert = soup.find(attrs={"role": "alert"})
        assert alert and "no progress for over 10 minutes" in alert.get_text()
        assert soup.find(attrs={"hx-trigger": "load delay:1s"}) is None
        assert soup.find("meta", attrs={"http-equiv": "refresh"}) is None
    db.session.refresh(stuck)
    assert stuck.status == "running"  # a GET changes nothing


def test_embedded_start_fails_imports_a_previous_process_left_running(ctx, campaign, admin):
    for status in ("queued", "running", "done"):
        db.session.add(ContactImport(campaign_id=campaign.id, user_id=admin.id, status=status))
    db.session.commit()
    assert importer.fail_interrupted(db.session) == 2
    statuses = sorted(db.session.scalars(select(ContactImport.status)).all())
    assert statuses == ["done", "failed", "failed"]
    failed = db.session.scalars(select(ContactImport).where(ContactImport.status == "failed"))
    assert all("interrupted" in f.error and f.finished_at for f in failed)


def test_an_unclosed_quote_is_reported_where_it_opens_and_the_rest_is_imported(
    staff_client, campaign
):
    csv_text = (
        "firstName,lastName,cell\n"
        "Ana,Lima,2125550100\n"  # row 2
        'Bo,"Sm,2125550101\n'  # row 3: the quote never closes
        "Cy,Diaz,2125550102\n"  # row 4
        "Di,Eve,2125550103\n"  # row 5
    )
    upload(staff_client, campaign.id, csv_text)

    contact_import = latest_import(campaign.id)
    assert contact_import.status == "done"
    reason = csv_reader.UNCLOSED_QUOTE.format(line=3)
    assert contact_import.rejected_rows == [{"row": 3, "reason": reason}]
    assert [c.cell for c in contacts_of(campaign.id)] == [
        "+12125550100",
        "+12125550102",
        "+12125550103",
    ]
    soup = report(staff_client, contact_import.id)
    assert rejected_table(soup) == [("3", reason)]
    assert "line 3" in reason


def test_an_unclosed_quote_in_the_header_fails_saying_where(staff_client, campaign):
    upload(staff_client, campaign.id, 'firstName,"lastName,cell\nAna,Lima,2125550100\n')
    contact_import = latest_import(campaign.id)
    assert contact_import.status == "failed"
    assert "header row (row 1, line 1)" in contact_import.error
    assert contacts_of(campaign.id) == []
