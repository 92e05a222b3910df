"""Turn caller input into a validated :class:`Message` (K-Message's ``send`` front half).

This is where the edge rules live: phone numbers are normalized once,
``#{var}`` placeholders are filled (a missing value is an error), and a send
without a type becomes SMS, or LMS when the *final* text is over 90 CP949
bytes. The caller gets the message, the effective type and any warnings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kmsg_console.i18n_markers import N_

from .encoding import SMS_MAX_BYTES, ByteCount, count_bytes
from .phone import InvalidPhoneNumber, normalize_recipient, normalize_sender
from .types import (
    Failover,
    KakaoOptions,
    MediaImage,
    Message,
    MessageType,
    MessageValidationError,
    MessageWarning,
    ValidationIssue,
    VariableValue,
)
from .validation import validate_message
from .variables import MissingVariablesError, placeholder_names, render_template

_INTERPOLATED_TYPES = (MessageType.SMS, MessageType.LMS, MessageType.MMS, MessageType.FRIENDTALK)


@dataclass(frozen=True)
class PreparedMessage:
    """A message ready for routing, with what the edge decided about it."""

    message: Message
    warnings: tuple[MessageWarning, ...] = ()
    byte_count: ByteCount | None = None

    @property
    def type(self) -> MessageType:
        """The effective type (after the automatic SMS → LMS upgrade)."""
        return self.message.type


def prepare_message(
    *,
    to: str,
    text: str | None = None,
    type: MessageType | str | None = None,  # noqa: A002 - mirrors K-Message's field name
    from_: str | None = None,
    subject: str | None = None,
    template_id: str | None = None,
    template_content: str | None = None,
    variables: Mapping[str, VariableValue] | None = None,
    kakao: KakaoOptions | None = None,
    failover: Failover | None = None,
    image: MediaImage | None = None,
    scheduled_at: datetime | None = None,
    provider_id: str | None = None,
    message_id: str | None = None,
    auto_lms_bytes: int = SMS_MAX_BYTES,
) -> PreparedMessage:
    """Normalize, fill and validate one message.

    :param type: omit it to let the content decide: MMS with an image, else
        SMS, or LMS when the filled-in text is over ``auto_lms_bytes``.
    :param auto_lms_bytes: SMS → LMS threshold, applied to the text after
        substitution, only when ``type`` is omitted.
    :raises MessageValidationError: listing every problem found.
    """
    issues: list[ValidationIssue] = []
    warnings: list[MessageWarning] = []
    values: Mapping[str, VariableValue] = dict(variables or {})

    to_digits = _normalize(to, normalize_recipient, "to", issues)
    from_digits = _normalize(from_, normalize_sender, "from", issues) if from_ else None
    explicit = _coerce_type(type, issues)

    body = text
    if body is not None and (explicit is None or explicit in _INTERPOLATED_TYPES):
        body = _fill(body, values, "text", issues)
    if failover is not None and failover.fallback_content:
        content = _fill(failover.fallback_content, values, "failover.fallback_content", issues)
        failover = Failover(
            failover.enabled, failover.fallback_channel, content, failover.fallback_title
        )

    byte_count = count_bytes(body) if body is not None else None
    effective = explicit
    if effective is None and image is not None:
        effective = MessageType.MMS  # an image only travels as MMS
    if effective is None:
        effective = MessageType.SMS
        if byte_count is not None and byte_count.bytes > auto_lms_bytes:
            effective = MessageType.LMS
            warnings.append(
                MessageWarning(
                    "AUTO_LMS_UPGRADE",
                    N_(
                        "The text is %(bytes)d bytes, over the %(limit)d-byte SMS limit, "
                        "so it is sent as LMS."
                    ),
                    {"bytes": byte_count.bytes, "limit": auto_lms_bytes},
                )
            )
        elif subject:
            warnings.append(
                MessageWarning(
                    "SUBJECT_IGNORED", N_("An SMS has no subject; the subject is ignored.")
                )
            )
            subject = None
    if (
        byte_count is not None
        and byte_count.unencodable_chars
        and effective is not None
        and effective.is_text
    ):
        warnings.append(
            MessageWarning(
                "UNENCODABLE_CHARACTERS",
                N_("Some characters cannot be sent by SMS/LMS and may arrive as '?'."),
                {"chars": list(byte_count.unencodable_chars)},
            )
        )
    if failover is not None and failover.enabled and effective is not MessageType.ALIMTALK:
        warnings.append(
            MessageWarning(
                "FAILOVER_IGNORED", N_("Fallback applies to AlimTalk only; it is ignored.")
            )
        )
        failover = None

    if issues or to_digits is None:
        raise MessageValidationError(issues)
    message = Message(
        type=effective,
        to=to_digits,
        text=body,
        from_=from_digits,
        subject=subject,
        template_id=template_id,
        template_content=template_content,
        variables=values,
        kakao=kakao or KakaoOptions(),
        failover=failover,
        image=image,
        scheduled_at=scheduled_at,
        provider_id=provider_id,
        **({"message_id": message_id} if message_id else {}),
    )
    issues.extend(validate_message(message))
    if issues:
        raise MessageValidationError(issues)
    return PreparedMessage(message, tuple(warnings), byte_count)


def _normalize(
    raw: str | None, normalize: Any, field_name: str, issues: list[ValidationIssue]
) -> str | None:
    try:
        return normalize(raw or "")
    except InvalidPhoneNumber as exc:
        issues.append(ValidationIssue(field_name, "INVALID_PHONE_NUMBER", exc.reason, exc.params))
        return None


def _coerce_type(
    value: MessageType | str | None, issues: list[ValidationIssue]
) -> MessageType | None:
    if value is None or value == "":
        return None
    try:
        return MessageType(str(value).upper())
    except ValueError:
        issues.append(
            ValidationIssue(
                "type",
                "UNSUPPORTED_TYPE",
                N_("Unsupported message type %(type)s."),
                {"type": str(value)},
            )
        )
        return None


def _fill(
    text: str, values: Mapping[str, VariableValue], field_name: str, issues: list[ValidationIssue]
) -> str:
    """Fill placeholders, recording (not raising) a missing variable."""
    if not placeholder_names(text):
        return text
    try:
        return render_template(text, values)
    except MissingVariablesError as exc:
        issues.append(
            ValidationIssue(
                field_name, "MISSING_VARIABLE", exc.reason, {"names": ", ".join(exc.names)}
            )
        )
        return text
