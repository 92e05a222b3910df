"""Normalized send errors: K-Message's 17 codes plus "did the vendor take it?".

Every failure an adapter reports is a :class:`SendError`. Besides the
normalized ``code`` it keeps the vendor's own code and text and the HTTP
status (operators need both), and the one fact the router needs to decide
whether trying another provider is safe: :class:`Acceptance`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """K-Message's ``KMsgErrorCode``, exactly."""

    INVALID_REQUEST = "INVALID_REQUEST"
    AUTHENTICATION_FAILED = "AUTHENTICATION_FAILED"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    TEMPLATE_NOT_FOUND = "TEMPLATE_NOT_FOUND"
    RATE_LIMIT_EXCEEDED = "RATE_LIMIT_EXCEEDED"
    NETWORK_ERROR = "NETWORK_ERROR"
    NETWORK_TIMEOUT = "NETWORK_TIMEOUT"
    NETWORK_SERVICE_UNAVAILABLE = "NETWORK_SERVICE_UNAVAILABLE"
    REQUEST_ABORTED = "REQUEST_ABORTED"
    PROVIDER_ERROR = "PROVIDER_ERROR"
    MESSAGE_SEND_FAILED = "MESSAGE_SEND_FAILED"
    CRYPTO_CONFIG_ERROR = "CRYPTO_CONFIG_ERROR"
    CRYPTO_ENCRYPT_FAILED = "CRYPTO_ENCRYPT_FAILED"
    CRYPTO_DECRYPT_FAILED = "CRYPTO_DECRYPT_FAILED"
    CRYPTO_HASH_FAILED = "CRYPTO_HASH_FAILED"
    CRYPTO_POLICY_VIOLATION = "CRYPTO_POLICY_VIOLATION"
    UNKNOWN_ERROR = "UNKNOWN_ERROR"

    @property
    def retryable_by_default(self) -> bool:
        """K-Message's default retry class for this code (§3.1)."""
        return self in _RETRYABLE


_RETRYABLE = frozenset(
    {
        ErrorCode.RATE_LIMIT_EXCEEDED,
        ErrorCode.NETWORK_ERROR,
        ErrorCode.NETWORK_TIMEOUT,
        ErrorCode.NETWORK_SERVICE_UNAVAILABLE,
        ErrorCode.PROVIDER_ERROR,
        ErrorCode.UNKNOWN_ERROR,
    }
)

#: Failures that are about *one provider* (its network, its account, its load),
#: so another provider may well succeed. Validation failures are not here: an
#: invalid request or an unknown template would fail everywhere.
FAILOVER_CODES = frozenset(
    {
        ErrorCode.NETWORK_ERROR,
        ErrorCode.NETWORK_TIMEOUT,
        ErrorCode.NETWORK_SERVICE_UNAVAILABLE,
        ErrorCode.PROVIDER_ERROR,
        ErrorCode.AUTHENTICATION_FAILED,
        ErrorCode.INSUFFICIENT_BALANCE,
        ErrorCode.RATE_LIMIT_EXCEEDED,
    }
)


#: Refusals an operator fixes at the provider account (its balance, its credentials or IP
#: allow-list). Repeating them automatically is useless: they fail until someone acts. Once
#: fixed, an operator's retry is useful and safe, since the vendor refused the message and
#: sent nothing.
FIXED_AT_ACCOUNT = frozenset({ErrorCode.INSUFFICIENT_BALANCE, ErrorCode.AUTHENTICATION_FAILED})


class Acceptance(StrEnum):
    """What we know about whether the provider took the message.

    ``NOT_ACCEPTED``: proof the provider did not take it (the connection was
    never made, or the provider answered with a refusal), so sending it
    elsewhere cannot produce a duplicate.
    ``UNKNOWN``: the request left and no trustworthy answer came back (read
    timeout, connection reset mid-exchange, an unreadable 2xx body). The
    message may be on its way; it must not be sent again blindly.
    """

    NOT_ACCEPTED = "not_accepted"
    UNKNOWN = "unknown"


def default_retryable(code: ErrorCode, http_status: int | None, accepted: Acceptance) -> bool:
    """Whether repeating the same request later is both useful and safe.

    Follows K-Message's defaults, narrowed the way its Korean troubleshooting
    guide does: ``PROVIDER_ERROR`` only when the vendor answered 5xx (or no
    HTTP exchange happened). An ``UNKNOWN`` outcome is never retryable: the
    first request may have been delivered, and a retry would duplicate it.
    """
    if accepted is Acceptance.UNKNOWN:
        return False
    if code is ErrorCode.PROVIDER_ERROR and http_status is not None and http_status < 500:
        return False
    return code.retryable_by_default


@dataclass(frozen=True)
class SendError:
    """A normalized failure of one provider call.

    ``vendor_code``/``vendor_text`` are the vendor's own words (e.g. IWINV
    ``206`` "unregistered IP"); ``raw`` is the vendor body with secrets and
    personal data redacted; ``details`` holds anything else worth logging.
    """

    code: ErrorCode
    message: str
    accepted: Acceptance
    retryable: bool
    vendor_code: str | None = None
    vendor_text: str | None = None
    http_status: int | None = None
    retry_after_ms: int | None = None
    raw: Any = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        code: ErrorCode,
        message: str,
        *,
        accepted: Acceptance,
        vendor_code: str | int | None = None,
        vendor_text: str | None = None,
        http_status: int | None = None,
        retry_after_ms: int | None = None,
        retryable: bool | None = None,
        raw: Any = None,
        details: Mapping[str, Any] | None = None,
    ) -> SendError:
        """Build an error, deriving ``retryable`` from the code when not given."""
        if retryable is None:
            retryable = default_retryable(code, http_status, accepted)
        return cls(
            code=code,
            message=message,
            accepted=accepted,
            retryable=retryable,
            vendor_code=None if vendor_code is None else str(vendor_code),
            vendor_text=vendor_text,
            http_status=http_status,
            retry_after_ms=retry_after_ms,
            raw=raw,
            details=dict(details or {}),
        )

    @property
    def failover_eligible(self) -> bool:
        """True when another provider may be tried without risking a duplicate."""
        return self.accepted is Acceptance.NOT_ACCEPTED and self.code in FAILOVER_CODES

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view for send logs and API answers."""
        return {
            "code": self.code.value,
            "message": self.message,
            "accepted": self.accepted.value,
            "retryable": self.retryable,
            "vendor_code": self.vendor_code,
            "vendor_text": self.vendor_text,
            "http_status": self.http_status,
            "retry_after_ms": self.retry_after_ms,
        }


def validation_error(exc: Any) -> SendError:
    """Express a :class:`~.types.MessageValidationError` as ``INVALID_REQUEST``."""
    return SendError.of(
        ErrorCode.INVALID_REQUEST,
        str(exc),
        accepted=Acceptance.NOT_ACCEPTED,
        details={
            "issues": [{"field": i.field, "code": i.code} for i in getattr(exc, "issues", ())]
        },
    )
