"""Views: the campaigns list, a new campaign, and the campaign page's Basics, Script and status."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from spoke import parsing
from spoke.campaigns import hours, preview, script
from spoke.campaigns import service as campaign_service
from spoke.campaigns.service import CampaignError
from spoke.extensions import db
from spoke.models import Campaign
from spoke.views import _authz as authz
from spoke.views import _web as web
from spoke.views.auth import invalid_status

bp = Blueprint("campaigns", __name__)

ResponseValue = Response | str | tuple[str, int]
# The campaign page's sections: their context name in show.html and their fragment.
SECTIONS = {
    "basics": "campaigns/_basics.html",
    "script_form": "campaigns/_script.html",
    "status_panel": "campaigns/_status.html",
}


def _basics_ctx(
    campaign: Campaign,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    saved: bool = False,
) -> dict[str, Any]:
    if form is None:
        form = _basics_form(campaign)
    teams = campaign_service.organization_teams(db.session, campaign.organization_id)
    return {
        "form": form,
        "errors": errors or {},
        "saved": saved,
        "teams": teams,
        "zone_groups": hours.zone_choices(),
    }


def _basics_form(campaign: Campaign) -> dict[str, Any]:
    return {
        "title": campaign.title,
        "description": campaign.description,
        "team_ids": {t.id for t in campaign.teams},
        "texting_hours_enforced": campaign.texting_hours_enforced,
        "texting_hours_start": campaign.texting_hours_start.strftime("%H:%M"),
        "texting_hours_stop": campaign.texting_hours_stop.strftime("%H:%M"),
        "default_timezone": campaign.default_timezone,
    }


def _hours_form() -> tuple[dict[str, Any], hours.Settings | dict[str, str] | None]:
    """The posted Texting hours fieldset and its check (None when the form has no fieldset)."""
    if "texting_hours_start" not in request.form:
        return {}, None
    form: dict[str, Any] = {
        "texting_hours_enforced": bool(request.form.get("texting_hours_enforced")),
        "texting_hours_start": request.form.get("texting_hours_start", ""),
        "texting_hours_stop": request.form.get("texting_hours_stop", ""),
        "default_timezone": request.form.get("default_timezone", ""),
    }
    settings, errors = hours.parse_settings(*form.values())
    return form, settings or errors


@bp.app_template_global("texting_hours_text")
def texting_hours_text(campaign: Campaign) -> str:
    """The campaign's texting hours as a texter reads them ("" when not enforced)."""
    return hours.Hours.of(campaign).summary()


def _script_ctx(
    campaign: Campaign,
    text: str | None = None,
    errors: dict[str, str] | None = None,
    saved: bool = False,
) -> dict[str, Any]:
    text = campaign.script if text is None else text
    return {
        "text": text,
        "errors": errors or {},
        "saved": saved,
        "fields": script.allowed_fields(campaign.custom_field_names or []),
        "preview": _preview(campaign, text),
    }


def _status_ctx(campaign: Campaign, error: str = "") -> dict[str, Any]:
    return {
        "error": error,
        "counts": campaign_service.campaign_counts(db.session, campaign.id),
    }


def _preview(campaign: Campaign, text: str) -> preview.Preview:
    return preview.preview_script(db.session, campaign, text, current_user.first_name)


def page(campaign: Campaign, code: int = 200, **overrides: dict[str, Any]) -> tuple[str, int]:
    """Render the campaign page; `overrides` replace a fragment's context (to show errors)."""
    context = {
        **overrides,
        "basics": overrides.get("basics") or _basics_ctx(campaign),
        "script_form": overrides.get("script_form") or _script_ctx(campaign),
        "status_panel": overrides.get("status_panel") or _status_ctx(campaign),
    }
    return render_template("campaigns/show.html", campaign=campaign, **context), code


def _show_url(campaign: Campaign) -> str:
    return url_for("campaigns.show", campaign_id=campaign.id)


def _section_error(campaign: Campaign, section: str, ctx: dict[str, Any]) -> ResponseValue:
    """Show a section's errors: its fragment (htmx), else the whole page (422 to a form)."""
    if web.is_fragment_request():
        return render_template(SECTIONS[section], campaign=campaign, **{section: ctx})
    return page(campaign, invalid_status(), **{section: ctx})


def _section_saved(
    campaign: Campaign, section: str, ctx: dict[str, Any], message: str
) -> ResponseValue:
    """Answer a saved section with its fragment (htmx), else flash `message` and 303."""
    if not web.is_fragment_request():
        flash(message, "success")
    return web.fragment_or_redirect(
        SECTIONS[section], _show_url(campaign), campaign=campaign, **{section: ctx}
    )


