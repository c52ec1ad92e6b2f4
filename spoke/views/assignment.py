"""Views: the "assignment" blueprint: Assignment Management settings, links and claims.

It also routes the Texters panel (views.texters) and joining by link (views.join). The
fragments (campaigns/_texters.html, _assignment_management.html, _history.html and
texting/_claim.html) are included by other pages with only `campaign` (and `assignment`) in
their context, so they fetch their data through the template globals registered here.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from spoke.assignment import claims, join, panel, release_unsent, settings
from spoke.extensions import db
from spoke.models import Assignment, Campaign
from spoke.views import _authz as authz
from spoke.views import _feedback as assignment_feedback
from spoke.views import _web as web
from spoke.views import join as join_views
from spoke.views import texters as texters_views
from spoke.views._feedback import ResponseValue, campaign_fragment, remember
from spoke.views.invite import public_url

bp = Blueprint("assignment", __name__)

LINK_KINDS = ("initials", "replies")

bp.add_url_rule("/join/<token>", "join", join_views.show, methods=["GET"])
bp.add_url_rule("/join/<token>", "join_submit", join_views.submit, methods=["POST"])
bp.add_url_rule(
    "/campaigns/<int:campaign_id>/texters",
    "add_texter",
    texters_views.add_texter,
    methods=["POST"],
)
bp.add_url_rule(
    "/campaigns/<int:campaign_id>/texters/<int:user_id>",
    "save_texter",
    texters_views.save_texter,
    methods=["POST"],
)
bp.add_url_rule(
    "/campaigns/<int:campaign_id>/texters/<int:user_id>/remove",
    "remove_texter",
    texters_views.remove_texter,
    methods=["POST"],
)


# --- Template globals ---------------------------------------------------------------------

bp.before_app_request(assignment_feedback.reset)
bp.add_app_template_global(assignment_feedback.feedback, "assignment_feedback")


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
    return panel.claim_buttons(db.session, campaign, assignment)


@bp.app_template_global()
def unsent_countdown(campaign: Campaign) -> str:
    """ "Unsent texts go back to the pool in 14 min" for my held initials, or "" (none/off)."""
    assignment = authz.texter_assignment(campaign)
    if assignment is None:
        return ""
    return release_unsent.countdown_text(db.session, campaign, assignment.id)


@bp.app_template_global()
def assignment_link(campaign: Campaign, kind: str) -> str:
    """The full join URL of the campaign's `kind` link, on PUBLIC_BASE_URL when set."""
    token = campaign.initials_join_token if kind == "initials" else campaign.replies_join_token
    return public_url("assignment.join", token=token)


@bp.app_template_global()
def can_manage_assignment() -> bool:
    """True for owners and admins: they change texters and see Assignment Management."""
    membership = g.get("membership")
    return membership is not None and membership.is_admin


# --- Assignment Management ----------------------------------------------------------------


def _settings_answer(campaign: Campaign) -> ResponseValue:
    return campaign_fragment(
        "campaigns/_assignment_management.html", campaign, "assignment-management"
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
            page = "initials" if kind == "initials" and request.form.get("view") else "campaign"
            response.headers["HX-Location"] = url_for(f"texting.{page}", campaign_id=campaign.id)
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
