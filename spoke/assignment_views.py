"""Views: the Texters panel, the Assignment Management settings, links, claims and joining.

The fragments (campaigns/_texters.html, _assignment_management.html, _history.html and
texting/_claim.html) are included by other pages with only `campaign` (and `assignment`) in
their context, so they fetch their data through the template globals registered here.
"""

from __future__ import annotations

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
    session,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from spoke import authz, join_views, web
from spoke.assignment import claims, join, manual, panel, settings
from spoke.extensions import db
from spoke.models import Assignment, Campaign, User

bp = Blueprint("assignment", __name__)

ResponseValue = Response | str | tuple[str, int]
FEEDBACK_KEY = "spoke.assignment_feedback"
LINK_KINDS = ("initials", "replies")
MAX_COUNT = 1_000_000
NUMBER_MESSAGE = "Enter a whole number, 0 or more."

bp.add_url_rule("/join/<token>", "join", join_views.show, methods=["GET"])
bp.add_url_rule("/join/<token>", "join_submit", join_views.submit, methods=["POST"])


# --- What a fragment shows after a change -------------------------------------------------


@bp.before_app_request
def _reset_feedback() -> None:
    # g outlives a request when an app context is already pushed (CLI, tests).
    g.assignment_feedback = {}


def remember(
    kind: str, campaign_id: int, data: dict[str, Any], next_page: bool | None = None
) -> None:
    """Keep what the fragment `kind` shows next: this request's fragment, or the next page.

    A plain form is answered with a redirect, so its result and errors wait in the session
    (like a flashed message) until the page shows them next to the fields.
    """
    if next_page is None:
        next_page = not web.is_fragment_request()
    if not next_page:
        g.assignment_feedback[kind] = data
    else:
        stash = session.get(FEEDBACK_KEY, {})
        stash[f"{kind}:{campaign_id}"] = data
        session[FEEDBACK_KEY] = stash


@bp.app_template_global()
def assignment_feedback(kind: str, campaign: Campaign) -> dict[str, Any]:
    """What the last change of fragment `kind` left to show (once), or {}."""
    data = g.get("assignment_feedback", {}).get(kind)
    if data is None and session.get(FEEDBACK_KEY):
        stash = session[FEEDBACK_KEY]
        data = stash.pop(f"{kind}:{campaign.id}", None)
        session[FEEDBACK_KEY] = stash
    return data or {}


@bp.app_template_global()
def texters_panel(campaign: Campaign) -> panel.TextersPanel:
    """The Texters panel's rows, the pool counts and the members who can be added."""
    return panel.texters_panel(db.session, campaign)


@bp.app_template_global()
def assignment_history(campaign: Campaign) -> list[panel.HistoryRow]:
    """The campaign's latest 50 assignment events."""
    return panel.assignment_history(db.session, campaign.id)


@bp.app_template_global()
def claim_buttons(campaign: Campaign, assignment: Assignment | None) -> panel.ClaimButtons:
    """Which claim buttons the texter sees."""
    return panel.claim_buttons(campaign, assignment)


@bp.app_template_global()
def assignment_link(campaign: Campaign, kind: str) -> str:
    """The full join URL of the campaign's `kind` link, on PUBLIC_BASE_URL when set."""
    token = campaign.initials_join_token if kind == "initials" else campaign.replies_join_token
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + url_for("assignment.join", token=token)
    return url_for("assignment.join", token=token, _external=True)


def _can_manage() -> bool:
    membership = g.get("membership")
    return membership is not None and membership.is_admin


@bp.app_template_global()
def can_manage_assignment() -> bool:
    """True for owners and admins: they change texters and see Assignment Management."""
    return _can_manage()


# --- The Texters panel --------------------------------------------------------------------


def _show_url(campaign: Campaign, anchor: str) -> str:
    return url_for("campaigns.show", campaign_id=campaign.id, _anchor=anchor)