@bp.route("/campaigns", methods=["GET"])
@authz.staff_required
def index() -> ResponseValue:
    """List the organization's campaigns."""
    rows = campaign_service.list_campaigns(db.session, authz.current_org_id())
    return render_template("campaigns/index.html", rows=rows)


@bp.route("/campaigns/new", methods=["GET", "POST"])
@authz.staff_required
def new() -> ResponseValue:
    """Show the new campaign form; create a draft campaign on POST."""
    form = {"title": "", "description": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in form}
        try:
            campaign = campaign_service.create_campaign(
                db.session, authz.current_org_id(), form["title"], form["description"]
            )
        except CampaignError as exc:
            errors = exc.errors
        else:
            db.session.commit()
            flash("Campaign created.", "success")
            return redirect(_show_url(campaign), code=303)
    status = invalid_status() if errors else 200
    return render_template("campaigns/new.html", form=form, errors=errors), status


@bp.route("/campaigns/<int:campaign_id>", methods=["GET"])
@authz.staff_required
def show(campaign_id: int) -> ResponseValue:
    """Show the campaign page: status, counts and its sections."""
    return page(authz.get_campaign_or_404(campaign_id))


@bp.route("/campaigns/<int:campaign_id>/basics", methods=["POST"])
@authz.staff_required
def basics(campaign_id: int) -> ResponseValue:
    """Save title, description and teams."""
    campaign = authz.get_campaign_or_404(campaign_id)
    form = {
        "title": request.form.get("title", ""),
        "description": request.form.get("description", ""),
        "team_ids": request.form.getlist("team_ids"),
    }
    hours_form, checked = _hours_form()
    try:
        campaign_service.update_basics(db.session, campaign.id, **form, hours=checked)
    except CampaignError as exc:
        form["team_ids"] = set(parsing.record_ids(form["team_ids"])[0])
        form = {**_basics_form(campaign), **form, **hours_form}
        return _section_error(campaign, "basics", _basics_ctx(campaign, form, exc.errors))
    db.session.commit()
    return _section_saved(campaign, "basics", _basics_ctx(campaign, saved=True), "Basics saved.")


@bp.route("/campaigns/<int:campaign_id>/script", methods=["POST"])
@authz.staff_required
def save_script(campaign_id: int) -> ResponseValue:
    """Save the initial message."""
    campaign = authz.get_campaign_or_404(campaign_id)
    text = request.form.get("script", "")
    try:
        campaign_service.save_script(db.session, campaign.id, text)
    except CampaignError as exc:
        return _section_error(campaign, "script_form", _script_ctx(campaign, text, exc.errors))
    db.session.commit()
    return _section_saved(
        campaign, "script_form", _script_ctx(campaign, saved=True), "Script saved."
    )


@bp.route("/campaigns/<int:campaign_id>/script/preview", methods=["POST"])
@authz.staff_required
def script_preview(campaign_id: int) -> ResponseValue:
    """Render the typed script for the first contact; changes nothing."""
    campaign = authz.get_campaign_or_404(campaign_id)
    preview = _preview(campaign, request.form.get("script", ""))
    return web.fragment_or_redirect(
        "campaigns/_preview.html", _show_url(campaign), campaign=campaign, preview=preview
    )


def _transition(campaign_id: int, change: Any, done: str) -> ResponseValue:
    """Start or archive: on success reload the page (every section depends on the status)."""
    campaign = authz.get_campaign_or_404(campaign_id)
    try:
        change(db.session, campaign.id)
    except CampaignError as exc:
        ctx = _status_ctx(campaign, error=" ".join(exc.errors.values()))
        return _section_error(campaign, "status_panel", ctx)
    db.session.commit()
    flash(done, "success")
    if web.is_fragment_request():
        # Sections other than the status (edit forms, texters) change with the status, so
        # htmx navigates to the page instead of swapping one fragment.
        response = Response("", 200)
        response.headers["HX-Location"] = _show_url(campaign)
        return response
    return redirect(_show_url(campaign), code=303)


@bp.route("/campaigns/<int:campaign_id>/start", methods=["POST"])
@authz.staff_required
def start(campaign_id: int) -> ResponseValue:
    """Start the campaign."""
    return _transition(campaign_id, campaign_service.start_campaign, "Campaign started.")


@bp.route("/campaigns/<int:campaign_id>/archive", methods=["POST"])
@authz.staff_required
def archive(campaign_id: int) -> ResponseValue:
    """Archive the campaign."""
    return _transition(campaign_id, campaign_service.archive_campaign, "Campaign archived.")
