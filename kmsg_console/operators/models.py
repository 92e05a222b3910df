"""Operators of the console and the login-failure counters that throttle guessing."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from kmsg_console.extensions import db
from kmsg_console.i18n_markers import N_
from kmsg_console.orm import TimestampMixin, UTCDateTime


class Role(StrEnum):
    """What an operator may do. Each role includes everything the roles below it may do."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]

    def includes(self, other: Role) -> bool:
        """True when this role may do what ``other`` may do."""
        return self.rank >= other.rank


_ROLE_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}
_ROLE_LABELS = {Role.VIEWER: N_("Viewer"), Role.OPERATOR: N_("Operator"), Role.ADMIN: N_("Admin")}


class Operator(TimestampMixin, db.Model):
    """A person who signs in to the console."""

    __tablename__ = "operator"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(sa.String(100), default="", nullable=False)
    password_hash: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    role: Mapped[Role] = mapped_column(
        sa.Enum(Role, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        nullable=False,
    )
    is_active: Mapped[bool] = mapped_column(default=True, nullable=False)
    #: Bumped whenever sessions must die (disable, password or role change); the session
    #: cookie carries it, so an old cookie stops matching.
    session_epoch: Mapped[int] = mapped_column(default=0, nullable=False)
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # flask-login protocol -------------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    def __repr__(self) -> str:
        return f"<Operator {self.id} {self.role.value}>"


class RevokedSession(db.Model):
    """A signed-out session, so that copies of its cookie are refused too.

    The session cookie is signed, not stored, so signing out in one browser cannot delete
    copies of it; its id is kept here instead. A row is useful only while the cookie could
    still be within its absolute lifetime, which runs from ``signed_in_at``.
    """

    __tablename__ = "revoked_session"

    session_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    signed_in_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class LoginFailure(db.Model):
    """Consecutive failed logins for one key (an e-mail address or a client IP).

    ``failures`` also counts an attempt whose password is being checked: attempts are counted
    before the check (``operators.throttle``), and a good password deletes the row.
    """

    __tablename__ = "login_failure"

    key: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0, nullable=False)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
