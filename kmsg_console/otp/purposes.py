"""Creating and editing verification purposes, and previewing their SMS.

The engine's :func:`~kmsg_console.otp.services.validate_purpose_settings` owns the numeric
ranges; this module adds what only matters when a person edits a purpose (id format and
uniqueness, template variables, the AlimTalk template, the sender number) and audits the
change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from kmsg_console.audit.services import diff, record_audit
from kmsg_console.extensions import db
from kmsg_console.i18n_markers import N_
from kmsg_console.messaging.encoding import SMS_MAX_BYTES, count_bytes
from kmsg_console.messaging.phone import InvalidPhoneNumber, normalize_sender
from kmsg_console.messaging.variables import placeholder_names
from kmsg_console.otp.models import DEFAULT_SMS_TEMPLATE, OtpChannel, VerificationPurpose
from kmsg_console.otp.services import render_sms, validate_purpose_settings

CODE_RE = re.compile(r"^[a-z0-9_]{2,40}$")
#: The variables the engine fills in (see ``services.render_sms``).
TEMPLATE_VARIABLES = ("code", "minutes", "brand")
#: A sample code for previews; cut to the purpose's length. Never a real code.
SAMPLE_DIGITS = "1234567890"

#: Problem code -> message shown under the field.
PROBLEMS = {
    "code_format": N_("Use 2 to 40 lower-case letters, digits or underscores."),
    "code_taken": N_("A purpose with this id already exists."),
    "code_length_range": N_("Between 4 and 10 digits."),
    "lifetime_range": N_("Between 30 and 600 seconds (10 minutes at most)."),
    "max_checks_range": N_("Between 1 and 10 checks."),
    "cooldown_range": N_("Between 0 and 3600 seconds."),
    "template_needs_code": N_("The text must contain #{code}."),
    "unknown_variable": N_("Only #{code}, #{minutes} and #{brand} can be used."),
    "template_code_required": N_("AlimTalk needs the code of an approved template."),
    "invalid_sender": N_("A sender must be a mobile, landline, 070 or 15XX/16XX/18XX number."),
}

_EDITABLE = (
    "name",
    "enabled",
    "code_length",
    "lifetime_seconds",
    "max_checks",
    "resend_cooldown_seconds",
    "channel",
    "alimtalk_template_code",
    "sms_fallback",
    "brand",
    "sender_number",
    "message_template",
)


class PurposeInvalid(Exception):
    """The settings break one or more rules; ``problems`` holds ``(field, problem code)`` pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(", ".join(f"{field}: {code}" for field, code in problems))
        self.problems = problems


def all_purposes() -> list[VerificationPurpose]:
    return list(
        db.session.scalars(sa.select(VerificationPurpose).order_by(VerificationPurpose.code))
    )


def problems_of(settings: Mapping[str, Any], code: str | None = None) -> list[tuple[str, str]]:
    """Every rule ``settings`` break; ``code`` is checked only for a new purpose."""
    problems = []
    if code is not None:
        if not CODE_RE.match(code):
            problems.append(("code", "code_format"))
        elif db.session.scalar(
            sa.select(VerificationPurpose.id).where(VerificationPurpose.code == code)
        ):
            problems.append(("code", "code_taken"))
    template = settings["message_template"] or ""
    problems += validate_purpose_settings(
        settings["code_length"],
        settings["lifetime_seconds"],
        settings["max_checks"],
        settings["resend_cooldown_seconds"],
        template,
    )
    if any(name not in TEMPLATE_VARIABLES for name in placeholder_names(template)):
        problems.append(("message_template", "unknown_variable"))
    if settings["channel"] == OtpChannel.ALIMTALK.value and not settings.get(
        "alimtalk_template_code"
    ):
        problems.append(("alimtalk_template_code", "template_code_required"))
    if settings.get("sender_number"):
        try:
            normalize_sender(settings["sender_number"])
        except InvalidPhoneNumber:
            problems.append(("sender_number", "invalid_sender"))
    return problems