def _panel_answer(campaign: Campaign) -> ResponseValue:
    return web.fragment_or_redirect(
        "campaigns/_texters.html", _show_url(campaign, "texters"), campaign=campaign
    )


def _whole_number(raw: str, blank: int | None) -> tuple[int | None, str]:
    """Parse a count field: blank gives `blank`; else a whole number from 0 to MAX_COUNT."""
    text = raw.strip()
    if not text:
        return blank, ""
    if not (text.isascii() and text.isdigit()):
        return None, NUMBER_MESSAGE
    if int(text) > MAX_COUNT:
        return None, f"Use at most {MAX_COUNT:,}."
    return int(text), ""


def _name(user_id: int) -> str:
    user = db.session.get(User, user_id)
    return user.name if user is not None else "That texter"


@bp.post("/campaigns/<int:campaign_id>/texters")
@authz.admin_required
def add_texter(campaign_id: int) -> ResponseValue:
    """Add an organization member to the campaign's texters."""
    campaign = authz.get_campaign_or_404(campaign_id)
    raw = request.form.get("user_id", "").strip()
    feedback: dict[str, Any] = {"ok": False}
    if not raw.isdigit():
        feedback["errors"] = {"add": "Choose a texter to add."}
    else:
        try:
            added = manual.add_texter(db.session, campaign.id, int(raw), actor_id=current_user.id)
        except manual.AssignmentError as exc:
            db.session.rollback()
            feedback["errors"] = {"add": str(exc)}
        else:
            db.session.commit()
            name = _name(int(raw))
            feedback.update(
                ok=True,
                user_id=int(raw),
                message=f"{name} added." if added else f"{name} is already a texter here.",
            )
    remember("texters", campaign.id, feedback)
    return _panel_answer(campaign)


@bp.post("/campaigns/<int:campaign_id>/texters/<int:user_id>")
@authz.admin_required
def save_texter(campaign_id: int, user_id: int) -> ResponseValue:
    """Apply one row of the Texters panel: texts to send, max contacts, conversations."""
    campaign = authz.get_campaign_or_404(campaign_id)
    raw_texts = request.form.get("texts_to_send", "")
    raw_cap = request.form.get("max_contacts", "")
    wanted, texts_error = _whole_number(raw_texts, blank=0)
    cap, cap_error = _whole_number(raw_cap, blank=None)
    errors = {k: v for k, v in (("texts_to_send", texts_error), ("max_contacts", cap_error)) if v}
    feedback: dict[str, Any] = {"ok": False, "user_id": user_id}
    if errors:
        feedback.update(
            errors=errors,
            values={"texts_to_send": raw_texts, "max_contacts": raw_cap},
            message="Nothing was changed: fix the marked field.",
        )
    else:
        # A count left as the page showed it changes nothing, even if the texter claimed or
        # sent since: only a count the admin typed moves contacts.
        shown = request.form.get("shown_texts_to_send")
        if shown is not None and shown.strip() == raw_texts.strip():
            wanted = None
        try:
            result = manual.set_texts_to_send(
                db.session,
                campaign.id,
                user_id,
                wanted,
                actor_id=current_user.id,
                max_contacts=cap,
                also_conversations=bool(request.form.get("also_conversations")),
            )
        except manual.AssignmentError as exc:
            db.session.rollback()
            feedback.update(message=str(exc))
        else:
            db.session.commit()
            feedback.update(ok=True, message=f"{_name(user_id)}: {result.message}.")
    remember("texters", campaign.id, feedback)
    return _panel_answer(campaign)


@bp.post("/campaigns/<int:campaign_id>/texters/<int:user_id>/remove")
@authz.admin_required
def remove_texter(campaign_id: int, user_id: int) -> ResponseValue:
    """Take a texter off the campaign; their unsent contacts return to the pool."""
    campaign = authz.get_campaign_or_404(campaign_id)
    feedback: dict[str, Any] = {"ok": False, "user_id": user_id}
    try:
        result = manual.remove_texter(
            db.session,
            campaign.id,
            user_id,
            actor_id=current_user.id,
            also_conversations=bool(request.form.get("also_conversations")),
        )
    except manual.AssignmentError as exc:
        db.session.rollback()
        feedback.update(message=str(exc))
    else:
        db.session.commit()
        feedback.update(ok=True, message=f"{_name(user_id)}: {result.message}.")
    remember("texters", campaign.id, feedback)
    return _panel_answer(campaign)


