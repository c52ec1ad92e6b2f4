"""Views: upload a campaign's contacts CSV and follow the import's progress and report."""

from __future__ import annotations

import logging
import os
import secrets
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from spoke.clock import now
from spoke.contacts import importer
from spoke.extensions import db, htmx
from spoke.models import Campaign, CampaignContact, ContactImport
from spoke.models.messages import STALL_MINUTES
from spoke.runtime import tasks
from spoke.views import _web as web
from spoke.views._authz import get_campaign_or_404, staff_required

log = logging.getLogger(__name__)

bp = Blueprint("contacts", __name__)


def campaign_url(campaign_id: int) -> str:
    """The campaign's page, where its Contacts section is."""
    return url_for("campaigns.show", campaign_id=campaign_id, _anchor="contacts")


@bp.app_template_global("contacts_summary")
def contacts_summary(campaign: Campaign) -> dict[str, Any]:
    """What the campaign page's Contacts section shows: count, latest import, may upload."""
    count = db.session.scalar(
        select(func.count())
        .select_from(CampaignContact)
        .where(CampaignContact.campaign_id == campaign.id)
    )
    latest = db.session.scalars(
        select(ContactImport)
        .where(ContactImport.campaign_id == campaign.id)
        .order_by(ContactImport.id.desc())
        .limit(1)
    ).first()
    membership = g.get("membership")
    is_staff = bool(membership and membership.is_staff)
    return {
        "count": count or 0,
        "latest": latest,
        "is_staff": is_staff,
        "can_upload": is_staff and campaign.status in importer.IMPORTABLE_STATUSES,
    }


@bp.route("/campaigns/<int:campaign_id>/contacts", methods=["POST"])
@staff_required
def upload(campaign_id: int) -> Response:
    """Save the uploaded CSV, queue its import and show the import's progress page."""
    campaign = get_campaign_or_404(campaign_id)
    back = campaign_url(campaign.id)
    if campaign.status not in importer.IMPORTABLE_STATUSES:
        flash(importer.ARCHIVED, "error")
        return redirect(back, code=303)
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        flash("Choose a CSV file to upload.", "error")
        return redirect(back, code=303)

    folder = current_app.config["UPLOAD_FOLDER"]
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"contacts-{secrets.token_hex(16)}.csv")
    upload_file.save(path)  # streams to disk in blocks
    try:
        contact_import = importer.create_import(
            db.session,
            campaign.id,
            current_user.id,
            os.path.basename(upload_file.filename),
            path,
            os.path.getsize(path),
        )
    except importer.ImportRefused as exc:
        db.session.rollback()
        os.remove(path)
        flash(str(exc), "error")
        return redirect(back, code=303)
    db.session.commit()
    import_id = contact_import.id
    _start(import_id)
    return redirect(url_for("contacts.import_status", import_id=import_id), code=303)


def _start(import_id: int) -> None:
    try:
        tasks.enqueue(tasks.RUN_IMPORT, import_id, background=True)
    except Exception as exc:  # e.g. Redis is down: say so on the import page, don't 500
        log.exception("could not start contact import %s", import_id)
        db.session.rollback()
        contact_import = db.session.get(ContactImport, import_id)
        if contact_import is not None and contact_import.status == "queued":
            contact_import.status = "failed"
            contact_import.error = f"The import could not be started: {exc}"
            contact_import.finished_at = now()
            db.session.commit()


@bp.route("/imports/<int:import_id>", methods=["GET"])
@staff_required
def import_status(import_id: int) -> str:
    """Show an import's progress while it runs, then its report."""
    contact_import = db.session.get(ContactImport, import_id)
    if contact_import is None:
        abort(404)
    campaign = get_campaign_or_404(contact_import.campaign_id)
    stalled = contact_import.stalled(now())
    context = {
        "contact_import": contact_import,
        "campaign": campaign,
        "campaign_href": campaign_url(campaign.id),
        "stalled": stalled,
        "stall_minutes": STALL_MINUTES,
    }
    if web.is_fragment_request():
        return render_template("contacts/_progress.html", **context)
    running = contact_import.is_running and not stalled
    return render_template("contacts/import.html", meta_refresh=running and not htmx, **context)
