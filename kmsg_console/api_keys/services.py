"""Issuing, checking and revoking API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from kmsg_console.api_keys.models import ApiKey, Scope
from kmsg_console.audit.services import record_audit
from kmsg_console.extensions import db
from kmsg_console.orm import utcnow

PREFIX = "kmsg"
#: ``last_used_at`` is refreshed at most this often, so busy keys do not turn every API call
#: into an extra write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyError(ValueError):
    """The request about an API key cannot be carried out; the message is a code."""


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    plaintext: str  # shown once, never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key(
    name: str, scopes: list[str], *, actor=None, actor_label: str | None = None
) -> IssuedKey:
    """Create a key with ``scopes``; the returned plaintext is the only copy."""
    name = name.strip()
    if not name:
        raise ApiKeyError("name_required")
    try:
        scope_values = sorted({Scope(scope).value for scope in scopes})
    except ValueError as exc:
        raise ApiKeyError("bad_scope") from exc
    if not scope_values:
        raise ApiKeyError("scope_required")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(24)
    label = actor_label or getattr(actor, "email", None) or "system"
    key = ApiKey(
        name=name[:80],
        key_id=key_id,
        secret_hash=_hash(secret),
        scopes=scope_values,
        created_by=label,
    )
    db.session.add(key)
    db.session.flush()
    record_audit(
        "api_key.create",
        actor=actor,
        actor_label=actor_label,
        target_type="api_key",
        target_id=key.id,
        details={"after": {"name": key.name, "scopes": scope_values}},
    )
    return IssuedKey(key=key, plaintext=f"{PREFIX}_{key_id}_{secret}")


@dataclass(frozen=True)
class AuthenticatedKey:
    """The key a request authenticated with: what the API needs of it."""

    id: int
    key_id: str
    name: str
    scopes: tuple[str, ...]

    def allows(self, scope: Scope) -> bool:
        return scope.value in self.scopes  # only active keys authenticate


_KEYS = ApiKey.__table__
#: Built once (its cache key with it): every API request runs it. Core, not an ORM load:
#: the request needs six columns, not an ApiKey in the session (bench/otp_profile.py: the
#: ORM load was ~7 % of an OTP start's CPU).
_KEY_BY_ID = sa.select(
    _KEYS.c.id,
    _KEYS.c.name,
    _KEYS.c.secret_hash,
    _KEYS.c.scopes,
    _KEYS.c.revoked_at,
    _KEYS.c.last_used_at,
).where(_KEYS.c.key_id == sa.bindparam("key_id"))
_MARK_USED = (
    sa.update(_KEYS)
    .where(_KEYS.c.id == sa.bindparam("pk"))
    .values(last_used_at=sa.bindparam("now"), last_used_ip=sa.bindparam("ip"))
)


def authenticate(presented: str | None, ip: str | None) -> AuthenticatedKey | None:
    """The active key matching ``presented`` (the full ``kmsg_<id>_<secret>`` string), or None."""
    if not presented:
        return None
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    _prefix, key_id, secret = parts
    connection = db.session.connection()
    row = connection.execute(_KEY_BY_ID, {"key_id": key_id}).first()
    # Compare even when no row matched, so a wrong key id costs the same as a wrong secret.
    expected = row.secret_hash if row is not None else _hash("no-such-key")
    if (
        not hmac.compare_digest(expected, _hash(secret))
        or row is None
        or row.revoked_at is not None
    ):
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        connection.execute(_MARK_USED, {"pk": row.id, "now": now, "ip": ip})
        # Committed at once, before the request's own work, so a request that fails later
        # still shows when the key was last used.
        db.session.commit()
    return AuthenticatedKey(id=row.id, key_id=key_id, name=row.name, scopes=tuple(row.scopes or ()))


def revoke(key: ApiKey, *, actor) -> None:
    if key.revoked_at is not None:
        return
    key.revoked_at = utcnow()
    record_audit(
        "api_key.revoke",
        actor=actor,
        target_type="api_key",
        target_id=key.id,
        details={"before": {"active": True}, "after": {"active": False}},
    )


def list_keys() -> list[ApiKey]:
    return list(
        db.session.scalars(
            sa.select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc())
        )
    )
