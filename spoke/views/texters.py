"""Views: the campaign's Texters panel (routed on the "assignment" blueprint).

Each change is remembered for the panel fragment (campaigns/_texters.html), which shows the
message next to the row it concerns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from flask_login import current_user

from spoke import parsing
from spoke.assignment import manual
from spoke.extensions import db
from spoke.models import Campaign, User
from spoke.views import _authz as authz
from spoke.views import _params as params
from spoke.views._feedback import ResponseValue, campaign_fragment, remember

MAX_COUNT = 1_000_000
NUMBER_MESSAGE = "Enter a whole number, 0 or more."


def _panel_answer(campaign: Campaign) -> ResponseValue:
    return campaign_fragment("campaigns/_texters.html", campaign, "texters")


def _whole_number(raw: str, blank: int | None) -> tuple[int | None, str]:
    """Parse a count field: blank gives `blank`; else a whole number from 0 to MAX_COUNT."""
    if not raw.strip():
        return blank, ""
    if parsing.whole_number(raw, 0, 10**20) is None:
        return None, NUMBER_MESSAGE
    return parsing.number_or_message(raw, 0, MAX_COUNT, f"Use at most {MAX_COUNT:,}.")


def _name(user_id: int) -> str:
    user = db.session.get(User, user_id)
    return user.name if user is not None else "That texter"


def _apply(user_id: int, change: Callable[[], manual.ManualResult]) -> dict[str, Any]:
    """Run one row's change and commit it, or roll back; return the row's feedback."""
    try:
        result = change()
    except manual.AssignmentError as exc:
        db.session.rollback()
        return {"message": str(exc)}
    db.session.commit()
    return {"ok": True, "message": f"{_name(user_id)}: {result.message}."}


@authz.admin_required
def add_texter(campaign_id: int) -> ResponseValue:
    """Add an organization member to the campaign's texters."""
    campaign = authz.get_campaign_or_404(campaign_id)
    user_id = params.form_id("user_id")
    feedback: dict[str, Any] = {"ok": False}
    if user_id is None:
        feedback["errors"] = {"add": "Choose a texter to add."}
    else:
        try:
            added = manual.add_texter(db.session, campaign.id, user_id, actor_id=current_user.id)
        except manual.AssignmentError as exc:
            db.session.rollback()
            feedback["errors"] = {"add": str(exc)}
        else:
            db.session.commit()
            name = _name(user_id)
            feedback.update(
                ok=True,
                user_id=user_id,
                message=f"{name} added." if added else f"{name} is already a texter here.",
            )
    remember("texters", campaign.id, feedback)
    return _panel_answer(campaign)


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
        feedback.update(
            _apply(
                user_id,
                lambda: manual.set_texts_to_send(
                    db.session,
                    campaign.id,
                    user_id,
                    wanted,
                    actor_id=current_user.id,
                    max_contacts=cap,
                    also_conversations=bool(request.form.get("also_conversations")),
                ),
            )
        )
    remember("texters", campaign.id, feedback)
    return _panel_answer(campaign)


@authz.admin_required
def remove_texter(campaign_id: int, user_id: int) -> ResponseValue:
    """Take a texter off the campaign; their unsent contacts return to the pool."""
    campaign = authz.get_campaign_or_404(campaign_id)
    feedback: dict[str, Any] = {"ok": False, "user_id": user_id}
    feedback.update(
        _apply(
            user_id,
            lambda: manual.remove_texter(
                db.session,
                campaign.id,
                user_id,
                actor_id=current_user.id,
                also_conversations=bool(request.form.get("also_conversations")),
            ),
        )
    )
    remember("texters", campaign.id, feedback)
    return _panel_answer(campaign)
