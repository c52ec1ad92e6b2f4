"""Views: the campaign's Questions section (questions, their answers and suggested replies)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from spoke.extensions import db
from spoke.models import Campaign, Question
from spoke.responses import canned as canned_domain
from spoke.responses import questions as domain
from spoke.responses.common import DIRECTIONS, ResponseError
from spoke.views import _authz as authz
from spoke.views import _web as web
from spoke.views.auth import invalid_status
from spoke.views.campaigns import page as campaign_page

bp = Blueprint("questions", __name__)

ResponseValue = Response | str | tuple[str, int]
FRAGMENT = "responses/_questions.html"


@bp.app_template_global("questions_section")
def questions_section(
    campaign: Campaign,
    edited: Any = None,
    form: MultiDict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    saved: str = "",
    error: str = "",
) -> dict[str, Any]:
    """The Questions section; `edited` ("new" or a question id) is re-shown as typed."""
    return {
        "questions": domain.list_questions(db.session, campaign.id),
        "canned": canned_domain.list_canned(db.session, campaign.id),
        "edited": edited,
        "form": form if form is not None else MultiDict(),
        "errors": errors or {},
        "saved": saved,
        "error": error,
    }


def _answer(campaign: Campaign, message: str = "", **shown: Any) -> ResponseValue:
    """Answer an edit: the section (htmx) or 303 to the page; a refusal shows the section."""
    if shown:
        section = questions_section(campaign, **shown)
        if web.is_fragment_request():
            return render_template(FRAGMENT, campaign=campaign, qs=section)
        return campaign_page(campaign, invalid_status(), questions=section)
    if not web.is_fragment_request():
        flash(message, "success")
    return web.fragment_or_redirect(
        FRAGMENT,
        url_for("campaigns.show", campaign_id=campaign.id, _anchor="questions"),
        campaign=campaign,
        qs=questions_section(campaign, saved=message),
    )


def _refused(campaign: Campaign, exc: ResponseError, edited: Any) -> ResponseValue:
    if "status" in exc.errors:
        return _answer(campaign, error=exc.errors["status"])
    return _answer(campaign, edited=edited, form=request.form, errors=exc.errors)


def _loaded(campaign_id: int, question_id: int) -> tuple[Campaign, Question]:
    campaign = authz.get_campaign_or_404(campaign_id)
    question = domain.get_question(db.session, campaign.id, question_id)
    if question is None:
        abort(404)
    return campaign, question


def _canned_id(raw: str) -> int | None:
    """A suggested reply's id from its select; "" is none, junk is an id no campaign has."""
    raw = raw.strip()
    if not raw:
        return None
    return int(raw) if raw.isdigit() and len(raw) < 12 else -1


@bp.post("/campaigns/<int:campaign_id>/questions")
@authz.staff_required
def add(campaign_id: int) -> ResponseValue:
    """Add a question with its answers (one per line)."""
    campaign = authz.get_campaign_or_404(campaign_id)
    text = request.form.get("text", "")
    try:
        domain.add_question(db.session, campaign.id, text, request.form.get("answers", ""))
    except ResponseError as exc:
        return _refused(campaign, exc, "new")
    db.session.commit()
    return _answer(campaign, f"Question “{text.strip()}” added.")


@bp.post("/campaigns/<int:campaign_id>/questions/<int:question_id>")
@authz.staff_required
def edit(campaign_id: int, question_id: int) -> ResponseValue:
    """Save a question's text, its answers, their suggested replies, and a new answer."""
    campaign, question = _loaded(campaign_id, question_id)
    form = request.form
    answers = {
        int(key.removeprefix("label_")): (value, _canned_id(form.get(f"reply_{key[6:]}", "")))
        for key, value in form.items()
        if key.startswith("label_") and key[6:].isdigit() and len(key) < 18
    }
    new = (form.get("new_label", ""), _canned_id(form.get("new_reply", "")))
    try:
        domain.update_question(
            db.session, campaign.id, question.id, form.get("text", ""), answers, new
        )
    except ResponseError as exc:
        return _refused(campaign, exc, question_id)
    db.session.commit()
    return _answer(campaign, "Question saved.")


@bp.post("/campaigns/<int:campaign_id>/questions/<int:question_id>/move")
@authz.staff_required
def move(campaign_id: int, question_id: int) -> ResponseValue:
    """Move a question one place up or down."""
    campaign, question = _loaded(campaign_id, question_id)
    direction = request.form.get("direction", "")
    if direction not in DIRECTIONS:
        abort(400, "Choose Up or Down.")
    try:
        domain.move_question(db.session, campaign.id, question.id, direction)
    except ResponseError as exc:
        return _refused(campaign, exc, question_id)
    db.session.commit()
    return _answer(campaign, f"Question moved {direction}.")


@bp.post("/campaigns/<int:campaign_id>/questions/<int:question_id>/delete")
@authz.staff_required
def delete(campaign_id: int, question_id: int) -> ResponseValue:
    """Delete a question nobody has answered yet."""
    campaign, question = _loaded(campaign_id, question_id)
    try:
        text = domain.delete_question(db.session, campaign.id, question.id)
    except ResponseError as exc:
        return _refused(campaign, exc, question_id)
    db.session.commit()
    return _answer(campaign, f"Question “{text}” deleted.")


@bp.post("/campaigns/<int:campaign_id>/questions/<int:question_id>/answers/<int:answer_id>/move")
@authz.staff_required
def move_answer(campaign_id: int, question_id: int, answer_id: int) -> ResponseValue:
    """Move an answer one place up or down within its question."""
    campaign, question = _loaded(campaign_id, question_id)
    direction = request.form.get("direction", "")
    if direction not in DIRECTIONS:
        abort(400, "Choose Up or Down.")
    try:
        domain.move_answer(db.session, campaign.id, question.id, answer_id, direction)
    except ResponseError as exc:
        return _refused(campaign, exc, question_id)
    db.session.commit()
    return _answer(campaign, f"Answer moved {direction}.")


@bp.post("/campaigns/<int:campaign_id>/questions/<int:question_id>/answers/<int:answer_id>/remove")
@authz.staff_required
def remove_answer(campaign_id: int, question_id: int, answer_id: int) -> ResponseValue:
    """Delete an answer no contact has."""
    campaign, question = _loaded(campaign_id, question_id)
    try:
        label = domain.remove_answer(db.session, campaign.id, question.id, answer_id)
    except ResponseError as exc:
        return _refused(campaign, exc, question_id)
    db.session.commit()
    return _answer(campaign, f"Answer “{label}” removed.")
