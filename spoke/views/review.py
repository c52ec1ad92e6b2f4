"""Views: Message Review (filter, bulk unassign/reassign), Done Texting, release countdowns.

"Everything matching the filter" on more than `review_jobs.JOB_THRESHOLD` conversations runs
as a job (jobs.review) with a progress page; smaller bulk actions run in the request.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from spoke.assignment import done, release, review_bulk, review_jobs
from spoke.assignment import review as domain
from spoke.clock import now
from spoke.extensions import db, htmx
from spoke.models import Assignment, BulkAction, Campaign, CampaignContact
from spoke.models.messages import STALL_MINUTES
from spoke.responses import answers
from spoke.runtime import tasks
from spoke.texting.queries import campaign_counts
from spoke.views import _authz as authz
from spoke.views import _params as params
from spoke.views import _web as web

log = logging.getLogger(__name__)

bp = Blueprint("review", __name__)

ResponseValue = Response | str | tuple[str, int]


@bp.app_template_global("done_texting_counts")
def done_texting_counts(campaign: Campaign, assignment: Assignment | None) -> dict[str, int]:
    """Unsent initials and unhandled replies Done Texting would release now."""
    if assignment is None:
        return {"initials": 0, "replies": 0, "total": 0}
    initials, replies = done.pending_counts(db.session, assignment.id)
    return {"initials": initials, "replies": replies, "total": initials + replies}


@bp.app_template_global("release_countdown")
def release_countdown(contact: CampaignContact, campaign: Campaign) -> str:
    """ "released in N min" for an unhandled reply, or "" when it will not be released."""
    return release.countdown_text(contact, campaign)


@bp.app_template_global("release_stats")
def release_stats(campaign: Campaign) -> release.ReleaseStats:
    """The admin's unhandled-replies numbers for a campaign page."""
    return release.release_stats(db.session, campaign)


def _parse_filter(args: MultiDict[str, str]) -> tuple[domain.ReviewFilter, dict[str, str]]:
    code = domain.country_code(current_app.config.get("DEFAULT_PHONE_REGION"))
    try:
        return domain.parse_filter(db.session, authz.current_org_id(), args, country_code=code)
    except domain.CampaignNotFound:
        abort(404)


def _results_ctx(
    f: domain.ReviewFilter,
    errors: dict[str, str],
    *,
    message: str = "",
    bulk_errors: dict[str, str] | None = None,
    after: int | None = None,
    before: int | None = None,
) -> dict[str, Any]:
    org_id = authz.current_org_id()
    campaigns = db.session.scalars(
        db.select(Campaign).where(Campaign.organization_id == org_id).order_by(Campaign.title)
    ).all()
    return {
        "f": f,
        "params": f.params(),
        "errors": errors,
        "bulk_errors": bulk_errors or {},
        "message": message,
        "total": domain.count(db.session, f),
        "page": domain.page(db.session, f, after=after, before=before),
        "campaigns": campaigns,
        "people": domain.members(db.session, org_id),
        "statuses": domain.STATUSES,
        "answer_choices": answers.answer_choices(db.session, org_id),
    }


@bp.route("/review", methods=["GET"])
@authz.staff_required
def index() -> ResponseValue:
    """List the organization's conversations matching the filter, 50 at a time."""
    f, errors = _parse_filter(request.args)
    ctx = _results_ctx(f, errors, after=params.arg_id("after"), before=params.arg_id("before"))
    return render_template("review/index.html", **ctx)


def _bulk_input() -> tuple[str, str, list[int], list[int], dict[str, str]]:
    form = request.form
    errors: dict[str, str] = {}
    scope, action = form.get("scope", ""), form.get("action", "")
    ids, ids_valid = params.form_ids("contact_ids")
    texters, texters_valid = params.form_ids("texters")
    if not ids_valid:
        errors["scope"] = "Select rows from the list."
    elif scope not in ("selected", "all"):
        errors["scope"] = "Choose Selected rows or Everything matching the filter."
    elif scope == "selected" and not ids:
        errors["scope"] = "Select at least one row, or choose Everything matching the filter."
    elif len(ids) > domain.MAX_SELECTED:
        errors["scope"] = f"Select at most {domain.MAX_SELECTED} rows at a time."
    if action not in ("unassign", "reassign"):
        errors["action"] = "Choose Unassign or Reassign to."
    elif not texters_valid:
        errors["texters"] = "Choose texters from the list."
    elif action == "reassign" and not texters:
        errors["texters"] = "Choose at least one texter to reassign to."
    return scope, action, ids, texters, errors


@bp.route("/review/bulk", methods=["POST"])
@authz.staff_required
def bulk() -> ResponseValue:
    """Unassign or reassign the selected rows or everything matching the (re-sent) filter."""
    f, filter_errors = _parse_filter(request.form)
    scope, action, ids, texters, errors = _bulk_input()
    if scope == "all" and filter_errors:
        errors["scope"] = "Fix the filter before changing everything that matches it."
    if not errors:
        try:
            total = domain.count(db.session, f) if scope == "all" else 0
            if total > review_jobs.JOB_THRESHOLD:
                return _queue_bulk_action(f, action, texters, total)
            selected = ids if scope == "selected" else None
            if action == "unassign":
                result = review_bulk.bulk_unassign(
                    db.session, f, actor_id=current_user.id, contact_ids=selected
                )
            else:
                result = review_bulk.bulk_reassign(
                    db.session, f, texters, actor_id=current_user.id, contact_ids=selected
                )
        except domain.ReviewError as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            db.session.commit()
            if not web.is_fragment_request():
                flash(result.message, "success")
                return redirect(url_for("review.index", **f.params()), code=303)
            ctx = _results_ctx(f, filter_errors, message=result.message)
            return render_template("review/_results.html", **ctx)
    ctx = _results_ctx(f, filter_errors, bulk_errors=errors)
    status = 200 if htmx else 422
    template = "review/_results.html" if web.is_fragment_request() else "review/index.html"
    return render_template(template, **ctx), status


