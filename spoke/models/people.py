"""Organizations, users, memberships and teams."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from spoke.clock import now
from spoke.extensions import db

ROLES = ("owner", "admin", "supervolunteer", "texter")
ADMIN_ROLES = ("owner", "admin")
STAFF_ROLES = ("owner", "admin", "supervolunteer")


def new_token() -> str:
    """Return an unguessable link token (256 bits, URL safe)."""
    return secrets.token_urlsafe(32)


class Organization(db.Model):
    __tablename__ = "organization"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The People page's invite link: whoever opens it may join as a texter. Rotatable.
    invite_token: Mapped[str] = mapped_column(
        String(64), unique=True, index=True, default=new_token
    )
    created_at: Mapped[datetime] = mapped_column(default=now)


def new_session_token() -> str:
    """A fresh random session token (256 bits)."""
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    # Part of the login cookie; rotating it (logout, password change, removal) ends sessions.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(default=now)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user")

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else ""

    def get_id(self) -> str:
        """The login identity: id and session token, so a rotated token ends every session."""
        return f"{self.id}:{self.session_token}"

    def rotate_session_token(self) -> None:
        """End every session and remember cookie of this user (they must log in again)."""
        self.session_token = new_session_token()

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.rotate_session_token()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class Membership(db.Model):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    role: Mapped[str] = mapped_column(String(20), default="texter")
    created_at: Mapped[datetime] = mapped_column(default=now)

    user: Mapped[User] = relationship(back_populates="memberships")
    organization: Mapped[Organization] = relationship()

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


class Team(db.Model):
    __tablename__ = "team"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=now)

    members: Mapped[list[User]] = relationship(secondary="team_member", order_by="User.name")


class TeamMember(db.Model):
    __tablename__ = "team_member"
    team_id: Mapped[int] = mapped_column(
        ForeignKey("team.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )
