"""Building outbox rows: the one way an event is made.

Each function returns new ``OutboxEvent`` objects; the code making the change writes them in
its own transaction, where the change is written: ``point.insert(...)`` in the send engine's
durability points, ``db.session.add(...)`` before a commit elsewhere. A rolled-back change
therefore leaves no event, and a committed one always has its event.

The data holds ids, statuses, codes and masked numbers: never an OTP code, a message body or
a full phone number.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from kmsg_console.events.models import OutboxEvent
from kmsg_console.events.types import EventType
from kmsg_console.orm import utcnow


def new_event(type: EventType, data: dict[str, Any], *, at: datetime | None = None) -> OutboxEvent:
    return OutboxEvent(
        public_id=f"evt_{uuid.uuid4().hex}",
        type=type.value,
        occurred_at=at or utcnow(),
        data=data,
        fanned_out_at=None,
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


# -- messages --------------------------------------------------------------------------------

#: The event a message's status announces; CANCELLED has none.
_MESSAGE_TYPES = {
    "PENDING": EventType.MESSAGE_SENT,
    "SENT": EventType.MESSAGE_SENT,
    "DELIVERED": EventType.MESSAGE_DELIVERED,
    "FAILED": EventType.MESSAGE_FAILED,
    "UNKNOWN": EventType.MESSAGE_UNKNOWN,
}


def message_data(log: Any) -> dict[str, Any]:
    return {
        "message_id": log.public_id,
        "status": log.status,
        "type": log.type,
        "source": log.source,
        "provider": log.provider_code,
        "provider_message_id": log.provider_message_id,
        "error_code": log.error_code,
        "vendor_code": log.vendor_code,
        "vendor_text": log.vendor_text,
        "to": log.to_masked,
        "from": log.from_number,
        "template_code": log.template_code,
    }


def message_events(log: Any, *, previous_status: str | None = None) -> list[OutboxEvent]:
    """The event of ``log``'s status (none if its status announces none, or announces the same
    event as ``previous_status``: PENDING then SENT is one ``message.sent``)."""
    type = _MESSAGE_TYPES.get(log.status)
    if type is None or (previous_status and _MESSAGE_TYPES.get(previous_status) is type):
        return []
    return [new_event(type, message_data(log), at=log.status_updated_at)]


def fallback_sent(original: Any, fallback: Any) -> OutboxEvent:
    """``message.fallback_sent``: the SMS/LMS sent in place of an undeliverable AlimTalk."""
    return new_event(
        EventType.MESSAGE_FALLBACK_SENT,
        {
            "message_id": original.public_id,
            "fallback_message_id": fallback.public_id,
            "fallback_type": fallback.type,
            "fallback_status": fallback.status,
            "provider": fallback.provider_code,
            "vendor_code": original.vendor_code,
            "to": original.to_masked,
        },
    )


# -- verifications ---------------------------------------------------------------------------

_VERIFICATION_STATUS = {
    EventType.VERIFICATION_STARTED: "pending",
    EventType.VERIFICATION_APPROVED: "approved",
    EventType.VERIFICATION_EXPIRED: "expired",
    EventType.VERIFICATION_MAX_ATTEMPTS: "max_attempts",
    EventType.VERIFICATION_CANCELED: "canceled",
}


def verification_event(
    type: EventType, verification: Any, *, purpose: str | None = None, at: datetime | None = None
) -> OutboxEvent:
    """A verification's event; the status is the one ``type`` moves it to (the row may still
    show the old one in memory after a conditional UPDATE)."""
    return new_event(
        type,
        {
            "verification_id": verification.public_id,
            "status": _VERIFICATION_STATUS[type],
            "purpose": purpose,
            "channel": verification.channel,
            "to": verification.phone_masked,
            "message_id": verification.message_public_id,
            "expires_at": _iso(verification.expires_at),
        },
        at=at,
    )


# -- templates and providers -----------------------------------------------------------------


def template_reviewed(template: Any) -> list[OutboxEvent]:
    """``template.approved`` or ``template.rejected`` (with the reviewer's latest comment)."""
    status = (template.status or "").lower()
    type = {"approved": EventType.TEMPLATE_APPROVED, "rejected": EventType.TEMPLATE_REJECTED}.get(
        status
    )
    if type is None:
        return []
    comments = list(template.review_comments or [])
    data = {
        "template_id": template.id,
        "template_code": template.vendor_code,
        "name": template.name,
        "provider": getattr(template.provider, "code", None),
        "status": status,
    }
    if type is EventType.TEMPLATE_REJECTED:
        data["comment"] = comments[-1] if comments else None
    return [new_event(type, data)]


def provider_health(provider: Any, was_healthy: bool | None) -> list[OutboxEvent]:
    """``provider.unhealthy`` when a check fails after a good (or no) one; ``provider.recovered``
    when one succeeds after a failure."""
    if provider.health_ok and was_healthy is False:
        type = EventType.PROVIDER_RECOVERED
    elif provider.health_ok is False and was_healthy is not False:
        type = EventType.PROVIDER_UNHEALTHY
    else:
        return []
    return [
        new_event(
            type,
            {
                "provider": provider.code,
                "vendor": provider.vendor,
                "healthy": bool(provider.health_ok),
                "latency_ms": provider.health_latency_ms,
                "error": provider.health_error,
            },
            at=provider.health_checked_at,
        )
    ]
