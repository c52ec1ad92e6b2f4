"""Accounts and organizations: setup, users, sign-in and roles (no Flask request here)."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from spoke import transactions
from spoke.models import ROLES, Membership, Organization, User

log = logging.getLogger(__name__)

MIN_PASSWORD = 8
# Any constant works; it only has to be the same for every process that sets up.
SETUP_LOCK_KEY = 0x5370_6B65
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")

EMAIL_TAKEN = "An account with this email already exists."
LAST_OWNER = "An organization needs at least one owner."
OWNER_ONLY = "Only an owner can grant or remove the owner role."
NOT_ADMIN = "Only owners and admins can change roles."
BAD_ROLE = "Choose one of: owner, admin, supervolunteer, texter."


class AccountError(Exception):
    """A refusal with a reason the user should read."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class NotFound(AccountError):
    """The object is not in this organization (views answer 404)."""


class AlreadySetUp(AccountError):
    """An organization exists already; setup is closed."""


class ValidationError(AccountError):
    """Per-field messages, keyed by form field name."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


def normalize_email(email: str | None) -> str:
    """Return the email as stored: stripped and lowercased."""
    return (email or "").strip().lower()


def validate_user_fields(name: str, email: str, password: str) -> dict[str, str]:
    """Check a new user's name, email and password; return messages by field."""
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Enter your name."
    elif len(name.strip()) > 200:
        errors["name"] = "Use at most 200 characters."
    if not email:
        errors["email"] = "Enter your email address."
    elif len(email) > 320 or not EMAIL_RE.match(email):
        errors["email"] = "Enter an email address like name@example.org."
    if not password:
        errors["password"] = "Enter a password."
    elif len(password) < MIN_PASSWORD:
        errors["password"] = f"Use at least {MIN_PASSWORD} characters."
    return errors


def organization_exists(session: Session) -> bool:
    """True once any organization has been set up."""
    return session.scalar(select(Organization.id).limit(1)) is not None


def first_organization(session: Session) -> Organization | None:
    """The oldest organization (self-hosted installs have exactly one)."""
    return session.scalars(select(Organization).order_by(Organization.id).limit(1)).first()


def _user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email)).first()


def _new_user(session: Session, name: str, email: str, password: str) -> User:
    """Add a user inside the caller's write transaction (email already normalized)."""
    if _user_by_email(session, email) is not None:
        raise ValidationError({"email": EMAIL_TAKEN})
    user = User(name=name.strip(), email=email)
    user.set_password(password)
    session.add(user)
    session.flush()
    return user


@contextmanager
def write_transaction(session: Session) -> Iterator[None]:
    """Run the block as one write transaction: commit on success, roll back on any error."""
    transactions.begin_write(session)
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


def _lock_setup(session: Session) -> None:
    """Serialise setups: on PostgreSQL two 'no organization yet' reads never conflict."""
    if transactions.is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SETUP_LOCK_KEY})


def setup_organization(
    session: Session, org_name: str, name: str, email: str, password: str
) -> User:
    """Create the first organization and its owner, once; commit and return the owner."""
    org_name = (org_name or "").strip()
    email = normalize_email(email)
    errors: dict[str, str] = {}
    if not org_name:
        errors["org_name"] = "Enter the organization's name."
    elif len(org_name) > 200:
        errors["org_name"] = "Use at most 200 characters."
    errors.update(validate_user_fields(name or "", email, password or ""))
    with write_transaction(session):
        _lock_setup(session)
        if organization_exists(session):
            raise AlreadySetUp("This spoke is already set up.")
        if errors:
            raise ValidationError(errors)
        org = Organization(name=org_name)
        session.add(org)
        user = _new_user(session, name, email, password)
        session.add(Membership(organization_id=org.id, user_id=user.id, role="owner"))
    log.info("organization %s set up by user %s", org.id, user.id)
    return user


def create_user(session: Session, name: str, email: str, password: str) -> User:
    """Sign up a user with no membership; commit and return them."""
    email = normalize_email(email)
    errors = validate_user_fields(name or "", email, password or "")
    if errors:
        raise ValidationError(errors)
    try:
        with write_transaction(session):
            user = _new_user(session, name, email, password)
    except IntegrityError:
        # Two sign-ups with one email raced past the check; the unique index decided.
        raise ValidationError({"email": EMAIL_TAKEN}) from None
    return user


@cache
def _dummy_hash() -> str:
    """A password hash made like real ones, to check unknown emails against."""
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The user with this email and password, or None (same answer for unknown emails).

    An unknown email is checked against a dummy hash, so it takes as long to refuse as a
    wrong password and the time does not tell which emails have accounts.
    """
    user = _user_by_email(session, normalize_email(email))
    if user is None:
        check_password_hash(_dummy_hash(), password or "")
        return None
    if not user.check_password(password or "") or not password:
        return None
    return user


def end_sessions(session: Session, user_id: int) -> None:
    """Rotate the user's session token: every session and remember cookie of theirs ends.

    Sessions are per user, not per browser: logging out on one device logs out all of them.
    Call on logout, password change and removal from an organization; the caller commits.
    """
    transactions.begin_write(session)
    user = session.get(User, user_id)
    if user is not None:
        user.rotate_session_token()


def get_membership(session: Session, org_id: int, membership_id: int) -> Membership:
    """A membership of this organization, or NotFound."""
    membership = session.get(Membership, membership_id)
    if membership is None or membership.organization_id != org_id:
        raise NotFound()
    return membership


def change_role(
    session: Session, org_id: int, actor_id: int, membership_id: int, role: str
) -> Membership:
    """Set a member's role within the owner rules; commit and return the membership."""
    with write_transaction(session):
        # One role change per organization at a time, so two owners cannot demote each other.
        transactions.lock_row(session, Organization, org_id)
        target = get_membership(session, org_id, membership_id)
        session.refresh(target)
        actor = session.scalars(
            select(Membership).where(
                Membership.organization_id == org_id, Membership.user_id == actor_id
            )
        ).first()
        if actor is None or not actor.is_admin:
            raise AccountError(NOT_ADMIN)
        if role not in ROLES:
            raise AccountError(BAD_ROLE)
        if role == target.role:
            return target
        if (role == "owner" or target.role == "owner") and actor.role != "owner":
            raise AccountError(OWNER_ONLY)
        if target.role == "owner":
            owners = session.scalar(
                select(func.count())
                .select_from(Membership)
                .where(Membership.organization_id == org_id, Membership.role == "owner")
            )
            if (owners or 0) <= 1:
                raise AccountError(LAST_OWNER)
        log.info("user %s set membership %s role %s -> %s", actor_id, target.id, target.role, role)
        target.role = role
    return target


def org_members(session: Session, org_id: int) -> list[Membership]:
    """The organization's memberships with their users, by name."""
    query = (
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organization_id == org_id)
        .order_by(func.lower(User.name), User.id)
    )
    return list(session.scalars(query))
