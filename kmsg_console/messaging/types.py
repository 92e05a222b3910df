"""The normalized message model (K-Message's ``SendInput``, typed for Python).

A :class:`Message` is what every provider adapter receives. It is built once,
at the edge, by :func:`kmsg_console.messaging.prepare.prepare_message`, which
normalizes phone numbers, fills ``#{var}`` placeholders and picks SMS or LMS;
:func:`kmsg_console.messaging.validation.validate_message` checks the per-type
rules. Adapters may therefore rely on ``to`` being domestic digits and on text
bodies being final.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

#: How far ahead a send may be scheduled. SOLAPI takes reservations up to six months ahead,
#: the furthest of the vendors; 180 days is inside six months from any date.
SCHEDULE_HORIZON = timedelta(days=180)

#: A value that may fill a ``#{var}`` placeholder.
VariableValue = str | int | float | bool | date | datetime | None


class MessageType(StrEnum):
    """The message kinds this console sends (a subset of K-Message's 14)."""

    SMS = "SMS"
    LMS = "LMS"
    MMS = "MMS"
    ALIMTALK = "ALIMTALK"
    FRIENDTALK = "FRIENDTALK"

    @property
    def is_text(self) -> bool:
        """True for carrier text messages (SMS/LMS/MMS)."""
        return self in (MessageType.SMS, MessageType.LMS, MessageType.MMS)

    @property
    def is_kakao(self) -> bool:
        """True for KakaoTalk business messages."""
        return self in (MessageType.ALIMTALK, MessageType.FRIENDTALK)


class FallbackChannel(StrEnum):
    """Carrier channel used when an AlimTalk cannot be delivered."""

    SMS = "sms"
    LMS = "lms"


@dataclass(frozen=True)
class KakaoOptions:
    """Kakao-specific options (K-Message ``kakao``).

    ``profile_id`` is SOLAPI's ``pfId`` / Aligo's ``senderkey``; ``plus_id`` is
    the channel's public ``@handle``. ``buttons`` are passed to the vendor as
    given (each a mapping such as ``{"type": "WL", "name": ..., "urlMobile": ...}``).
    """

    profile_id: str | None = None
    plus_id: str | None = None
    buttons: tuple[Mapping[str, Any], ...] = ()
    disable_sms: bool | None = None
    ad_flag: bool | None = None
    image_id: str | None = None


@dataclass(frozen=True)
class Failover:
    """AlimTalk → SMS/LMS fallback request, in K-Message's normalized shape."""

    enabled: bool = False
    fallback_channel: FallbackChannel = FallbackChannel.SMS
    fallback_content: str | None = None
    fallback_title: str | None = None


@dataclass(frozen=True)
class MediaImage:
    """An MMS image carried as bytes (vendors differ on URLs; bytes work everywhere)."""

    data: bytes
    filename: str = "image.jpg"
    content_type: str = "image/jpeg"


@dataclass(frozen=True)
class MessageWarning:
    """A non-fatal remark about a send, e.g. ``FAILOVER_PARTIAL_PROVIDER``.

    ``message`` is an ``N_()``-marked English template whose ``%(name)s``
    slots are filled from ``details`` (byte counts, characters, field names):
    translate the template first, then format it; ``str(warning)`` formats
    the English text.
    """

    code: str
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        """The message with ``%(name)s`` slots filled from ``details``."""
        try:
            return self.message % dict(self.details)
        except (KeyError, TypeError, ValueError):
            return self.message


@dataclass(frozen=True)
class Message:
    """One message to one recipient, ready for a provider.

    ``to`` and ``from_`` are domestic digits (``01012345678``); ``text`` is the
    final body (placeholders already filled) except for ALIMTALK, whose body is
    the approved template held by the vendor: there ``template_content`` is that
    approved text and ``variables`` fill it (Aligo needs the rendered text,
    IWINV needs the values in placeholder order).
    """

    type: MessageType
    to: str
    text: str | None = None
    from_: str | None = None
    subject: str | None = None
    template_id: str | None = None
    template_content: str | None = None
    variables: Mapping[str, VariableValue] = field(default_factory=dict)
    kakao: KakaoOptions = field(default_factory=KakaoOptions)
    failover: Failover | None = None
    image: MediaImage | None = None
    scheduled_at: datetime | None = None
    provider_id: str | None = None
    message_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def failover_enabled(self) -> bool:
        """True when an AlimTalk asks for SMS/LMS fallback."""
        return self.type is MessageType.ALIMTALK and bool(self.failover and self.failover.enabled)


@dataclass(frozen=True)
class ValidationIssue:
    """One reason a message cannot be sent.

    ``message`` is an ``N_()`` template with ``%(name)s`` slots filled from
    ``params``, so the UI can translate the template and then format it.
    """

    field: str
    code: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return (
            f"{self.field}: {self.message % dict(self.params)}"
            if self.params
            else f"{self.field}: {self.message}"
        )


class MessageValidationError(ValueError):
    """Raised when a message breaks a per-type rule; carries every issue found."""

    def __init__(self, issues: list[ValidationIssue] | tuple[ValidationIssue, ...]) -> None:
        self.issues = tuple(issues)
        super().__init__("; ".join(str(issue) for issue in self.issues))
