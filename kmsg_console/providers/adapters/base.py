"""What every vendor adapter shares: configuration, HTTP, redaction, failover
warnings and the generic parts of response classification.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from kmsg_console.i18n_markers import N_
from kmsg_console.messaging.errors import Acceptance, ErrorCode, SendError
from kmsg_console.messaging.phone import mask_phone
from kmsg_console.messaging.provider import HealthResult
from kmsg_console.messaging.result import Err, Ok, SendOutcome, SendResult, SendStatus
from kmsg_console.messaging.types import Message, MessageType, MessageWarning

from .config import ConfigField, Timeouts, parse_config
from .transport import HttpClient, HttpReply

logger = logging.getLogger(__name__)

#: Every vendor date is Korean local time; never the host's clock zone.
KST = ZoneInfo("Asia/Seoul")

REDACTED = "***"
#: Keys whose values are credentials, wherever they appear in a vendor body.
_SECRET_KEYS = {
    "key",
    "apikey",
    "api_key",
    "secret",
    "authorization",
    "auth",
    "password",
    "token",
    "senderkey",
    "sender_key",
    "signature",
}
#: Keys holding a recipient's number: kept masked.
_PHONE_KEYS = {"to", "phone", "receiver", "receiver_1", "recipient"}
#: Keys holding a message body (which may be an OTP code): not kept.
_BODY_KEYS = {
    "text",
    "msg",
    "message_1",
    "fmessage_1",
    "sendmessage",
    "resendcontent",
    "templateparam",
    "variables",
    "content_text",
}


def to_kst(value: datetime) -> datetime:
    """``value`` (aware) in Asia/Seoul."""
    return value.astimezone(KST)


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of a vendor body safe to store: credentials ``***``, recipients masked,
    message bodies dropped, and any literal secret value removed from strings.
    """
    secret_values = [s for s in secrets if s and len(s) >= 4]

    def walk(item: Any, key: str | None) -> Any:
        lowered = (key or "").lower()
        if lowered in _SECRET_KEYS and item not in (None, ""):
            return REDACTED
        if isinstance(item, Mapping):
            return {k: walk(v, str(k)) for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [walk(v, key) for v in item]
        if lowered in _BODY_KEYS and item not in (None, ""):
            return f"[{len(str(item))} chars redacted]"
        if lowered in _PHONE_KEYS and isinstance(item, (str, int)):
            return mask_phone(str(item))
        if isinstance(item, str):
            for secret in secret_values:
                item = item.replace(secret, REDACTED)
        return item

    return walk(value, None)


@dataclass(frozen=True)
class VendorSenderNumber:
    """A sender number as the vendor's own list shows it (``usable``: the vendor sends from it)."""

    number: str
    status: str
    usable: bool
    expires_at: str | None = None


class BaseAdapter:
    """Common machinery; subclasses implement ``send`` and ``health_check``.

    Subclasses declare ``vendor``, ``label``, ``supported_types`` and
    ``CONFIG_FIELDS``; the console builds its provider form from them.
    """

    vendor: ClassVar[str]
    label: ClassVar[str]
    supported_types: frozenset[MessageType] = frozenset()
    CONFIG_FIELDS: ClassVar[tuple[ConfigField, ...]] = ()
    supports_delivery_status: ClassVar[bool] = False
    supports_balance: ClassVar[bool] = False
    #: True when the vendor lists the account's registered sender numbers
    #: (``list_sender_numbers``); the others are registered in the console only.
    supports_sender_numbers: ClassVar[bool] = False
    #: How AlimTalk → SMS/LMS fallback maps onto this vendor: native, partial or unsupported.
    failover_support: ClassVar[str] = "unsupported"
    #: False for adapters that never touch the network (no session is created).
    uses_http: ClassVar[bool] = True

    def __init__(
        self,
        provider_id: str,
        config: Mapping[str, Any] | None = None,
        *,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.id = provider_id
        self.config = parse_config(self.CONFIG_FIELDS, dict(config or {}))
        self.timeouts = timeouts or Timeouts()
        self.http = HttpClient(self.timeouts, provider_id=provider_id) if self.uses_http else None

    def __repr__(self) -> str:  # never print the config: it holds secrets
        return f"<{type(self).__name__} id={self.id!r}>"

    def close(self) -> None:
        """Release pooled connections."""
        if self.http is not None:
            self.http.close()

    # -- helpers for subclasses ------------------------------------------------
    def secret_values(self) -> list[str]:
        """The configured secret values, for redaction."""
        return [
            str(self.config[f.name])
            for f in self.CONFIG_FIELDS
            if f.secret and self.config.get(f.name)
        ]

    def redact(self, body: Any) -> Any:
        """:func:`redact` with this adapter's secrets."""
        return redact(body, self.secret_values())

    def failover_warnings(self, message: Message) -> list[MessageWarning]:
        """K-Message's AlimTalk fallback warnings for this vendor."""
        if not message.failover_enabled:
            return []
        warnings: list[MessageWarning] = []
        if self.failover_support == "partial":
            warnings.append(
                MessageWarning(
                    "FAILOVER_PARTIAL_PROVIDER",
                    N_("This provider sends the fallback SMS itself but cannot choose SMS or LMS."),
                    {"provider_id": self.id, "unsupported": ["fallback_channel"]},
                )
            )
        elif self.failover_support == "unsupported":
            warnings.append(
                MessageWarning(
                    "FAILOVER_UNSUPPORTED_PROVIDER",
                    N_("This provider cannot send a fallback SMS/LMS for an undelivered AlimTalk."),
                    {"provider_id": self.id},
                )
            )
        if self.failover_support != "native" and not (
            message.failover and message.failover.fallback_content
        ):
            warnings.append(
                MessageWarning(
                    "FALLBACK_CONTENT_MISSING",
                    N_("Fallback is on but no fallback text was given."),
                    {"provider_id": self.id},
                )
            )
        return warnings

    def ok(
        self,
        message: Message,
        reply: HttpReply | None,
        provider_message_id: Any,
        *,
        status: SendStatus = SendStatus.SENT,
        warnings: Iterable[MessageWarning] = (),
    ) -> SendOutcome:
        """A success outcome with the redacted vendor body."""
        return Ok(
            SendResult(
                provider_id=self.id,
                message_id=message.message_id,
                type=message.type,
                status=status,
                provider_message_id=None
                if provider_message_id in (None, "")
                else str(provider_message_id),
                warnings=tuple(warnings),
                raw=self.redact(reply.body if reply and reply.json_ok else None),
                http_status=reply.status if reply else None,
                latency_ms=reply.latency_ms if reply else None,
            )
        )

    def refused(self, code: ErrorCode, message: str, **kwargs: Any) -> Err:
        """A failure the vendor never saw (local validation, missing config)."""
        return Err(SendError.of(code, message, accepted=Acceptance.NOT_ACCEPTED, **kwargs))

    def vendor_failure(
        self,
        code: ErrorCode,
        reply: HttpReply,
        *,
        vendor_code: Any = None,
        vendor_text: str | None = None,
        message: str | None = None,
    ) -> Err:
        """The vendor answered and refused the message."""
        text = vendor_text or ""
        return Err(
            SendError.of(
                code,
                message or f"{self.vendor} refused the request: {text} (code {vendor_code})",
                accepted=Acceptance.NOT_ACCEPTED,
                vendor_code=vendor_code,
                vendor_text=vendor_text,
                http_status=reply.status,
                retry_after_ms=reply.retry_after_ms,
                raw=self.redact(reply.body if reply.json_ok else reply.text[:500]),
            )
        )

    def unreadable_success(self, reply: HttpReply) -> Err:
        """A 2xx whose body we cannot read: the vendor may well have accepted the message."""
        return Err(
            SendError.of(
                ErrorCode.PROVIDER_ERROR,
                f"{self.vendor} answered HTTP {reply.status} with an unreadable body; "
                "the message may have been sent",
                accepted=Acceptance.UNKNOWN,
                http_status=reply.status,
                raw=self.redact(reply.text[:500]),
            )
        )

    def http_failure(self, reply: HttpReply) -> Err | None:
        """Generic handling of non-2xx answers that carry no vendor verdict.

        5xx: the vendor failed before accepting (``NOT_ACCEPTED``), except 504,
        where a gateway gave up waiting on a backend that may have processed the
        request. 429: throttled. 3xx: a misconfigured base URL.
        """
        status = reply.status
        raw = self.redact(reply.body if reply.json_ok else reply.text[:500])
        common = {"http_status": status, "retry_after_ms": reply.retry_after_ms, "raw": raw}
        if status == 504:
            return Err(
                SendError.of(
                    ErrorCode.NETWORK_TIMEOUT,
                    f"{self.vendor} gateway timeout (HTTP 504)",
                    accepted=Acceptance.UNKNOWN,
                    **common,
                )
            )
        if status == 503:
            return Err(
                SendError.of(
                    ErrorCode.NETWORK_SERVICE_UNAVAILABLE,
                    f"{self.vendor} unavailable (HTTP 503)",
                    accepted=Acceptance.NOT_ACCEPTED,
                    **common,
                )
            )
        if status >= 500:
            return Err(
                SendError.of(
                    ErrorCode.PROVIDER_ERROR,
                    f"{self.vendor} server error (HTTP {status})",
                    accepted=Acceptance.NOT_ACCEPTED,
                    **common,
                )
            )
        if status == 429:
            return Err(
                SendError.of(
                    ErrorCode.RATE_LIMIT_EXCEEDED,
                    f"{self.vendor} throttled the request (HTTP 429)",
                    accepted=Acceptance.NOT_ACCEPTED,
                    **common,
                )
            )
        if 300 <= status < 400:
            return Err(
                SendError.of(
                    ErrorCode.NETWORK_ERROR,
                    f"{self.vendor} answered with a redirect (HTTP {status}); check the base URL",
                    accepted=Acceptance.NOT_ACCEPTED,
                    **common,
                )
            )
        return None

    def health_from(self, result: Ok[Any] | Err, latency_ms: int | None) -> HealthResult:
        """Turn the outcome of a cheap authenticated call into a :class:`HealthResult`."""
        if result.ok:
            return HealthResult(True, latency_ms)
        return HealthResult(False, latency_ms, (result.error.message,), result.error)

    def log_send(self, message: Message, outcome: SendOutcome) -> None:
        """One log line per send, without secrets or the full phone number."""
        if outcome.ok:
            logger.info(
                "provider %s sent %s %s to %s (vendor id %s)",
                self.id,
                message.type,
                message.message_id,
                mask_phone(message.to),
                outcome.value.provider_message_id,
            )
        else:
            logger.warning(
                "provider %s failed %s %s to %s: %s vendor=%s accepted=%s",
                self.id,
                message.type,
                message.message_id,
                mask_phone(message.to),
                outcome.error.code,
                outcome.error.vendor_code,
                outcome.error.accepted,
            )
