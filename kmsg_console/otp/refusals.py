"""Explaining the OTP engine's refusals in the test console, and auditing them.

The engine (:mod:`kmsg_console.otp.services`) audits what it did; this module audits what an
operator asked for and did not get, so a refused test send still shows in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from kmsg_console.audit.services import record_audit
from kmsg_console.messaging.phone import InvalidPhoneNumber, mask_phone
from kmsg_console.otp.services import OtpRefused

#: Refusals that belong under a form field rather than above the form.
FIELD_OF = {"invalid_phone": "phone", "unknown_purpose": "purpose", "unknown_provider": "provider"}
#: The same for the check form.
CHECK_FIELD_OF = {"invalid_code": "code"}


@dataclass(frozen=True)
class Refusal:
    """A refused start or check, as the console shows it."""

    status: int
    code: str
    message: str
    retry_after: int | None = None
    verification_id: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


def wait_text(seconds: int) -> str:
    if seconds < 120:
        return _("%(n)d seconds", n=seconds)
    return _("%(n)d minutes", n=(seconds + 59) // 60)


def _message(exc: OtpRefused) -> str:
    wait = wait_text(exc.retry_after or 0)
    details = exc.details if isinstance(exc.details, dict) else {}
    cause = exc.__cause__
    if exc.code == "invalid_phone" and isinstance(cause, InvalidPhoneNumber):
        return _(cause.reason, **cause.params)
    messages = {
        "invalid_phone": _("This is not a Korean mobile number."),
        "unknown_purpose": _("This purpose does not exist or is disabled."),
        "unknown_provider": _("Only an enabled sandbox provider can be chosen for a test."),
        "resend_cooldown": _(
            "This number got a code for this purpose moments ago (resend cooldown). "
            "Nothing was sent. Try again in %(wait)s.",
            wait=wait,
        ),
        "send_failed": _(
            "The code could not be sent (%(reason)s). The verification was canceled.",
            reason=details.get("send_error") or exc.message,
        ),
        "already_approved": _(
            "This verification was already approved. A code is accepted only once; "
            "start a new verification to test again."
        ),
        "not_found": _("No verification with this id."),
        "invalid_code": _(
            "Enter the %(n)d-digit code, digits only. It was not checked; no attempt was used.",
            n=details.get("code_length", 0),
        ),
    }
    if exc.code == "throttled" and exc.status == 429:
        return _(
            "Refused by a throttle policy; nothing was sent. Try again in %(wait)s.", wait=wait
        )
    return messages.get(exc.code, exc.message)


def check_throttled_message(exc: OtpRefused) -> str:
    return _(
        "Too many wrong codes for this number; the code was not checked. Try again in %(wait)s.",
        wait=wait_text(exc.retry_after or 0),
    )


def explain(exc: OtpRefused, *, checking: bool = False) -> Refusal:
    """The console's view of an engine refusal (translated message, status, retry-after)."""
    message = (
        check_throttled_message(exc) if checking and exc.code == "throttled" else _message(exc)
    )
    details = exc.details if isinstance(exc.details, dict) else {}
    return Refusal(exc.status, exc.code, message, exc.retry_after, details.get("verification_id"))


def record_refused_start(refusal: Refusal, *, purpose: str, raw_phone: str) -> None:
    """Audit a test send the engine refused (masked number only)."""
    record_audit(
        "otp.test_start",
        target_type="verification" if refusal.verification_id else None,
        target_id=refusal.verification_id,
        outcome="failure",
        details={
            "purpose": purpose,
            "to": mask_phone(raw_phone),
            "error": refusal.code,
            "http_status": refusal.status,
        },
    )
