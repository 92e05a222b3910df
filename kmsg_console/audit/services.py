"""Recording audit events, with secrets scrubbed before they reach the table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from flask_login import current_user

from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.web.pagination import Page, keyset_page
from kmsg_console.web.timezones import local_day_bounds

#: Keys whose values never enter the audit log. Matching is by substring of the lower-cased
#: key, so ``api_secret``, ``new_password`` and ``auth_key`` are all caught.
SECRET_KEY_PARTS = ("password", "secret", "token", "api_key", "apikey", "auth", "key_hash", "code")
REDACTED = "[redacted]"


def redact(value: Any) -> Any:
    """Return ``value`` with every secret-looking mapping entry replaced by a marker."""
    if isinstance(value, Mapping):
        cleaned = {}
        for key, item in value.items():
            lowered = str(key).lower()
            if any(part in lowered for part in SECRET_KEY_PARTS):
                cleaned[key] = REDACTED if item not in (None, "") else item
            else:
                cleaned[key] = redact(item)
        return cleaned
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The fields that changed, as ``{"before": {...}, "after": {...}}`` (secrets redacted)."""
    changed = [key for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)]
    return redact(
        {
            "before": {key: before.get(key) for key in changed},
            "after": {key: after.get(key) for key in changed},
        }
    )


def client_ip() -> str | None:
    """The client address of the current request, if any."""
    return request.remote_addr if has_request_context() else None


def record_audit(
    action: str,
    *,
    target_type: str | None = None,
    target_id: object | None = None,
    details: Mapping[str, Any] | None = None,
    outcome: str = "success",
    actor: Any = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Add an audit event to the session (the caller's commit makes it durable).

    The actor defaults to the signed-in operator; pass ``actor_label`` for API keys or the
    system, or for failed logins where nobody is signed in.
    """
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        actor_label=actor_label or getattr(actor, "email", None) or "system",
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        ip=client_ip(),
        outcome=outcome,
        details=redact(dict(details or {})),
    )
    db.session.add(event)
    return event


def filtered_events(
    filters: Mapping[str, Any], *, cursor: str | None, per_page: int
) -> Page[AuditEvent]:
    """A keyset page of audit events matching the filter form's data."""
    query = sa.select(AuditEvent)
    if filters.get("action"):
        query = query.where(AuditEvent.action.startswith(filters["action"].strip()))
    if filters.get("actor"):
        query = query.where(
            AuditEvent.actor_label.contains(filters["actor"].strip(), autoescape=True)
        )
    if filters.get("outcome"):
        query = query.where(AuditEvent.outcome == filters["outcome"])
    if filters.get("date_from"):
        query = query.where(AuditEvent.created_at >= local_day_bounds(filters["date_from"])[0])
    if filters.get("date_to"):
        query = query.where(AuditEvent.created_at < local_day_bounds(filters["date_to"])[1])
    return keyset_page(
        query, AuditEvent.created_at, AuditEvent.id, cursor=cursor, per_page=per_page
    )
