"""Operator-facing words for send-log values: error codes, attempt outcomes, sources.

The vendor-code tables (meaning and suggested fix per vendor code) live in
:mod:`kmsg_console.messaging.vendor_codes`; this module adds what an operator needs when the
vendor code is unknown or absent, and labels for the log's own enumerations. A message ends
with one of K-Message's normalized codes (upper case, ``ERROR_LABELS``) or with the code of a
Korean sending rule that refused it before any provider was called (lower case,
``RULE_EXPLANATIONS``: a label, what it means, the fix and the page to make it on). Texts are
``N_()``-marked and translated where they are shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import gettext

from kmsg_console.i18n_markers import N_
from kmsg_console.messaging.advertising import AdPart
from kmsg_console.messaging.errors import ErrorCode as E
from kmsg_console.messaging.rule_codes import RuleCode as R

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
SOURCE_LABELS = {
    "api": N_("API"),
    "console": N_("Console"),
    "otp": N_("OTP"),
    "campaign": N_("Campaign"),
}


@dataclass(frozen=True)
class RuleExplanation:
    """A Korean sending rule's refusal for the operator: its name, what it means, the fix."""

    code: R
    label: str
    meaning: str
    fix: str
    #: The console page where the fix is made (its path) and its name.
    page: str | None = None
    page_label: str | None = None

    @property
    def page_url(self) -> str | None:
        """The URL of ``page`` when this console serves it (a link to nowhere is no help)."""
        if self.page is None:
            return None
        for rule in current_app.url_map.iter_rules():
            if rule.rule == self.page and "GET" in (rule.methods or ()):
                return url_for(rule.endpoint)
        return None


#: The refusals of the Korean sending rules (``kmsg_console.sending.rules``): nothing was sent,
#: no provider was called, and sending the same message again is refused again until the fix.
RULE_EXPLANATIONS: dict[R, RuleExplanation] = {
    R.SENDER_NOT_REGISTERED: RuleExplanation(
        R.SENDER_NOT_REGISTERED,
        N_("Sender number not registered"),
        N_(
            "The sender number (the message's own, or the provider's default) is not a "
            "registered and verified sender number of this provider (발신번호 사전등록제), "
            "so the message was not sent."
        ),
        N_(
            "Register and verify the number under Sender numbers, or send from a number "
            "that is registered for this provider."
        ),
        "/sender-numbers",
        N_("Sender numbers"),
    ),
    R.KAKAO_PROFILE_UNUSABLE: RuleExplanation(
        R.KAKAO_PROFILE_UNUSABLE,
        N_("Kakao sender profile unusable"),
        N_(
            "The Kakao sender profile (발신프로필) of this message is unknown to the provider, "
            "not approved, dormant or blocked, so the message was not sent."
        ),
        N_(
            "Check the profile's status under Kakao sender profiles and send through an "
            "active profile."
        ),
        "/kakao-channels",
        N_("Kakao sender profiles"),
    ),
    R.AD_RULES: RuleExplanation(
        R.AD_RULES,
        N_("Advertising rules not met"),
        N_(
            "An advertising message must begin with (광고), then name the sender, and carry "
            "a free 080 opt-out line (정보통신망법 제50조); AlimTalk may not carry "
            "advertising at all. This one lacked a part, so it was not sent."
        ),
        N_(
            'Add what is missing, e.g. "(광고) 케이샵" at the start and "무료수신거부 '
            '080-123-4567" at the end (the send form\'s "Add label and opt-out line" does it), '
            "or send advertising as FriendTalk or SMS/LMS instead of AlimTalk."
        ),
        "/settings/advertising",
        N_("Advertising settings"),
    ),
    R.AD_QUIET_HOURS: RuleExplanation(
        R.AD_QUIET_HOURS,
        N_("Advertising at night"),
        N_(
            "Advertising may not be sent from 21:00 to 08:00 Korea time (Kakao FriendTalk "
            "from 20:00) without the recipient's separate consent; this one was to go out "
            "inside those hours, so it was not sent."
        ),
        N_(
            "Send it again after 08:00 KST, or schedule it (scheduled_at) between 08:00 and "
            "21:00 KST (20:00 for FriendTalk)."
        ),
    ),
    R.RECIPIENT_OPTED_OUT: RuleExplanation(
        R.RECIPIENT_OPTED_OUT,
        N_("Recipient opted out"),
        N_(
            "The recipient is on the opt-out list (수신거부), for all advertising or for the "
            "080 line this message names, so the advertising was not sent. Transactional "
            "messages still reach them."
        ),
        N_(
            "Leave it: the recipient asked not to get advertising. Remove the number from "
            "Opt-outs only if the recipient asked to receive advertising again."
        ),
        "/opt-outs",
        N_("Opt-outs"),
    ),
    R.DUPLICATE_MESSAGE: RuleExplanation(
        R.DUPLICATE_MESSAGE,
        N_("Duplicate message"),
        N_(
            "The same text went to the same number within the duplicate-send window "
            "(중복 발송 차단), so this copy was not sent."
        ),
        N_(
            "If it is meant to go out again, send it after the window or with a changed text; "
            "an admin sets the window in the duplicate-send setting. API clients that retry "
            "should send an Idempotency-Key."
        ),
    ),
}


#: The parts an advertising text must carry, as the console names them.
AD_PART_TEXTS = {
    AdPart.LABEL: N_("the (광고) label at the beginning"),
    AdPart.SENDER_NAME: N_("the sender name after (광고)"),
    AdPart.OPT_OUT_LINE: N_("a free 080 opt-out line"),
}


def rule_explanation(code: str | None) -> RuleExplanation | None:
    """The explanation of a sending rule's refusal code, or None for any other code."""
    try:
        return RULE_EXPLANATIONS[R(code)] if code else None
    except ValueError:
        return None


def error_help(code: str | None) -> str | None:
    """The explanation of a normalized error code or a rule's code (untranslated), or None."""
    rule = rule_explanation(code)
    if rule is not None:
        return rule.meaning
    try:
        return ERROR_HELP[E(code)] if code else None
    except ValueError:
        return None


def error_label(code: str | None) -> str:
    """A normalized error code or a rule's code by its translated name (others as they are)."""
    rule = rule_explanation(code)
    if rule is not None:
        return gettext(rule.label)
    try:
        return gettext(ERROR_LABELS[E(code)]) if code else ""
    except ValueError:
        return code or ""


def error_code_choices() -> list[tuple[str, str]]:
    """Every error code a message can end with, by its translated name (filters)."""
    return [(c.value, error_label(c.value)) for c in E] + [
        (c.value, error_label(c.value)) for c in R
    ]
