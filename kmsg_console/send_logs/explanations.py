"""Operator-facing words for send-log values: normalized error codes, attempt outcomes, sources.

The vendor-code tables (meaning and suggested fix per vendor code) live in
:mod:`kmsg_console.messaging.vendor_codes`; this module adds what an operator needs when the
vendor code is unknown or absent, and labels for the log's own enumerations. Texts are
``N_()``-marked and translated where they are shown.
"""

from __future__ import annotations

from flask_babel import gettext

from kmsg_console.i18n_markers import N_
from kmsg_console.messaging.errors import ErrorCode as E

_CRYPTO = N_(
    "A local encryption problem stopped the send before any provider was called; "
    "check the console's encryption key configuration."
)

#: What each normalized code means for the message and what to do about it.
ERROR_HELP: dict[E, str] = {
    E.INVALID_REQUEST: N_(
        "The provider refused the request as invalid (recipient, sender number, text or "
        "template). Sending it again unchanged fails again."
    ),
    E.AUTHENTICATION_FAILED: N_(
        "The provider rejected the credentials or this server's IP address. "
        "Check the provider settings, then retry."
    ),
    E.INSUFFICIENT_BALANCE: N_(
        "The provider account has run out of balance. Recharge it, then retry."
    ),
    E.TEMPLATE_NOT_FOUND: N_(
        "The provider does not know this AlimTalk template, or it is not approved for this channel."
    ),
    E.RATE_LIMIT_EXCEEDED: N_(
        "The provider is throttling requests. Retry later or lower the send rate."
    ),
    E.NETWORK_ERROR: N_(
        "The provider could not be reached, so nothing was sent. Retrying is safe."
    ),
    E.NETWORK_TIMEOUT: N_(
        "No answer came in time. If the request had already left, the message may still arrive, "
        "so it is never resent automatically; status polling settles the outcome."
    ),
    E.NETWORK_SERVICE_UNAVAILABLE: N_("The provider said it is unavailable. Retry later."),
    E.REQUEST_ABORTED: N_("The request was aborted before the provider answered."),
    E.PROVIDER_ERROR: N_(
        "The provider reported a failure on its side. Retry later; if it persists, "
        "contact the provider with the vendor code below."
    ),
    E.MESSAGE_SEND_FAILED: N_(
        "The provider took the message but the carrier or Kakao could not deliver it."
    ),
    E.CRYPTO_CONFIG_ERROR: _CRYPTO,
    E.CRYPTO_ENCRYPT_FAILED: _CRYPTO,
    E.CRYPTO_DECRYPT_FAILED: _CRYPTO,
    E.CRYPTO_HASH_FAILED: _CRYPTO,
    E.CRYPTO_POLICY_VIOLATION: _CRYPTO,
    E.UNKNOWN_ERROR: N_(
        "The console could not classify this failure; read the vendor text and the raw answer."
    ),
}

#: An unknown outcome without the vendor's message id: no status check can settle it, so the
#: operator has to (every code's own help would promise the status checks).
UNKNOWN_WITHOUT_ID = N_(
    "The provider did not confirm this message and gave it no message id, so its status "
    "cannot be looked up: the outcome stays unknown, and the console never sends it again by "
    "itself. It may still have arrived. Ask the recipient or look it up in the provider's own "
    "console; if it did not arrive, send it again as a new message."
)

#: Each normalized code by name, for filters and sentences (the code itself stays beside it
#: where an operator compares it with an API answer).
ERROR_LABELS: dict[E, str] = {
    E.INVALID_REQUEST: N_("Invalid request"),
    E.AUTHENTICATION_FAILED: N_("Authentication failed"),
    E.INSUFFICIENT_BALANCE: N_("Insufficient balance"),
    E.TEMPLATE_NOT_FOUND: N_("Template not found"),
    E.RATE_LIMIT_EXCEEDED: N_("Rate limit exceeded"),
    E.NETWORK_ERROR: N_("Network error"),
    E.NETWORK_TIMEOUT: N_("No answer in time"),
    E.NETWORK_SERVICE_UNAVAILABLE: N_("Provider unavailable"),
    E.REQUEST_ABORTED: N_("Request aborted"),
    E.PROVIDER_ERROR: N_("Provider error"),
    E.MESSAGE_SEND_FAILED: N_("Not delivered"),
    E.CRYPTO_CONFIG_ERROR: N_("Encryption setup error"),
    E.CRYPTO_ENCRYPT_FAILED: N_("Encryption failed"),
    E.CRYPTO_DECRYPT_FAILED: N_("Decryption failed"),
    E.CRYPTO_HASH_FAILED: N_("Hashing failed"),
    E.CRYPTO_POLICY_VIOLATION: N_("Encryption policy violation"),
    E.UNKNOWN_ERROR: N_("Unknown error"),
}

#: ``MessageAttempt.outcome``
OUTCOME_LABELS = {
    "in_flight": N_("In flight"),
    "accepted": N_("Accepted"),
    "failed": N_("Refused"),
    "unknown": N_("Outcome unknown"),
}
OUTCOME_BADGES = {"in_flight": "warn", "accepted": "ok", "failed": "bad", "unknown": "warn"}

#: ``MessageAttempt.trigger``
TRIGGER_LABELS = {"initial": N_("First try"), "failover": N_("Failover"), "retry": N_("Retry")}

#: ``MessageLog.source``
SOURCE_LABELS = {"api": N_("API"), "console": N_("Console"), "otp": N_("OTP")}


def error_help(code: str | None) -> str | None:
    """The explanation of a normalized error code (untranslated), or None."""
    try:
        return ERROR_HELP[E(code)] if code else None
    except ValueError:
        return None


def error_label(code: str | None) -> str:
    """A normalized error code by its translated name (an unknown code as it is)."""
    try:
        return gettext(ERROR_LABELS[E(code)]) if code else ""
    except ValueError:
        return code or ""
