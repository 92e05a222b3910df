"""Webhook endpoints: create, change, rotate the secret, delete; the delivery log; redeliver.

The caller commits. Every change is audited; a secret is returned once (to be shown once) and
stored encrypted with the app keyring, like providers' credentials.
"""

from __future__ import annotations

import json
import secrets as secrets_module
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from kmsg_console.audit.services import record_audit
from kmsg_console.events import safety
from kmsg_console.events.models import (
    DeliveryStatus,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
)
from kmsg_console.events.types import ALL_TYPES
from kmsg_console.extensions import db
from kmsg_console.i18n_markers import N_
from kmsg_console.orm import utcnow

#: How long the previous secret keeps signing after a rotation.
ROTATION_GRACE = timedelta(hours=24)
#: Deliveries are retried for this long, then the endpoint is marked failing.
RETRY_WINDOW = timedelta(hours=24)
URL_MAX = 2000
DESCRIPTION_MAX = 200


class EndpointError(ValueError):
    """Input the endpoint cannot take; ``reason`` is an untranslated message for ``field``."""

    def __init__(self, field: str, reason: str, **params: str) -> None:
        super().__init__(reason % params if params else reason)
        self.field = field
        self.reason = reason
        self.params = params


@dataclass(frozen=True)
class Issued:
    endpoint: WebhookEndpoint
    secret: str  # the only time it is available in clear


def _keyring():
    return current_app.config["KEYRING"]


def _purpose(endpoint: WebhookEndpoint, which: str = "secret") -> str:
    return f"webhook_endpoint:{endpoint.public_id}:{which}"


def new_secret() -> str:
    return "whsec_" + secrets_module.token_urlsafe(32)


def allow_private() -> bool:
    return bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE"))


def check_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise EndpointError("url", N_("Enter a URL."))
    if len(url) > URL_MAX:
        raise EndpointError("url", N_("The URL is too long."))
    try:
        safety.check_url(url, allow_private=allow_private())
    except safety.UnsafeTarget as exc:
        raise EndpointError("url", exc.reason, **exc.params) from None
    return url


def _types(event_types: list[str] | tuple[str, ...]) -> list[str]:
    chosen = [t for t in ALL_TYPES if t in set(event_types or ())]
    unknown = sorted(set(event_types or ()) - set(ALL_TYPES))
    if unknown:
        raise EndpointError(
            "event_types", N_("Unknown event type: %(type)s."), type=", ".join(unknown)
        )
    if not chosen:
        raise EndpointError("event_types", N_("Choose at least one event type."))
    return chosen


def _snapshot(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "url": endpoint.url,
        "event_types": list(endpoint.event_types),
        "enabled": endpoint.enabled,
        "description": endpoint.description,
    }


def create_endpoint(
    url: str,
    event_types: list[str],
    *,
    enabled: bool = True,
    description: str = "",
    actor: Any = None,
    actor_label: str | None = None,
) -> Issued:
    url = check_url(url)
    types = _types(event_types)
    if len(description or "") > DESCRIPTION_MAX:
        raise EndpointError("description", N_("The description is too long."))
    secret = new_secret()
    endpoint = WebhookEndpoint(
        public_id=f"whe_{uuid.uuid4().hex[:24]}",
        url=url,
        event_types=types,
        enabled=enabled,
        description=(description or "").strip(),
        created_by=actor_label or getattr(actor, "email", None) or "system",
    )
    endpoint.secret_enc = _keyring().encrypt(secret, _purpose(endpoint))
    db.session.add(endpoint)
    db.session.flush()
    record_audit(
        "webhook_endpoint.create",
        actor=actor,
        actor_label=actor_label,
        target_type="webhook_endpoint",
        target_id=endpoint.public_id,
        details={"after": _snapshot(endpoint)},
    )
    return Issued(endpoint, secret)


