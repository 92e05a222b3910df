"""The contract every provider adapter implements (K-Message ``Provider``).

Required: ``id``, ``vendor``, ``supported_types``, ``send`` and
``health_check``. Optional capabilities are separate protocols, checked with
``isinstance`` at run time, so a caller asks "can this provider report a
balance?" instead of catching ``AttributeError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from .errors import SendError
from .result import Result, SendOutcome
from .types import Message, MessageType


@dataclass(frozen=True)
class HealthResult:
    """Whether a provider answered a cheap authenticated call, and how fast."""

    healthy: bool
    latency_ms: int | None = None
    issues: Sequence[str] = ()
    error: SendError | None = None


class DeliveryStatus(StrEnum):
    """K-Message's tracking lifecycle; DELIVERED/FAILED/CANCELLED/UNKNOWN are terminal."""

    PENDING = "PENDING"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    UNKNOWN = "UNKNOWN"

    @property
    def terminal(self) -> bool:
        """True when polling should stop."""
        return self in (
            DeliveryStatus.DELIVERED,
            DeliveryStatus.FAILED,
            DeliveryStatus.CANCELLED,
            DeliveryStatus.UNKNOWN,
        )


@dataclass(frozen=True)
class DeliveryStatusResult:
    """What the vendor reports about one sent message."""

    status: DeliveryStatus
    vendor_code: str | None = None
    vendor_text: str | None = None
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    failed_at: datetime | None = None
    raw: Any = None


@dataclass(frozen=True)
class BalanceResult:
    """Remaining credit at the vendor."""

    provider_id: str
    amount: Decimal
    currency: str = "KRW"
    channel: str | None = None
    raw: Any = None


class TemplateStatus(StrEnum):
    """Review state of a Kakao AlimTalk template at the vendor.

    ``DRAFT`` is Aligo's ``REG`` (registered, not yet submitted), kept apart
    from ``INSPECTION`` (under Kakao review).
    """

    DRAFT = "DRAFT"
    PENDING = "PENDING"
    INSPECTION = "INSPECTION"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


@dataclass(frozen=True)
class KakaoTemplate:
    """A Kakao template as the vendor describes it."""

    code: str
    name: str
    content: str
    status: TemplateStatus
    vendor_status: str | None = None
    comments: Sequence[str] = ()
    buttons: Sequence[Mapping[str, Any]] = ()
    created_at: str | None = None
    raw: Any = None


@dataclass(frozen=True)
class KakaoChannel:
    """A Kakao channel (sender profile) as a vendor lists it (k-msg ``KakaoChannel``).

    ``key`` is the id sends carry (SOLAPI ``pfId``, Aligo ``senderKey``); ``vendor_status``
    the vendor's own status code(s), ``None`` when the vendor reports none.
    """

    key: str
    plus_id: str | None = None
    name: str | None = None
    vendor_status: str | None = None
    raw: Any = None


@dataclass(frozen=True)
class KakaoCategory:
    """One of Kakao's template categories as a vendor lists it (``001002``, "회원 > 로그인")."""

    code: str
    name: str


@dataclass(frozen=True)
class TemplateDraft:
    """Fields to create or update a Kakao template."""

    name: str
    content: str
    buttons: Sequence[Mapping[str, Any]] = ()
    category_code: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Provider(Protocol):
    """A configured provider instance; ``send`` and ``health_check`` never raise."""

    id: str
    vendor: str
    supported_types: frozenset[MessageType]

    def send(self, message: Message) -> SendOutcome:
        """Send one message; return ``Ok(SendResult)`` or ``Err(SendError)``."""
        ...

    def health_check(self) -> HealthResult:
        """Make a cheap authenticated call and report whether it worked."""
        ...


@runtime_checkable
class BatchProvider(Protocol):
    """A provider with a batch endpoint: many messages in one request (SOLAPI send-many)."""

    #: The most messages one ``send_many`` call takes.
    max_batch: int

    def send_many(self, messages: Sequence[Message]) -> list[SendOutcome]:
        """Send ``messages`` (sharing one ``scheduled_at``) in one request; an outcome per
        message, in order; never raises."""
        ...


@runtime_checkable
class BalanceProvider(Protocol):
    """A provider that can report its remaining credit."""

    def get_balance(self) -> Result[BalanceResult]:
        """Return the vendor balance."""
        ...


@runtime_checkable
class DeliveryStatusProvider(Protocol):
    """A provider with a delivery-status API."""

    def get_delivery_status(
        self,
        provider_message_id: str,
        message_type: MessageType,
        to: str,
        requested_at: datetime,
    ) -> Result[DeliveryStatusResult | None]:
        """Return the status, ``Ok(None)`` when the vendor does not know the message yet."""
        ...


@runtime_checkable
class TemplateProvider(Protocol):
    """A provider that manages Kakao AlimTalk templates through its API."""

    def list_templates(self) -> Result[list[KakaoTemplate]]:
        """All templates of the configured channel."""
        ...

    def get_template(self, code: str) -> Result[KakaoTemplate]:
        """One template; ``TEMPLATE_NOT_FOUND`` when the vendor has none."""
        ...

    def create_template(self, draft: TemplateDraft) -> Result[KakaoTemplate]:
        """Register a template (IWINV submits it for review at once)."""
        ...

    def update_template(self, code: str, draft: TemplateDraft) -> Result[KakaoTemplate]:
        """Change a template (only allowed while not approved, at most vendors)."""
        ...

    def delete_template(self, code: str) -> Result[None]:
        """Delete a template."""
        ...
