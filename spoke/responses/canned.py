"""Canned responses: ready-made replies an admin writes and a texter picks to fill the Reply box.

The text uses the script's {fields}, checked the same way as the Script, and is rendered for
the contact the texter is answering. Choosing one never sends anything.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from spoke.campaigns import script
from spoke.campaigns.service import too_long
from spoke.models import Campaign, CannedResponse, QuestionAnswer
from spoke.responses.common import begin_campaign_edit, move, next_position, refuse

TITLE_MAX = 100


def list_canned(session: Session, campaign_id: int) -> list[CannedResponse]:
    """The campaign's canned responses in the admin's order."""
    return list(
        session.scalars(
            select(CannedResponse)
            .where(CannedResponse.campaign_id == campaign_id)
            .order_by(CannedResponse.position, CannedResponse.id)
        )
    )


def get_canned(session: Session, campaign_id: int, canned_id: int) -> CannedResponse | None:
    """One canned response of this campaign, or None (another campaign's is None too)."""
    canned = session.get(CannedResponse, canned_id)
    return canned if canned is not None and canned.campaign_id == campaign_id else None


def render(canned: CannedResponse, contact: Any, texter_first_name: str) -> str:
    """The response's text filled in for one contact."""
    return script.render(canned.text, contact, texter_first_name)


def _check(session: Session, campaign: Campaign, title: str, text: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "Enter a title."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"Title must be {TITLE_MAX} characters or fewer."
    custom = campaign.custom_field_names or []
    unknown = script.unknown_fields(text, custom)
    if not text:
        errors["text"] = "Write the response."
    elif unknown:
        errors["text"] = script.unknown_fields_message(unknown, custom)
    elif reason := too_long(session, campaign, text):
        errors["text"] = reason
    return errors


def add_canned(session: Session, campaign_id: int, title: str, text: str) -> CannedResponse:
    """Add a canned response at the end of the campaign's list, after checking its fields."""
    title, text = title.strip(), text.strip()
    campaign = begin_campaign_edit(session, campaign_id)
    errors = _check(session, campaign, title, text)
    if errors:
        raise refuse(session, errors)
    scope = CannedResponse.campaign_id == campaign_id
    canned = CannedResponse(
        campaign_id=campaign_id,
        title=title,
        text=text,
        position=next_position(session, CannedResponse.position, scope),
    )
    session.add(canned)
    session.flush()
    return canned


def _locked(session: Session, campaign_id: int, canned_id: int) -> CannedResponse:
    begin_campaign_edit(session, campaign_id)
    canned = get_canned(session, campaign_id, canned_id)
    if canned is None:
        raise refuse(session, {"status": "This canned response was deleted."})
    return canned


def update_canned(
    session: Session, campaign_id: int, canned_id: int, title: str, text: str
) -> CannedResponse:
    """Change a canned response's title and text, after checking its fields."""
    title, text = title.strip(), text.strip()
    canned = _locked(session, campaign_id, canned_id)
    campaign = session.get(Campaign, campaign_id)
    assert campaign is not None
    errors = _check(session, campaign, title, text)
    if errors:
        raise refuse(session, errors)
    canned.title, canned.text = title, text
    session.flush()
    return canned


def move_canned(session: Session, campaign_id: int, canned_id: int, direction: str) -> None:
    """Move a canned response one place up or down the list."""
    _locked(session, campaign_id, canned_id)
    move(session, CannedResponse, CannedResponse.campaign_id == campaign_id, canned_id, direction)


def delete_canned(session: Session, campaign_id: int, canned_id: int) -> str:
    """Delete a canned response (answers that suggested it suggest nothing); return its title."""
    canned = _locked(session, campaign_id, canned_id)
    session.execute(
        update(QuestionAnswer)
        .where(QuestionAnswer.canned_response_id == canned_id)
        .values(canned_response_id=None)
    )
    title = canned.title
    session.delete(canned)
    session.flush()
    return title
