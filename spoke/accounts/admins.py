"""`flask create-admin`: an organization's owner or admin made from the shell (no request)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spoke.accounts.accounts import (
    AccountError,
    ValidationError,
    _new_user,
    _user_by_email,
    first_organization,
    normalize_email,
    organization_exists,
    setup_organization,
    validate_user_fields,
    write_transaction,
)
from spoke.models import Membership, Organization, User

log = logging.getLogger(__name__)


@dataclass
class AdminResult:
    user: User
    organization: Organization
    role: str
    created_user: bool
    created_organization: bool


def _admin_organization(session: Session, org_name: str | None) -> tuple[Organization, bool]:
    """The organization named `org_name` (created if none is), or the first one without a name.

    Returns it and whether it was created; refuses when several share the name.
    """
    name = (org_name or "").strip()
    if not name:
        org = first_organization(session)
        assert org is not None
        return org, False
    if len(name) > 200:
        raise ValidationError({"org": "Use at most 200 characters for the organization name."})
    named = session.scalars(
        select(Organization)
        .where(func.lower(Organization.name) == name.lower())
        .order_by(Organization.id)
    ).all()
    if len(named) > 1:
        ids = ", ".join(str(org.id) for org in named)
        raise AccountError(
            f'{len(named)} organizations are named "{name}" (ids {ids}), so it is not clear '
            "which one you mean. Nothing was changed."
        )
    if named:
        return named[0], False
    org = Organization(name=name)
    session.add(org)
    session.flush()
    return org, True


def create_admin(
    session: Session, email: str, name: str, password: str, org_name: str | None = None
) -> AdminResult:
    """Make this user owner of a new organization, or admin of an existing one.

    Without `org_name` that is the first organization; with it, the organization of that
    name, created (with this user as owner) when there is none.
    """
    email = normalize_email(email)
    if not organization_exists(session):
        if not (org_name or "").strip():
            raise ValidationError({"org": "No organization exists yet: give its name with --org."})
        user = setup_organization(session, org_name or "", name, email, password)
        org = first_organization(session)
        assert org is not None
        return AdminResult(user, org, "owner", True, True)
    errors = validate_user_fields(name or "", email, password or "")
    if errors:
        raise ValidationError(errors)
    with write_transaction(session):
        org, created_org = _admin_organization(session, org_name)
        user = _user_by_email(session, email)
        created = user is None
        if user is None:
            user = _new_user(session, name, email, password)
        else:
            user.name = name.strip()
            user.set_password(password)
        membership = session.scalars(
            select(Membership).where(
                Membership.organization_id == org.id, Membership.user_id == user.id
            )
        ).first()
        if membership is None:
            role = "owner" if created_org else "admin"
            membership = Membership(organization_id=org.id, user_id=user.id, role=role)
            session.add(membership)
        elif membership.role != "owner":  # never demote an owner from the command line
            membership.role = "admin"
        role = membership.role
    if created_org:
        log.info("organization %s created by create-admin for user %s", org.id, user.id)
    return AdminResult(user, org, role, created, created_org)