def update_endpoint(
    endpoint: WebhookEndpoint,
    *,
    url: str,
    event_types: list[str],
    enabled: bool,
    description: str = "",
    actor: Any = None,
) -> None:
    before = _snapshot(endpoint)
    url = url.strip()
    # A URL is checked when it changes; an unchanged one is checked again at each delivery.
    endpoint.url = check_url(url) if url != endpoint.url else url
    endpoint.event_types = _types(event_types)
    endpoint.enabled = enabled
    if len(description or "") > DESCRIPTION_MAX:
        raise EndpointError("description", N_("The description is too long."))
    endpoint.description = (description or "").strip()
    after = _snapshot(endpoint)
    changed = {k: v for k, v in after.items() if before[k] != v}
    if changed:
        record_audit(
            "webhook_endpoint.update",
            actor=actor,
            target_type="webhook_endpoint",
            target_id=endpoint.public_id,
            details={"before": {k: before[k] for k in changed}, "after": changed},
        )


def rotate_secret(
    endpoint: WebhookEndpoint, *, actor: Any = None, actor_label: str | None = None
) -> str:
    """A new secret; the current one keeps signing (second) for ``ROTATION_GRACE``."""
    keyring = _keyring()
    current = keyring.decrypt(endpoint.secret_enc, _purpose(endpoint))
    secret = new_secret()
    endpoint.previous_secret_enc = keyring.encrypt(current, _purpose(endpoint, "previous"))
    endpoint.previous_secret_until = utcnow() + ROTATION_GRACE
    endpoint.secret_enc = keyring.encrypt(secret, _purpose(endpoint))
    record_audit(
        "webhook_endpoint.rotate_secret",
        actor=actor,
        actor_label=actor_label,
        target_type="webhook_endpoint",
        target_id=endpoint.public_id,
        details={"grace_hours": int(ROTATION_GRACE.total_seconds() // 3600)},
    )
    return secret


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets deliveries are signed with now: the current one, then the previous one
    while its grace period lasts."""
    keyring = _keyring()
    found = [keyring.decrypt(endpoint.secret_enc, _purpose(endpoint))]
    if (
        endpoint.previous_secret_enc
        and endpoint.previous_secret_until
        and (now < endpoint.previous_secret_until)
    ):
        found.append(keyring.decrypt(endpoint.previous_secret_enc, _purpose(endpoint, "previous")))
    return found


def delete_endpoint(
    endpoint: WebhookEndpoint, *, actor: Any = None, actor_label: str | None = None
) -> None:
    record_audit(
        "webhook_endpoint.delete",
        actor=actor,
        actor_label=actor_label,
        target_type="webhook_endpoint",
        target_id=endpoint.public_id,
        details={"before": _snapshot(endpoint)},
    )
    db.session.execute(sa.delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    db.session.delete(endpoint)


def list_endpoints() -> list[WebhookEndpoint]:
    return list(db.session.scalars(sa.select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def find_endpoint(public_id: str) -> WebhookEndpoint | None:
    return db.session.scalar(
        sa.select(WebhookEndpoint).where(WebhookEndpoint.public_id == public_id)
    )


def failing_count() -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(WebhookEndpoint.failing_since.is_not(None))
    )


def recent_deliveries(endpoint: WebhookEndpoint, limit: int = 50) -> list[WebhookDelivery]:
    return list(
        db.session.scalars(
            sa.select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )


def redeliver(delivery: WebhookDelivery, *, actor: Any) -> None:
    """Send a delivery again at the worker's next round (whatever its status), audited."""
    now = utcnow()
    delivery.status = DeliveryStatus.PENDING.value
    delivery.next_attempt_at = now
    delivery.retry_until = now + RETRY_WINDOW
    record_audit(
        "webhook_endpoint.redeliver",
        actor=actor,
        target_type="webhook_endpoint",
        target_id=delivery.endpoint.public_id,
        details={"event": delivery.event.public_id, "type": delivery.event.type},
    )


def event_body(event: OutboxEvent) -> bytes:
    """The JSON body of an event, the same bytes on every attempt."""
    return json.dumps(
        {
            "id": event.public_id,
            "type": event.type,
            "occurred_at": event.occurred_at.isoformat(),
            "data": event.data,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
