"""The organization's opt-out list: once a cell opts out, no campaign texts it again."""

from __future__ import annotations

from sqlalchemy import exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from spoke.models import OPT_OUT_KEYWORDS, Campaign, CampaignContact, OptOut


def is_opt_out_keyword(body: str) -> bool:
    """True when the whole message (trimmed, any case) is STOP or one of its siblings."""
    return body.strip().upper() in OPT_OUT_KEYWORDS


def is_listed(session: Session, organization_id: int, cell: str) -> bool:
    """True when `cell` is on the organization's opt-out list."""
    return bool(
        session.scalar(
            select(exists().where(OptOut.organization_id == organization_id, OptOut.cell == cell))
        )
    )


def opt_out_cell(session: Session, organization_id: int, cell: str, reason: str) -> None:
    """Put `cell` on the list and close it, opted out, in every campaign of the organization.

    Runs inside the caller's write transaction; the list insert ignores an existing entry.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(OptOut)
        .values(organization_id=organization_id, cell=cell, reason=reason[:100])
        .on_conflict_do_nothing(index_elements=["organization_id", "cell"])
    )
    org_campaigns = select(Campaign.id).where(Campaign.organization_id == organization_id)
    session.execute(
        update(CampaignContact)
        .where(CampaignContact.cell == cell, CampaignContact.campaign_id.in_(org_campaigns))
        .values(opted_out=True, message_status="closed")
        .execution_options(synchronize_session="fetch")
    )
