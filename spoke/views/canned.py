"""Views: the campaign's Canned responses section, and the picker on a conversation page.

Picking a canned response is a GET that reloads the conversation with the Reply box filled
(htmx swaps just the box); nothing is sent until the texter presses Send.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from spoke.campaigns import preview as script_preview
from spoke.campaigns import script
from spoke.extensions import db
from spoke.models import Campaign, CampaignContact, CannedResponse
from spoke.responses import canned as domain
from spoke.responses.common import DIRECTIONS, ResponseError
from spoke.views import _authz as authz
from spoke.views import _web as web
from spoke.views.auth import invalid_status
from spoke.views.campaigns import page as campaign_page

bp = Blueprint("canned", __name__)

ResponseValue = Response | str | tuple[str, int]
FRAGMENT = "responses/_canned.html"


def _preview(campaign: Campaign, text: str) -> script_preview.Preview:
    return script_preview.preview_script(db.session, campaign, text, current_user.first_name)


def _item(campaign: Campaign, canned: CannedResponse | None, **form: Any) -> dict[str, Any]:
    """One editor's context: the saved response or the new one, as typed, with its errors."""
    title = form.get("title", canned.title if canned else "")
    text = form.get("text", canned.text if canned else "")
    return {
        "id": canned.id if canned else "new",
        "title": title,
        "text": text,
        "errors": form.get("errors", {}),
        "preview": _preview(campaign, text),
    }


@bp.app_template_global("canned_section")
def canned_section(
    campaign: Campaign,
    edited: dict[Any, Any] | None = None,
    saved: str = "",
    error: str = "",
) -> dict[str, Any]:
    """The Canned responses section: every response's editor, then the "Add" one."""
    edited = edited or {}
    items = [
        edited.get(c.id) or _item(campaign, c) for c in domain.list_canned(db.session, campaign.id)
    ]
    new = edited.get("new") or _item(campaign, None)
    return {"items": items, "new": new, "saved": saved, "error": error}


def _answer(
    campaign: Campaign,
    message: str = "",
    edited: dict[Any, Any] | None = None,
    error: str = "",
) -> ResponseValue:
    """Answer an edit: the section (htmx) or 303 to the page; with errors, 422 to a plain form."""
    if edited or error:
        section = canned_section(campaign, edited, error=error)
        if web.is_fragment_request():
            return render_template(FRAGMENT, campaign=campaign, canned=section)
        return campaign_page(campaign, invalid_status(), canned_responses=section)
    if not web.is_fragment_request():
        flash(message, "success")
    return web.fragment_or_redirect(
        FRAGMENT,
        url_for("campaigns.show", campaign_id=campaign.id, _anchor="canned-responses"),
        campaign=campaign,
        canned=canned_section(campaign, saved=message),
    )


def _form() -> tuple[str, str]:
    return request.form.get("title", ""), request.form.get("text", "")


@bp.post("/campaigns/<int:campaign_id>/canned")
@authz.staff_required
def add(campaign_id: int) -> ResponseValue:
    """Add a canned response at the end of the list."""
    campaign = authz.get_campaign_or_404(campaign_id)
    title, text = _form()
    try:
        domain.add_canned(db.session, campaign.id, title, text)
    except ResponseError as exc:
        if "status" in exc.errors:
            return _answer(campaign, error=exc.errors["status"])
        item = _item(campaign, None, title=title, text=text, errors=exc.errors)
        return _answer(campaign, edited={"new": item})
    db.session.commit()
    return _answer(campaign, f"Canned response “{title.strip()}” added.")


def _canned_or_404(campaign: Campaign, canned_id: int) -> CannedResponse:
    canned = domain.get_canned(db.session, campaign.id, canned_id)
    if canned is None:
        abort(404)
    return canned


@bp.post("/campaigns/<int:campaign_id>/canned/<int:canned_id>")
@authz.staff_required
def edit(campaign_id: int, canned_id: int) -> ResponseValue:
    """Save a canned response's title and text."""
    campaign = authz.get_campaign_or_404(campaign_id)
    canned = _canned_or_404(campaign, canned_id)
    title, text = _form()
    try:
        domain.update_canned(db.session, campaign.id, canned.id, title, text)
    except ResponseError as exc:
        if "status" in exc.errors:
            return _answer(campaign, error=exc.errors["status"])
        canned = _canned_or_404(campaign, canned_id)
        item = _item(campaign, canned, title=title, text=text, errors=exc.errors)
        return _answer(campaign, edited={canned.id: item})
    db.session.commit()
    return _answer(campaign, f"Canned response “{title.strip()}” saved.")


@bp.post("/campaigns/<int:campaign_id>/canned/<int:canned_id>/move")
@authz.staff_required
def move(campaign_id: int, canned_id: int) -> ResponseValue:
    """Move a canned response one place up or down."""
    campaign = authz.get_campaign_or_404(campaign_id)
    canned = _canned_or_404(campaign, canned_id)
    direction = request.form.get("direction", "")
    if direction not in DIRECTIONS:
        abort(400, "Choose Up or Down.")
    title = canned.title
    try:
        domain.move_canned(db.session, campaign.id, canned.id, direction)
    except ResponseError as exc:
        return _answer(campaign, error=" ".join(exc.errors.values()))
    db.session.commit()
    return _answer(campaign, f"Moved “{title}” {direction}.")


@bp.post("/campaigns/<int:campaign_id>/canned/<int:canned_id>/delete")
@authz.staff_required
def delete(campaign_id: int, canned_id: int) -> ResponseValue:
    """Delete a canned response."""
    campaign = authz.get_campaign_or_404(campaign_id)
    canned = _canned_or_404(campaign, canned_id)
    try:
        title = domain.delete_canned(db.session, campaign.id, canned.id)
    except ResponseError as exc:
        return _answer(campaign, error=" ".join(exc.errors.values()))
    db.session.commit()
    return _answer(campaign, f"Canned response “{title}” deleted.")


@bp.post("/campaigns/<int:campaign_id>/canned/preview")
@authz.staff_required
def preview(campaign_id: int) -> ResponseValue:
    """Render a typed canned response for the first contact; changes nothing."""
    campaign = authz.get_campaign_or_404(campaign_id)
    return web.fragment_or_redirect(
        "campaigns/_preview.html",
        url_for("campaigns.show", campaign_id=campaign.id, _anchor="canned-responses"),
        campaign=campaign,
        preview=_preview(campaign, request.form.get("text", "")),
        preview_empty="Type the response to see it here.",
        length_id=f"canned-length-{request.form.get('item', 'new')}",
    )


@bp.app_template_global("script_fields")
def script_fields(campaign: Campaign) -> list[str]:
    """The {fields} the campaign's texts may use."""
    return script.allowed_fields(campaign.custom_field_names or [])


@bp.app_template_global("canned_choices")
def canned_choices(contact: CampaignContact) -> list[dict[str, Any]]:
    """The campaign's canned responses as the texter picks them: title and filled-in text."""
    return [
        {"id": c.id, "title": c.title, "text": domain.render(c, contact, current_user.first_name)}
        for c in domain.list_canned(db.session, contact.campaign_id)
    ]


@bp.app_template_global("canned_draft")
def canned_draft(contact: CampaignContact) -> str:
    """The Reply box's text when the texter picked a canned response (?canned=id), else ""."""
    raw = request.args.get("canned", "")
    if request.method != "GET" or not raw.isdigit() or len(raw) > 11:
        return ""
    canned = domain.get_canned(db.session, contact.campaign_id, int(raw))
    return domain.render(canned, contact, current_user.first_name) if canned else ""