def _queue_bulk_action(
    f: domain.ReviewFilter, action: str, texters: list[int], total: int
) -> ResponseValue:
    """Record the bulk action, commit, start its job, then show its progress."""
    bulk_action = review_jobs.create_bulk_action(
        db.session,
        f,
        request.form,
        action=action,
        texter_ids=texters,
        user_id=current_user.id,
        total=total,
    )
    db.session.commit()
    return _start_job(bulk_action.id)


def _start_job(bulk_action_id: int) -> ResponseValue:
    """Enqueue the committed, queued bulk action's job, then show its progress."""
    try:
        tasks.enqueue(tasks.RUN_BULK_ACTION, bulk_action_id, background=True)
    except Exception as exc:  # e.g. Redis is down: say so on the progress page, don't 500
        log.exception("bulk action %s did not complete", bulk_action_id)
        db.session.rollback()
        review_jobs.not_started(db.session, bulk_action_id, f"It could not be started: {exc}")
    return _progress_or_redirect(bulk_action_id)


def _progress_or_redirect(bulk_action_id: int, notice: str = "") -> ResponseValue:
    """After a POST: the progress fragment for htmx, else a 303 to the progress page."""
    if web.is_fragment_request():
        return bulk_status(bulk_action_id, notice=notice)
    if notice:
        flash(notice, "error")
    return redirect(url_for("review.bulk_status", bulk_action_id=bulk_action_id), code=303)


def _bulk_action_or_404(bulk_action_id: int) -> BulkAction:
    bulk_action = db.session.get(BulkAction, bulk_action_id)
    if bulk_action is None or bulk_action.organization_id != authz.current_org_id():
        abort(404)
    return bulk_action


@bp.route("/review/bulk/<int:bulk_action_id>", methods=["GET"])
@authz.staff_required
def bulk_status(bulk_action_id: int, notice: str = "") -> ResponseValue:
    """Show a bulk action's progress while it runs, then its result (or that it stopped)."""
    bulk_action = _bulk_action_or_404(bulk_action_id)
    at = now()
    stalled = bulk_action.stalled(at)
    ctx = {
        "bulk": bulk_action,
        "back_href": url_for("review.index", **bulk_action.filter_args),
        "stalled": stalled,
        "stall_minutes": STALL_MINUTES,
        "resumable": bulk_action.resumable(at),
        "notice": notice,
    }
    if web.is_fragment_request():
        return render_template("review/_bulk_progress.html", **ctx)
    running = bulk_action.is_running and not stalled
    return render_template("review/bulk.html", meta_refresh=running and not htmx, **ctx)


@bp.route("/review/bulk/<int:bulk_action_id>/resume", methods=["POST"])
@authz.staff_required
def bulk_resume(bulk_action_id: int) -> ResponseValue:
    """Resume a stopped bulk action from its last committed chunk (once, however often clicked)."""
    _bulk_action_or_404(bulk_action_id)
    refusal = review_jobs.resume_bulk_action(db.session, bulk_action_id, at=now())
    db.session.commit()
    if refusal:
        return _progress_or_redirect(bulk_action_id, notice=refusal)
    log.info("bulk action %s resumed by user %s", bulk_action_id, current_user.id)
    return _start_job(bulk_action_id)


@bp.route("/campaigns/<int:campaign_id>/release-stats", methods=["GET"])
@authz.staff_required
def release_stats_fragment(campaign_id: int) -> ResponseValue:
    """The campaign's unhandled-replies numbers (the fragment polls itself)."""
    campaign = authz.get_campaign_or_404(campaign_id)
    if not web.is_fragment_request():
        return redirect(url_for("campaigns.show", campaign_id=campaign.id), code=303)
    return render_template("campaigns/_release_stats.html", campaign=campaign)


@bp.route("/texting/campaigns/<int:campaign_id>/done", methods=["POST"])
@login_required
def done_texting(campaign_id: int) -> ResponseValue:
    """Done Texting: release my unsent initials and unhandled replies in this campaign."""
    campaign = authz.get_campaign_or_404(campaign_id)
    result = done.done_texting(db.session, campaign.id, current_user.id)
    db.session.commit()
    if not result.found:
        abort(404)
    back = web.safe_next(request.form.get("next"))
    if web.is_fragment_request():
        done_html = render_template(
            "texting/_done.html",
            campaign=campaign,
            assignment=authz.texter_assignment(campaign),
            done_message=result.message,
            done_next=back,
        )
        if back != url_for("texting.campaign", campaign_id=campaign.id):
            return done_html
        # The page's counts and its Send button change too: swap them out of band.
        counts = campaign_counts(db.session, current_user.id, campaign.id)
        assignment = authz.texter_assignment(campaign)
        status = render_template(
            "texting/_campaign_status.html", campaign=campaign, counts=counts, oob=True
        )
        claim = render_template(
            "texting/_claim.html", campaign=campaign, assignment=assignment, oob=True
        )
        return done_html + status + claim
    flash(result.message, "success")
    return redirect(back, code=303)