def _snapshot(purpose: VerificationPurpose) -> dict[str, Any]:
    # The audit log redacts any key containing "code", so the keys avoid that word.
    return {
        "purpose": purpose.code,
        "name": purpose.name,
        "enabled": purpose.enabled,
        "digits": purpose.code_length,
        "lifetime_seconds": purpose.lifetime_seconds,
        "max_checks": purpose.max_checks,
        "resend_cooldown_seconds": purpose.resend_cooldown_seconds,
        "channel": purpose.channel,
        "alimtalk_template": purpose.alimtalk_template_code,
        "sms_fallback": purpose.sms_fallback,
        "brand": purpose.brand,
        "sender_number": purpose.sender_number,
        "message_template": purpose.message_template,
    }


def _apply(purpose: VerificationPurpose, settings: Mapping[str, Any]) -> None:
    for name in _EDITABLE:
        setattr(purpose, name, settings[name])
    purpose.brand = purpose.brand or ""
    purpose.alimtalk_template_code = purpose.alimtalk_template_code or None
    purpose.sender_number = (
        normalize_sender(purpose.sender_number) if purpose.sender_number else None
    )


def create_purpose(code: str, settings: Mapping[str, Any]) -> VerificationPurpose:
    """Add a purpose (flushed, audited); raises :class:`PurposeInvalid`."""
    problems = problems_of(settings, code=code)
    if problems:
        raise PurposeInvalid(problems)
    purpose = VerificationPurpose(code=code)
    _apply(purpose, settings)
    db.session.add(purpose)
    db.session.flush()
    record_audit(
        "otp.purpose_create",
        target_type="verification_purpose",
        target_id=purpose.id,
        details={"after": _snapshot(purpose)},
    )
    return purpose


def update_purpose(purpose: VerificationPurpose, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Change a purpose (flushed, audited with the diff); raises :class:`PurposeInvalid`."""
    problems = problems_of(settings)
    if problems:
        raise PurposeInvalid(problems)
    before = _snapshot(purpose)
    _apply(purpose, settings)
    db.session.flush()
    changes = diff(before, _snapshot(purpose))
    record_audit(
        "otp.purpose_update",
        target_type="verification_purpose",
        target_id=purpose.id,
        details={"purpose": purpose.code, "diff": changes},
    )
    return changes


def form_defaults() -> dict[str, Any]:
    """Settings of a new purpose before anything is typed (the engine's defaults)."""
    return {
        "enabled": True,
        "code_length": 6,
        "lifetime_seconds": 180,
        "max_checks": 5,
        "resend_cooldown_seconds": 30,
        "channel": OtpChannel.SMS.value,
        "sms_fallback": True,
        "message_template": DEFAULT_SMS_TEMPLATE,
    }


# -- preview ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmsPreview:
    """The SMS a purpose sends, filled with a sample code, and its size."""

    text: str | None
    bytes: int
    sample: str = ""
    sms_limit: int = SMS_MAX_BYTES
    unencodable: tuple[str, ...] = ()
    problem: str | None = None

    @property
    def is_lms(self) -> bool:
        return self.bytes > self.sms_limit


def preview(
    template: str | None, brand: str | None, lifetime_seconds: int | None, code_length: int | None
) -> SmsPreview:
    """Render ``template`` the way the engine will, with a sample code; never raises."""
    template = template or ""
    if any(name not in TEMPLATE_VARIABLES for name in placeholder_names(template)):
        return SmsPreview(None, 0, problem="unknown_variable")
    length = code_length if isinstance(code_length, int) and 4 <= code_length <= 10 else 6
    lifetime = (
        lifetime_seconds if isinstance(lifetime_seconds, int) and lifetime_seconds > 0 else 180
    )
    sample = VerificationPurpose(
        message_template=template, brand=brand or "", lifetime_seconds=lifetime
    )
    text = render_sms(sample, SAMPLE_DIGITS[:length])
    counted = count_bytes(text)
    problem = None if "#{code}" in template else "template_needs_code"
    return SmsPreview(
        text,
        counted.bytes,
        SAMPLE_DIGITS[:length],
        unencodable=counted.unencodable_chars,
        problem=problem,
    )
