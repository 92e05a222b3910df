"""Per-type message rules (K-Message §5 plus the Korean carriers' byte limits)."""

from __future__ import annotations

from typing import Any

from kmsg_console.i18n_markers import N_

from .encoding import LMS_MAX_BYTES, SMS_MAX_BYTES, SUBJECT_MAX_BYTES, count_bytes
from .phone import InvalidPhoneNumber, normalize_recipient, normalize_sender
from .types import Failover, FallbackChannel, Message, MessageType, ValidationIssue
from .variables import placeholder_names, render_template

#: FriendTalk body limit, in characters (Kakao counts characters, not bytes).
FRIENDTALK_MAX_CHARS = 1000
#: AlimTalk rendered body limit, in characters.
ALIMTALK_MAX_CHARS = 1000


def validate_message(message: Message) -> list[ValidationIssue]:
    """Check ``message`` against the per-type rules; return every issue found.

    SMS/LMS/MMS/FRIENDTALK need a text; SMS ≤ 90 bytes; LMS/MMS body ≤ 2000
    bytes and subject ≤ 40 bytes; MMS needs an image; ALIMTALK needs a
    template code (and, when the approved body is known, a value for every
    placeholder and a rendered text ≤ 1000 characters); FRIENDTALK ≤ 1000
    characters; a requested fallback SMS/LMS must fit its own limit;
    ``scheduled_at`` must carry a time zone; phone numbers must be normalized.
    """
    issues: list[ValidationIssue] = []

    def add(field_name: str, code: str, text: str, **params: Any) -> None:
        issues.append(ValidationIssue(field_name, code, text, params))

    _check_phone(message.to, "to", normalize_recipient, issues)
    if message.from_ is not None:
        _check_phone(message.from_, "from", normalize_sender, issues)

    kind = message.type
    text = message.text or ""
    if (kind.is_text or kind is MessageType.FRIENDTALK) and not text.strip():
        add("text", "TEXT_REQUIRED", N_("A %(type)s message needs a text."), type=kind.value)
    if kind is MessageType.SMS and text:
        size = count_bytes(text).bytes
        if size > SMS_MAX_BYTES:
            add(
                "text",
                "SMS_TOO_LONG",
                N_("SMS text is %(bytes)d bytes; the limit is %(limit)d. Send it as LMS."),
                bytes=size,
                limit=SMS_MAX_BYTES,
            )
    if kind in (MessageType.LMS, MessageType.MMS):
        size = count_bytes(text).bytes
        if size > LMS_MAX_BYTES:
            add(
                "text",
                "TEXT_TOO_LONG",
                N_("%(type)s text is %(bytes)d bytes; the limit is %(limit)d."),
                type=kind.value,
                bytes=size,
                limit=LMS_MAX_BYTES,
            )
        if message.subject:
            size = count_bytes(message.subject).bytes
            if size > SUBJECT_MAX_BYTES:
                add(
                    "subject",
                    "SUBJECT_TOO_LONG",
                    N_("Subject is %(bytes)d bytes; the limit is %(limit)d."),
                    bytes=size,
                    limit=SUBJECT_MAX_BYTES,
                )
    if kind is MessageType.MMS and message.image is None:
        add("image", "IMAGE_REQUIRED", N_("An MMS needs an image."))
    if kind is MessageType.FRIENDTALK and len(text) > FRIENDTALK_MAX_CHARS:
        add(
            "text",
            "TEXT_TOO_LONG",
            N_("FriendTalk text is %(chars)d characters; the limit is %(limit)d."),
            chars=len(text),
            limit=FRIENDTALK_MAX_CHARS,
        )
    if kind is MessageType.ALIMTALK:
        issues.extend(_validate_alimtalk(message))
    if message.scheduled_at is not None and message.scheduled_at.utcoffset() is None:
        add("scheduled_at", "NAIVE_DATETIME", N_("Scheduled time must include a time zone."))
    return issues


def _check_phone(
    value: str, field_name: str, normalize: Any, issues: list[ValidationIssue]
) -> None:
    """Refuse invalid numbers and numbers not yet in domestic-digit form."""
    try:
        if normalize(value) != value:
            issues.append(
                ValidationIssue(
                    field_name,
                    "PHONE_NOT_NORMALIZED",
                    N_("Phone numbers must be domestic digits such as 01012345678."),
                )
            )
    except InvalidPhoneNumber as exc:
        issues.append(ValidationIssue(field_name, "INVALID_PHONE_NUMBER", exc.reason, exc.params))


def _validate_alimtalk(message: Message) -> list[ValidationIssue]:
    issues: list[ValidationIssue] = []
    if not (message.template_id or "").strip():
        issues.append(
            ValidationIssue(
                "template_id",
                "TEMPLATE_REQUIRED",
                N_("An AlimTalk needs an approved template code."),
            )
        )
    if message.template_content is not None:
        missing = [
            n for n in placeholder_names(message.template_content) if n not in message.variables
        ]
        if missing:
            issues.append(
                ValidationIssue(
                    "variables",
                    "MISSING_VARIABLE",
                    N_("No value for template variable(s): %(names)s."),
                    {"names": ", ".join(dict.fromkeys(missing))},
                )
            )
        else:
            rendered = render_template(message.template_content, message.variables)
            if len(rendered) > ALIMTALK_MAX_CHARS:
                issues.append(
                    ValidationIssue(
                        "variables",
                        "TEXT_TOO_LONG",
                        N_("AlimTalk text is %(chars)d characters; the limit is %(limit)d."),
                        {"chars": len(rendered), "limit": ALIMTALK_MAX_CHARS},
                    )
                )
    if message.failover and message.failover.enabled:
        issues.extend(_validate_fallback(message.failover))
    return issues


def _validate_fallback(failover: Failover) -> list[ValidationIssue]:
    """Byte limits of the SMS/LMS that replaces an undeliverable AlimTalk."""
    issues: list[ValidationIssue] = []
    limit = SMS_MAX_BYTES if failover.fallback_channel is FallbackChannel.SMS else LMS_MAX_BYTES
    if failover.fallback_content:
        size = count_bytes(failover.fallback_content).bytes
        if size > limit:
            issues.append(
                ValidationIssue(
                    "failover.fallback_content",
                    "TEXT_TOO_LONG",
                    N_("Fallback %(channel)s text is %(bytes)d bytes; the limit is %(limit)d."),
                    {
                        "channel": failover.fallback_channel.value.upper(),
                        "bytes": size,
                        "limit": limit,
                    },
                )
            )
    if failover.fallback_title:
        size = count_bytes(failover.fallback_title).bytes
        if size > SUBJECT_MAX_BYTES:
            issues.append(
                ValidationIssue(
                    "failover.fallback_title",
                    "SUBJECT_TOO_LONG",
                    N_("Fallback title is %(bytes)d bytes; the limit is %(limit)d."),
                    {"bytes": size, "limit": SUBJECT_MAX_BYTES},
                )
            )
    return issues