# --- Assignment Management ----------------------------------------------------------------


def _settings_answer(campaign: Campaign) -> ResponseValue:
    return web.fragment_or_redirect(
        "campaigns/_assignment_management.html",
        _show_url(campaign, "assignment-management"),
        campaign=campaign,
    )


def _submitted_settings() -> dict[str, str]:
    """The settings this form submitted. Each toggle sends a hidden "" before its checkbox,
    so a toggle that is absent was not submitted, and one sent only as "" is off."""
    raw: dict[str, str] = {}
    for name in settings.TOGGLES:
        values = request.form.getlist(name)
        if values:
            raw[name] = "on" if any(v.lower() in settings.TRUE_WORDS for v in values) else ""
    for name in settings.NUMBERS:
        if name in request.form:
            raw[name] = request.form[name]
    return raw


@bp.post("/campaigns/<int:campaign_id>/assignment-settings")
@authz.admin_required
def save_settings(campaign_id: int) -> ResponseValue:
    """Save the Assignment Management settings; reject invalid numbers field by field."""
    campaign = authz.get_campaign_or_404(campaign_id)
    result = settings.save_settings(db.session, campaign.id, _submitted_settings())
    db.session.commit()
    remember(
        "settings",
        campaign.id,
        {"errors": result.errors, "values": result.rejected, "changed": list(result.changed)},
    )
    return _settings_answer(campaign)


@bp.post("/campaigns/<int:campaign_id>/links/<kind>/regenerate")
@authz.admin_required
def regenerate_link(campaign_id: int, kind: str) -> ResponseValue:
    """Give the campaign a new assignment link; the old one stops working at once."""
    campaign = authz.get_campaign_or_404(campaign_id)
    if kind not in LINK_KINDS:
        abort(404)
    join.regenerate_link(db.session, campaign.id, kind)
    db.session.commit()
    remember("settings", campaign.id, {"regenerated": kind})
    return _settings_answer(campaign)


# --- Claims, on the texter's campaign page ------------------------------------------------


@bp.post("/texting/campaigns/<int:campaign_id>/claim/<kind>")
@login_required
def claim(campaign_id: int, kind: str) -> ResponseValue:
    """Claim a batch of texts to send or of replies to answer, and say what happened."""
    if kind not in LINK_KINDS:
        abort(404)
    campaign = authz.get_campaign_or_404(campaign_id)
    take = claims.claim_initials if kind == "initials" else claims.claim_replies
    result = take(db.session, campaign.id, current_user.id)
    db.session.commit()
    feedback = {"kind": kind, "ok": result.ok, "message": result.message, "next": result.next}
    if web.is_fragment_request():
        if result.ok:
            # The page's counts change too, so htmx reloads the page; the message and its
            # "what next" link wait in the session for the claim fragment there.
            remember("claim", campaign.id, feedback, next_page=True)
            response = Response("", 200)
            response.headers["HX-Location"] = url_for("texting.campaign", campaign_id=campaign.id)
            return response
        remember("claim", campaign.id, feedback)
        assignment = authz.texter_assignment(campaign)
        return render_template("texting/_claim.html", campaign=campaign, assignment=assignment)
    if result.ok:
        flash(result.message, "success")
        return redirect(url_for(f"texting.{result.next}", campaign_id=campaign.id), code=303)
    if campaign.status != "started":  # texters cannot open a campaign that is not running
        flash(result.message, "error")
        return redirect(url_for("texting.home"), code=303)
    remember("claim", campaign.id, feedback)
    return redirect(url_for("texting.campaign", campaign_id=campaign.id), code=303)
