"""Views: the Questions on a conversation page, where the texter records what the contact said."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from spoke.extensions import db
from spoke.models import CampaignContact
from spoke.responses import answers as domain
from spoke.responses import questions
from spoke.texting.messaging import SendRefused
from spoke.views import _authz as authz
from spoke.views import _web as web

bp = Blueprint("survey", __name__)

ResponseValue = Response | str | tuple[str, int]
FRAGMENT = "responses/_survey.html"


@bp.app_template_global("survey_for")
def survey_for(contact: CampaignContact, saved: str = "", error: str = "") -> dict[str, Any]:
    """The contact's campaign questions and the answers recorded for the contact."""
    return {
        "questions": questions.list_questions(db.session, contact.campaign_id),
        "answers": domain.contact_answers(db.session, contact.id),
        "saved": saved,
        "error": error,
    }


def _fragment(contact: CampaignContact, saved: str = "", error: str = "") -> str:
    return render_template(
        FRAGMENT,
        contact=contact,
        campaign=contact.campaign,
        can_act=True,
        survey=survey_for(contact, saved, error),
    )


def _refused(contact: CampaignContact, refusal: SendRefused) -> ResponseValue:
    """A texter who lost the contact goes back to the campaign; anyone else sees why."""
    db.session.rollback()
    back = url_for("texting.conversation", contact_id=contact.id)
    if refusal.code == "assignment_changed":
        flash(refusal.message, "error")
        target = url_for("texting.campaign", campaign_id=contact.campaign_id)
        if web.is_fragment_request():
            response = make_response("", 200)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target, code=303)
    if refusal.code == "forbidden":
        abort(403, refusal.message)
    if web.is_fragment_request():
        return _fragment(contact, error=refusal.message)
    flash(refusal.message, "error")
    return redirect(back, code=303)


def _int(name: str) -> int | None:
    raw = request.form.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


@bp.post("/texting/contacts/<int:contact_id>/answers")
@login_required
def record(contact_id: int) -> ResponseValue:
    """Record (or change) the contact's answer to one question."""
    contact = authz.get_contact_or_404(contact_id)
    question_id, answer_id = _int("question_id"), _int("answer_id")
    if question_id is None:
        abort(404)
    if answer_id is None:
        return _refused(contact, SendRefused("no_answer", "Choose an answer first."))
    try:
        row = domain.record_answer(
            db.session,
            contact.id,
            question_id,
            answer_id,
            current_user.id,
            is_admin=authz.current_membership().is_admin,
        )
    except LookupError:
        db.session.rollback()
        abort(404)
    except SendRefused as refusal:
        return _refused(contact, refusal)
    label = row.answer.label
    db.session.commit()
    saved = f"Saved: {label}."
    if web.is_fragment_request():
        return _fragment(contact, saved=saved)
    flash(saved, "success")
    return redirect(url_for("texting.conversation", contact_id=contact.id), code=303)
