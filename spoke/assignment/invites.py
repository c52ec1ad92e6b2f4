"""The organization invite link on People: find it, join through it, rotate it."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from spoke.assignment import sql
from spoke.models import Membership, Organization, new_token
from spoke.transactions import begin_write, lock_row

log = logging.getLogger(__name__)

INVITE_INACTIVE = "This invite link is not active"


def find_invite(session: Session, token: str) -> Organization | None:
    """The organization an invite token lets people join; None if it is not active."""
    if not token or len(token) > 64:
        return None
    return session.scalars(select(Organization).where(Organization.invite_token == token)).first()


def is_member(session: Session, org_id: int, user_id: int) -> bool:
    """True when the user already belongs to the organization."""
    found = session.scalar(
        select(Membership.id).where(
            Membership.organization_id == org_id, Membership.user_id == user_id
        )
    )
    return found is not None


def join_organization(session: Session, token: str, user_id: int) -> Organization | None:
    """Add the user to the invite's organization as a texter; idempotent; None if inactive.

    INSERT ... ON CONFLICT DO NOTHING on UNIQUE(organization_id, user_id): a double click
    or two tabs create one membership, and an existing role (an admin's) is never lowered.
    """
    begin_write(session)
    org = find_invite(session, token)
    if org is None:
        return None
    values = {"organization_id": org.id, "user_id": user_id, "role": "texter"}
    if sql.insert_ignore(session, Membership, values):
        log.info("user %s joined organization %s through its invite link", user_id, org.id)
    return org


def rotate_invite(session: Session, org_id: int) -> str:
    """Give the organization a new invite link; the old one stops working at once."""
    begin_write(session)
    org = lock_row(session, Organization, org_id)
    assert org is not None
    org.invite_token = new_token()
    log.info("organization %s invite link rotated", org_id)
    return org.invite_token
