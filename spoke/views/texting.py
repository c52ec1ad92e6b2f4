"""Views: the texter's pages (my campaigns, send initials, replies) and the contact actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from spoke.campaigns import script
from spoke.extensions import db
from spoke.models import Campaign, CampaignContact
from spoke.runtime import tasks
from spoke.texting import messaging
from spoke.texting import queries as q
from spoke.texting.providers import is_fake
from spoke.views import _authz as authz
from spoke.views import _params as params
from spoke.views._web import is_fragment_request

bp = Blueprint("texting", __name__)

Answer = Any  # a rendered page, a fragment, or a redirect


@bp.get("/")
@login_required
def home() -> Answer:
    """List my started campaigns with what waits for me in each."""
    membership = g.get("membership")
    rows = []
    if membership is not None:
        rows = q.my_campaigns(db.session, current_user.id, membership.organization_id)
        if not rows and membership.is_staff:
            # An organizer with nothing to text starts on Campaigns (first day: create one).
            return redirect(url_for("campaigns.index"))
    return render_template("texting/home.html", rows=rows)


def _texter_campaign(campaign_id: int) -> Campaign:
    """The campaign, if this user may text in it (draft and archived ones: staff only)."""
    campaign = authz.get_campaign_or_404(campaign_id)
    if campaign.status != "started" and not authz.current_membership().is_staff:
        abort(404)
    return campaign


@bp.get("/texting/campaigns/<int:campaign_id>")
@login_required
def campaign(campaign_id: int) -> str:
    """Show one campaign from the texter's side: counts, what to do next, past conversations."""
    campaign = _texter_campaign(campaign_id)
    assignment = authz.texter_assignment(campaign)
    counts = q.campaign_counts(db.session, current_user.id, campaign.id)
    past = q.past_conversations(db.session, assignment.id) if assignment else []
    return render_template(
        "texting/campaign.html", campaign=campaign, assignment=assignment, counts=counts, past=past
    )


def _initial_context(campaign: Campaign, notice: str = "", error: str = "") -> dict[str, Any]:
    assignment = authz.texter_assignment(campaign)
    contact = q.next_initial(db.session, assignment.id) if assignment else None
    return {
        "campaign": campaign,
        "contact": contact,
        "left": q.initials_left(db.session, assignment.id) if assignment else 0,
        "went_back": q.initials_went_back(db.session, assignment.id)
        if assignment and contact is None
        else None,
        "assignment": assignment,
        "message": script.render(campaign.script, contact, current_user.first_name)
        if contact
        else "",
        "notice": notice,
        "error": error,
    }


@bp.get("/texting/campaigns/<int:campaign_id>/send")
@login_required
def initials(campaign_id: int) -> str:
    """Show the next contact to send an initial to (sending is the POST)."""
    return render_template(
        "texting/initials.html", **_initial_context(_texter_campaign(campaign_id))
    )


@bp.get("/texting/campaigns/<int:campaign_id>/replies")
@login_required
def replies(campaign_id: int) -> str:
    """List my contacts waiting for an answer, oldest reply first."""
    campaign = _texter_campaign(campaign_id)
    assignment = authz.texter_assignment(campaign)
    rows = q.replies(db.session, assignment.id) if assignment else []
    return render_template("texting/replies.html", campaign=campaign, rows=rows)


def _holds(contact: CampaignContact) -> bool:
    return contact.assignment is not None and contact.assignment.user_id == current_user.id


def _conversation_context(contact: CampaignContact, **extra: Any) -> dict[str, Any]:
    membership = authz.current_membership()
    assignment = authz.texter_assignment(contact.campaign)
    messages = q.thread(db.session, contact.id)
    context = {
        "contact": contact,
        "campaign": contact.campaign,
        "messages": messages,
        "seen": messages[-1].id if messages else 0,
        "can_act": membership.is_admin or _holds(contact),
        "can_simulate": membership.is_admin and is_fake(current_app.config),
        "next_reply": q.next_reply(db.session, assignment.id, after=contact.id)
        if assignment
        else None,
        "notice": "",
        "error": "",
        "field_error": "",
        "draft": "",
        "simulate_error": "",
    }
    context.update(extra)
    return context


@bp.get("/texting/contacts/<int:contact_id>")
@login_required
def conversation(contact_id: int) -> Answer:
    """Show the conversation with one contact, with the reply form when I may reply."""
    contact = authz.get_contact_or_404(contact_id)
    if not (authz.current_membership().is_staff or _holds(contact)):
        return _refused(messaging.SendRefused(_lost_or_forbidden(contact)), contact, "page")
    return render_template("texting/conversation.html", **_conversation_context(contact))


