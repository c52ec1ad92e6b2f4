"""The Script preview: the script rendered for the campaign's first contact, or a sample one."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from spoke.campaigns import script
from spoke.models import Campaign, CampaignContact
from spoke.texting import segments


@dataclass(frozen=True)
class Preview:
    """The script rendered for one contact (or a sample one), with what is wrong with it."""

    text: str
    contact_name: str
    is_sample: bool
    error: str = ""
    length: segments.SmsLength = segments.measure("")


def first_contact(session: Session, campaign_id: int) -> CampaignContact | None:
    """The campaign's first contact (lowest id), whom the preview is rendered for."""
    return session.scalars(
        select(CampaignContact)
        .where(CampaignContact.campaign_id == campaign_id)
        .order_by(CampaignContact.id)
        .limit(1)
    ).first()


def preview_script(
    session: Session, campaign: Campaign, text: str, texter_first_name: str
) -> Preview:
    """Render `text` for the first contact, or a sample contact when there are none."""
    custom = campaign.custom_field_names or []
    contact = first_contact(session, campaign.id)
    unknown = script.unknown_fields(text, custom)
    names = ", ".join("{" + f + "}" for f in unknown)
    error = f"Unknown field {names} (shown blank here)." if unknown else ""
    if contact is None:
        sample = script.sample_contact(custom)
        rendered = script.render(text, sample, texter_first_name)
        name = f"{sample.first_name} {sample.last_name}"
        return Preview(rendered, name, True, error, segments.measure(rendered.strip()))
    rendered = script.render(text, contact, texter_first_name)
    length = segments.measure(rendered.strip())
    return Preview(rendered, contact.display_name, False, error, length)
