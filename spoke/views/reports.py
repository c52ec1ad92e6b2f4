"""Views: a campaign's Dashboard (polled while visible) and its CSV exports."""

from __future__ import annotations

import calendar
import logging
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from spoke.clock import now
from spoke.extensions import db
from spoke.models import Campaign, CampaignExport
from spoke.reports import dashboard, export, export_jobs
from spoke.runtime import tasks
from spoke.views import _authz as authz
from spoke.views import _web as web

log = logging.getLogger(__name__)
bp = Blueprint("reports", __name__)

ResponseValue = Response | str | tuple[str, int]
POLL_SECONDS = 15


def _chart_data(board: dashboard.Dashboard) -> dict[str, list[int]]:
    """The chart's series for uPlot: UTC epoch seconds, texts sent, replies received."""
    return {
        "t": [calendar.timegm(b.at.timetuple()) for b in board.chart],
        "sent": [b.sent for b in board.chart],
        "received": [b.received for b in board.chart],
    }


def _dashboard_ctx(campaign: Campaign) -> dict[str, Any]:
    board = dashboard.campaign_dashboard(db.session, campaign)
    return {
        "campaign": campaign,
        "board": board,
        "chart_data": _chart_data(board),
        "poll_seconds": current_app.config.get("DASHBOARD_POLL_SECONDS", POLL_SECONDS),
    }


@bp.route("/campaigns/<int:campaign_id>/dashboard", methods=["GET"])
@authz.staff_required
def show(campaign_id: int) -> ResponseValue:
    """Show the campaign's live Dashboard; htmx polls get the numbers' fragment alone."""
    campaign = authz.get_campaign_or_404(campaign_id)
    ctx = _dashboard_ctx(campaign)
    if web.is_fragment_request():
        return render_template("reports/_dashboard.html", **ctx)
    exports = export_jobs.recent_exports(db.session, campaign.id)
    return render_template("reports/dashboard.html", exports=exports, **ctx)


@bp.route("/campaigns/<int:campaign_id>/export", methods=["POST"])
@authz.admin_required
def start_export(campaign_id: int) -> ResponseValue:
    """Export contacts or messages as CSV: streamed when small, else a job with a progress bar."""
    campaign = authz.get_campaign_or_404(campaign_id)
    kind = request.form.get("kind", "")
    try:
        record = export_jobs.record_export(
            db.session,
            campaign,
            current_user.id,
            kind,
            threshold=current_app.config["EXPORT_JOB_THRESHOLD"],
        )
    except export_jobs.ExportRefused as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("reports.show", campaign_id=campaign.id), code=303)
    db.session.commit()
    if record.status == "streamed":
        return _stream(campaign, kind)
    try:
        tasks.enqueue(tasks.RUN_EXPORT, record.id, background=True)
    except Exception as exc:  # e.g. Redis is down: say so on the progress page, don't 500
        log.exception("export %s did not start", record.id)
        db.session.rollback()
        export_jobs.not_started(db.session, record.id, f"It could not be started: {exc}")
    if web.is_fragment_request():
        return export_status(record.id)
    return redirect(url_for("reports.export_status", export_id=record.id), code=303)


def _stream(campaign: Campaign, kind: str) -> Response:
    """Send the CSV as it is read, a page of rows at a time."""
    name = export.filename(campaign, kind, now())
    chunks = export.csv_chunks(export.rows_of(db.session, campaign, kind))
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _export_or_404(export_id: int) -> CampaignExport:
    record = db.session.get(CampaignExport, export_id)
    if record is None or record.organization_id != authz.current_org_id():
        abort(404)
    return record


@bp.route("/exports/<int:export_id>", methods=["GET"])
@authz.admin_required
def export_status(export_id: int) -> ResponseValue:
    """Show a large export's progress while it runs, then its download link."""
    record = _export_or_404(export_id)
    campaign = db.session.get(Campaign, record.campaign_id)
    ctx = {"record": record, "campaign": campaign, "at": now()}
    if web.is_fragment_request():
        return render_template("reports/_export_progress.html", **ctx)
    return render_template("reports/export.html", meta_refresh=record.is_running, **ctx)


@bp.route("/exports/<int:export_id>/download/<token>", methods=["GET"])
@authz.admin_required
def download(export_id: int, token: str) -> ResponseValue:
    """Send a finished export's file while its link is valid (24 hours)."""
    try:
        record = export_jobs.download(db.session, export_id, token, authz.current_org_id(), now())
    except LookupError:
        abort(404)
    except export_jobs.ExportRefused as exc:
        status = 410 if exc.code == "expired" else 409
        return render_template("reports/download_refused.html", message=exc.message), status
    campaign = db.session.get(Campaign, record.campaign_id)
    assert campaign is not None
    return send_file(
        record.path,
        mimetype="text/csv",
        as_attachment=True,
        download_name=export.filename(campaign, record.kind, record.created_at),
        max_age=0,
    )
