"""Outcomes of provider calls: a tiny ``Ok``/``Err`` result type.

Adapters never raise for an expected failure; they return ``Err(SendError)``.
``outcome.ok`` tells the two apart, and both sides are frozen dataclasses the
send engine can log as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, Literal, TypeVar

from .errors import SendError
from .types import MessageType, MessageWarning

T = TypeVar("T")


@dataclass(frozen=True)
class Ok(Generic[T]):
    """A successful result carrying ``value``."""

    value: T
    ok: Literal[True] = field(default=True, init=False)

    def unwrap(self) -> T:
        """Return the value."""
        return self.value


@dataclass(frozen=True)
class Err:
    """A failed result carrying a normalized :class:`SendError`."""

    error: SendError
    ok: Literal[False] = field(default=False, init=False)

    def unwrap(self) -> Any:
        """Raise, because there is no value; use ``.error`` instead."""
        raise RuntimeError(f"unwrap() on a failed result: {self.error.code}: {self.error.message}")


#: ``Ok(value)`` or ``Err(error)``.
Result = Ok[T] | Err


class SendStatus(StrEnum):
    """Send-time status (K-Message ``MessageStatus`` without FAILED, which is ``Err``)."""

    SENT = "SENT"
    PENDING = "PENDING"


@dataclass(frozen=True)
class SendResult:
    """A provider took the message.

    ``status`` is ``SENT`` (handed over) or ``PENDING`` (queued or scheduled at
    the vendor; Aligo always answers this way). ``provider_message_id`` is the
    vendor's id used later for delivery-status polling; ``raw`` is the vendor
    body with secrets and personal data redacted.
    """

    provider_id: str
    message_id: str
    type: MessageType
    status: SendStatus
    provider_message_id: str | None = None
    warnings: Sequence[MessageWarning] = ()
    raw: Any = None
    http_status: int | None = None
    latency_ms: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view for send logs and API answers."""
        return {
            "provider_id": self.provider_id,
            "message_id": self.message_id,
            "provider_message_id": self.provider_message_id,
            "type": self.type.value,
            "status": self.status.value,
            "warnings": [
                {"code": w.code, "message": w.message, "details": dict(w.details)}
                for w in self.warnings
            ],
            "http_status": self.http_status,
            "latency_ms": self.latency_ms,
        }


#: What ``Provider.send`` returns.
SendOutcome = Ok[SendResult] | Err