def _conversation_invalid(contact: CampaignContact, **extra: str) -> Answer:
    """Show a form's error in the conversation: its fragment (htmx), else the page with 400."""
    context = _conversation_context(contact, **extra)
    if is_fragment_request():
        return render_template("texting/_conversation.html", **context)
    return render_template("texting/conversation.html", **context), 400


def _lost_or_forbidden(contact: CampaignContact) -> str:
    return "assignment_changed" if authz.texter_assignment(contact.campaign) else "forbidden"


def _answer(view: str, contact: CampaignContact, notice: str = "", error: str = "") -> Answer:
    """Answer a contact action: the page's fragment for htmx, else 303 back to the page."""
    if view == "initials":
        target = url_for("texting.initials", campaign_id=contact.campaign_id)
    else:
        target = url_for("texting.conversation", contact_id=contact.id)
    if is_fragment_request():
        if view == "initials":
            context = _initial_context(contact.campaign, notice=notice, error=error)
            return render_template("texting/_initial.html", **context)
        context = _conversation_context(contact, notice=notice, error=error)
        return render_template("texting/_conversation.html", **context)
    if notice:
        flash(notice, "success")
    if error:
        flash(error, "error")
    return redirect(target, code=303)


def _refused(refusal: messaging.SendRefused, contact: CampaignContact, view: str) -> Answer:
    """Show why nothing happened; a texter who lost the contact goes back to the campaign."""
    db.session.rollback()
    if refusal.code == "assignment_changed":
        flash(refusal.message, "error")
        target = url_for("texting.campaign", campaign_id=contact.campaign_id)
        if is_fragment_request():
            response = make_response("", 200)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target, code=303)
    if refusal.code == "forbidden" or view == "page":
        if is_fragment_request():
            return render_template("texting/_refusal.html", message=refusal.message)
        abort(403, refusal.message)
    return _answer(view, contact, error=refusal.message)


def _view() -> str:
    return "initials" if request.form.get("view") == "initials" else "conversation"


def _is_admin() -> bool:
    return authz.current_membership().is_admin


@bp.post("/texting/contacts/<int:contact_id>/send")
@login_required
def send_initial(contact_id: int) -> Answer:
    """Send the campaign's initial to one contact, then show the next contact."""
    contact = authz.get_contact_or_404(contact_id)
    try:
        message = messaging.send_initial(
            db.session, contact.id, current_user.id, is_admin=_is_admin()
        )
    except messaging.SendRefused as refusal:
        return _refused(refusal, contact, "initials")
    db.session.commit()
    tasks.enqueue_or_leave(tasks.DELIVER, message.id)
    db.session.refresh(message)
    name = contact.display_name
    if message.status == "failed":
        why = message.error.removeprefix("Not sent: ")
        return _answer("initials", contact, error=f"Not sent to {name}: {why}")
    if message.status == "sent":  # the provider accepted it (in-process delivery)
        return _answer("initials", contact, notice=f"Sent to {name}.")
    return _answer("initials", contact, notice=f"Queued for {name}.")


@bp.post("/texting/contacts/<int:contact_id>/reply")
@login_required
def send_reply(contact_id: int) -> Answer:
    """Send my reply to a contact."""
    contact = authz.get_contact_or_404(contact_id)
    body = request.form.get("body", "")
    try:
        message = messaging.send_reply(
            db.session,
            contact.id,
            current_user.id,
            body,
            is_admin=_is_admin(),
            seen_message_id=params.form_id("seen"),
        )
    except messaging.SendRefused as refusal:
        if refusal.code not in ("empty", "too_long"):
            return _refused(refusal, contact, "conversation")
        db.session.rollback()
        return _conversation_invalid(contact, field_error=refusal.message, draft=body)
    db.session.commit()
    tasks.enqueue_or_leave(tasks.DELIVER, message.id)
    return _answer("conversation", contact)


def _contact_action(contact_id: int, action: Callable[..., Any], notice: str) -> Answer:
    """Apply skip or opt-out to a contact, then answer with `notice` (formatted with its name)."""
    contact = authz.get_contact_or_404(contact_id)
    view = _view()
    try:
        action(db.session, contact.id, current_user.id, is_admin=_is_admin())
    except messaging.SendRefused as refusal:
        return _refused(refusal, contact, view)
    db.session.commit()
    return _answer(view, contact, notice=notice.format(name=contact.display_name))


@bp.post("/texting/contacts/<int:contact_id>/skip")
@login_required
def skip(contact_id: int) -> Answer:
    """Close a contact without texting it ("no response needed")."""
    return _contact_action(contact_id, messaging.skip_contact, "Skipped {name}.")


@bp.post("/texting/contacts/<int:contact_id>/opt-out")
@login_required
def opt_out(contact_id: int) -> Answer:
    """Opt a contact out of all of the organization's texts."""
    return _contact_action(contact_id, messaging.opt_out_contact, "{name} is opted out.")
