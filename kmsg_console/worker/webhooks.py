"""Delivery reports pushed by vendors: ``POST /webhooks/delivery/<provider_code>``.

Authentication follows K-Message's webhook signing: ``X-Webhook-Timestamp`` (epoch seconds)
and ``X-Webhook-Signature: sha256=<hex>``, an HMAC-SHA256 over ``"<timestamp>.<raw body>"``
keyed with the provider's webhook secret, compared in constant time, with a timestamp
tolerance (5 minutes unless set per provider). Anything else answers 401.

Idempotent twice over: an accepted report's signature is stored (unique), so a replay is
answered 200 ``duplicate`` without touching anything; and final statuses are never
overwritten. A report for an unknown message id changes nothing.

Body: ``{"reports": [...]}``, a list, or one report; a report names the vendor's message id
(``messageId`` or ``providerMessageId``) and either a normalized ``status`` (PENDING, SENT,
DELIVERED, FAILED, CANCELLED, UNKNOWN) or the vendor's ``statusCode`` (SOLAPI codes are
mapped as by polling), plus an optional ``statusMessage``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from kmsg_console.extensions import db
from kmsg_console.messaging.provider import DeliveryStatus, DeliveryStatusResult
from kmsg_console.messaging.result import Ok
from kmsg_console.providers import services as provider_services
from kmsg_console.sending.models import MessageLog
from kmsg_console.worker import settings, tracking
from kmsg_console.worker.models import DeliveryWebhookReceipt

SIGNATURE_HEADER = "X-Webhook-Signature"
TIMESTAMP_HEADER = "X-Webhook-Timestamp"
PREFIX = "sha256="
MAX_REPORTS = 500
#: A delivery report is flat (ids, codes, a message). A fixed limit gives one answer for one
#: body, where the parser's own limit (the interpreter's recursion depth) varies with the
#: stack it is called from.
MAX_DEPTH = 16
_SOLAPI = {
    "2000": DeliveryStatus.PENDING,
    "3000": DeliveryStatus.SENT,
    "4000": DeliveryStatus.DELIVERED,
}


@dataclass
class Answer:
    status: int
    body: dict[str, Any] = field(default_factory=dict)


def sign(secret: str, timestamp: str | int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return PREFIX + mac.hexdigest()


def _authentic(secret: str, timestamp: str, body: bytes, signature: str, tolerance: int) -> bool:
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(tracking.clock().timestamp() - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature.strip())


def receive(provider_code: str, headers: Any, body: bytes) -> Answer:
    """Verify, de-duplicate and apply one webhook call; the caller commits nothing."""
    provider = provider_services.get_by_code(provider_code)
    secret = settings.webhook_secret(provider) if provider is not None else None
    signature = headers.get(SIGNATURE_HEADER) or ""
    timestamp = headers.get(TIMESTAMP_HEADER) or ""
    if secret is None or not _authentic(
        secret, timestamp, body, signature, settings.tolerance_seconds(provider)
    ):
        return Answer(
            401, {"error": {"code": "unauthenticated", "message": "missing or invalid signature"}}
        )
    try:
        reports = _reports(body)
    except BadReports as exc:
        return Answer(400, {"error": {"code": "invalid_report", "message": str(exc)}})
    receipt = DeliveryWebhookReceipt(
        provider_code=provider.code,
        received_at=tracking.clock(),
        reports=len(reports),
        signature_hash=hashlib.sha256(f"{provider.code}:{signature.strip()}".encode()).hexdigest(),
    )
    db.session.add(receipt)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return Answer(200, {"duplicate": True})
    counts = {"applied": 0, "unchanged": 0, "unknown": 0, "invalid": 0}
    for report in reports:
        counts[_apply(provider.code, provider.vendor, report)] += 1
    receipt.applied = counts["applied"]
    db.session.commit()
    return Answer(202, {"received": len(reports), **counts})


class BadReports(ValueError):
    """The body is not a list of delivery reports this endpoint accepts."""


def _reports(body: bytes) -> list[dict[str, Any]]:
    try:
        data = json.loads(body or b"null")
    except RecursionError:
        # The parser recurses once per nesting level, so a signed body of many brackets
        # would otherwise end the request with a server error.
        raise BadReports("reports are nested too deeply") from None
    except (ValueError, UnicodeDecodeError):
        raise BadReports("expected JSON delivery reports") from None
    if _depth_exceeds(data, MAX_DEPTH):
        raise BadReports("reports are nested too deeply")
    if isinstance(data, dict):
        data = data.get("reports", [data])
    if not isinstance(data, list) or not data or len(data) > MAX_REPORTS:
        raise BadReports("expected JSON delivery reports")
    reports = [item for item in data if isinstance(item, dict)]
    if not reports:
        raise BadReports("expected JSON delivery reports")
    return reports


def _depth_exceeds(value: Any, limit: int) -> bool:
    # Walked with a list instead of recursion, for the same reason the parser is guarded.
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return False


def _status_of(report: dict[str, Any], vendor: str) -> DeliveryStatus | None:
    named = str(report.get("status") or "").upper()
    if named in DeliveryStatus.__members__:
        return DeliveryStatus(named)
    code = str(report.get("statusCode") or "").strip()
    if not code:
        return None
    if vendor == "solapi":
        return _SOLAPI.get(code, DeliveryStatus.FAILED)
    return (
        DeliveryStatus.DELIVERED
        if code.upper() in ("OK", "DELIVERED", "4000", "06", "1000")
        else DeliveryStatus.FAILED
    )


def _apply(provider_code: str, vendor: str, report: dict[str, Any]) -> str:
    vendor_id = str(report.get("messageId") or report.get("providerMessageId") or "").strip()
    status = _status_of(report, vendor)
    if not vendor_id or status is None:
        return "invalid"
    log = db.session.scalar(
        sa.select(MessageLog).where(
            MessageLog.provider_code == provider_code, MessageLog.provider_message_id == vendor_id
        )
    )
    if log is None:
        return "unknown"
    code = report.get("statusCode")
    result = DeliveryStatusResult(
        status,
        None if code is None else str(code)[:40],
        str(report.get("statusMessage") or "")[:500] or None,
        raw=report,
    )
    outcome = tracking.apply_result(
        log, Ok(result), tracking.clock(), polled=False, source="webhook"
    )
    return "unchanged" if outcome in ("ignored", "unchanged") else "applied"
