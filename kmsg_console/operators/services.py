"""Operator accounts: sign-in, creation, role changes, disabling, passwords."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from kmsg_console.audit.services import diff, record_audit
from kmsg_console.extensions import db
from kmsg_console.operators import passwords, throttle
from kmsg_console.operators.models import Operator, RevokedSession, Role
from kmsg_console.orm import utcnow

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}$")


class OperatorError(ValueError):
    """A request about operators that cannot be carried out; the message is for the user."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> Operator | None:
    return db.session.scalar(sa.select(Operator).where(Operator.email == normalize_email(email)))


@dataclass(frozen=True)
class LoginResult:
    operator: Operator | None
    retry_after: timedelta | None = None


def authenticate(email: str, password: str, ip: str | None) -> LoginResult:
    """Check a login attempt, applying throttling and auditing the outcome.

    Unknown e-mail, wrong password and disabled account all give the same result, take the
    same time (a dummy hash is verified) and count against the same throttle keys.
    """
    email = normalize_email(email)
    keys = throttle.throttle_keys(email, ip)
    wait = throttle.claim_attempt(keys)
    if wait is not None:
        record_audit(
            "auth.login_throttled",
            outcome="failure",
            actor_label=email[:254],
            details={"retry_after_seconds": int(wait.total_seconds())},
        )
        return LoginResult(None, retry_after=wait)
    operator = find_by_email(email)
    ok = passwords.verify_password(operator.password_hash if operator else None, password)
    if not ok or operator is None or not operator.is_active:
        # Already counted by claim_attempt.
        record_audit(
            "auth.login_failed",
            outcome="failure",
            actor_label=email[:254],
            target_type="operator",
            target_id=operator.id if operator else None,
        )
        return LoginResult(None)
    throttle.record_success(keys)
    if passwords.needs_rehash(operator.password_hash):
        operator.password_hash = passwords.hash_password(password)
    operator.last_login_at = utcnow()
    record_audit("auth.login", actor=operator, target_type="operator", target_id=operator.id)
    return LoginResult(operator)


def sign_out(operator: Operator, session_id: str | None, signed_in_at: datetime) -> None:
    """End one session of ``operator`` everywhere its cookie was copied, and audit it.

    Only this session ends: the operator's sessions in other browsers go on. Bumping the
    session epoch would end them all, which is what disabling and password or role changes
    are for; signing out of one browser is not a reason to sign out of the others.
    """
    now = utcnow()
    if session_id is not None:
        dialect = db.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        # Two sign-outs of one session racing (a double click) both want the same row.
        db.session.execute(
            insert(RevokedSession)
            .values(session_id=session_id, signed_in_at=signed_in_at, revoked_at=now)
            .on_conflict_do_nothing()
        )
    # A cookie past its absolute lifetime is refused anyway, so its row guards nothing.
    max_age = timedelta(hours=current_app.config["SESSION_MAX_HOURS"])
    db.session.execute(sa.delete(RevokedSession).where(RevokedSession.signed_in_at < now - max_age))
    record_audit("auth.logout", actor=operator, target_type="operator", target_id=operator.id)


def is_signed_out(session_id: str) -> bool:
    """Whether the session ``session_id`` was signed out."""
    return db.session.get(RevokedSession, session_id) is not None


def validate_new_password(password: str, email: str = "") -> None:
    """Raise OperatorError when ``password`` is too weak to accept."""
    if len(password) < passwords.MIN_LENGTH:
        raise OperatorError("too_short")
    if len(password) > passwords.MAX_LENGTH:
        raise OperatorError("too_long")
    if email and normalize_email(email) in password.lower():
        raise OperatorError("contains_email")


def create_operator(
    email: str, password: str, role: Role, *, display_name: str = "", actor: object = None
) -> Operator:
    """Create an operator; raises OperatorError for a taken or malformed e-mail."""
    email = normalize_email(email)
    if not EMAIL_RE.match(email):
        raise OperatorError("bad_email")
    if find_by_email(email) is not None:
        raise OperatorError("email_taken")
    validate_new_password(password, email)
    operator = Operator(
        email=email,
        display_name=display_name.strip(),
        password_hash=passwords.hash_password(password),
        role=role,
    )
    db.session.add(operator)
    db.session.flush()
    record_audit(
        "operator.create",
        actor=actor,
        target_type="operator",
        target_id=operator.id,
        actor_label=None if actor else "system",
        details={"after": {"email": email, "role": role.value}},
    )
    return operator


def _active_admin_count() -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Operator)
            .where(Operator.role == Role.ADMIN, Operator.is_active.is_(True))
        )
        or 0
    )


def _guard_last_admin(operator: Operator) -> None:
    if operator.role == Role.ADMIN and operator.is_active and _active_admin_count() <= 1:
        raise OperatorError("last_admin")


def change_role(operator: Operator, role: Role, *, actor: Operator) -> None:
    """Give ``operator`` a new role; the last active admin cannot be demoted."""
    if role == operator.role:
        return
    if role != Role.ADMIN:
        _guard_last_admin(operator)
    before = operator.role.value
    operator.role = role
    operator.session_epoch += 1  # new permissions take effect with a fresh sign-in
    record_audit(
        "operator.change_role",
        actor=actor,
        target_type="operator",
        target_id=operator.id,
        details={"before": {"role": before}, "after": {"role": role.value}},
    )


def set_active(operator: Operator, active: bool, *, actor: Operator) -> None:
    """Disable or re-enable ``operator``; disabling ends their sessions at once."""
    if operator.is_active == active:
        return
    if not active:
        if operator.id == actor.id:
            raise OperatorError("disable_self")
        _guard_last_admin(operator)
        operator.session_epoch += 1
    operator.is_active = active
    record_audit(
        "operator.enable" if active else "operator.disable",
        actor=actor,
        target_type="operator",
        target_id=operator.id,
        details={"before": {"active": not active}, "after": {"active": active}},
    )


def change_own_password(operator: Operator, current: str, new: str) -> None:
    """Change a password after checking the current one; other sessions are ended."""
    if not passwords.verify_password(operator.password_hash, current):
        record_audit(
            "operator.change_password",
            outcome="failure",
            actor=operator,
            target_type="operator",
            target_id=operator.id,
        )
        raise OperatorError("wrong_current")
    validate_new_password(new, operator.email)
    operator.password_hash = passwords.hash_password(new)
    operator.session_epoch += 1
    record_audit(
        "operator.change_password", actor=operator, target_type="operator", target_id=operator.id
    )


def update_preferences(operator: Operator, *, locale: str | None, timezone: str | None) -> None:
    before = {"locale": operator.locale, "timezone": operator.timezone}
    operator.locale = locale or None
    operator.timezone = timezone or None
    after = {"locale": operator.locale, "timezone": operator.timezone}
    if before != after:
        record_audit(
            "operator.preferences",
            actor=operator,
            target_type="operator",
            target_id=operator.id,
            details=diff(before, after),
        )


def bootstrap_admin(email: str, password: str | None) -> tuple[Operator, str | None] | None:
    """Create the first admin on an empty database.

    Returns the operator and, when no password was configured, the generated one (to be
    printed once); returns None when operators already exist.
    """
    if db.session.scalar(sa.select(sa.func.count()).select_from(Operator)):
        return None
    generated = None
    if not password:
        password = generated = passwords.generate_password()
    operator = create_operator(email, password, Role.ADMIN, display_name="Admin")
    return operator, generated
