"""Rules of the manual send console: the live counter, form ↔ send request mapping, outcomes.

Sending itself is :mod:`kmsg_console.sending`; this module only turns the form into
a :class:`~kmsg_console.send_logs.sending.SendRequest` and explains the answers to a person.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from kmsg_console import sending
from kmsg_console.advertising import services as ad_settings
from kmsg_console.audit.services import record_audit
from kmsg_console.extensions import db
from kmsg_console.i18n_markers import N_
from kmsg_console.kakao_channels import services as profile_services
from kmsg_console.kakao_channels import usage as profile_usage
from kmsg_console.kakao_channels.models import configured_key
from kmsg_console.messaging import advertising
from kmsg_console.messaging.encoding import (
    LMS_MAX_BYTES,
    SMS_MAX_BYTES,
    SUBJECT_MAX_BYTES,
    count_bytes,
)
from kmsg_console.messaging.errors import ErrorCode
from kmsg_console.messaging.rule_codes import RuleCode, is_rule_code
from kmsg_console.messaging.types import MessageType, MessageValidationError
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.registry import ADAPTERS
from kmsg_console.providers.models import Provider
from kmsg_console.send_logs.explanations import AD_PART_TEXTS, error_label, rule_explanation
from kmsg_console.sending import rules
from kmsg_console.sending.models import MessageLog, MessageStatus

logger = logging.getLogger(__name__)

#: Types the compose form offers. AlimTalk sends an approved template (``template_code``,
#: from the template registry) with its variables through a Kakao sender profile.
OFFERED_TYPES: tuple[MessageType, ...] = (MessageType.SMS, MessageType.LMS, MessageType.ALIMTALK)

#: Pipeline issue field -> compose form field. Anything else is shown above the form.
_FORM_FIELDS = {
    "to": "to",
    "from": "sender",
    "text": "text",
    "subject": "subject",
    "type": "type",
    "template_code": "template_code",
    "variables": "variables",
    "provider": "provider",
    "kakao.profile_id": "kakao_profile",
    "ad": "ad",
}
#: Provider settings that hold the sender number used when a message names none.
_SENDER_SETTINGS = ("default_from", "sender_number", "sender")


# -- form options ---------------------------------------------------------------------------


def type_options() -> list[tuple[str, str]]:
    """``(value, label)`` pairs for the type select; empty value = decided by length."""
    return [("", _("Automatic (SMS, or LMS above %(limit)d bytes)", limit=SMS_MAX_BYTES))] + [
        (kind.value, kind.value) for kind in OFFERED_TYPES
    ]


def provider_options() -> list[tuple[str, str]]:
    """Enabled providers that send at least one offered type, after "use the routing table"."""
    options = [("", _("Automatic (routing table and failover)"))]
    for provider in provider_services.enabled_providers():
        kinds = [k.value for k in OFFERED_TYPES if k in _supported(provider)]
        if kinds:
            label = f"{provider.name} ({provider.code}) · {', '.join(kinds)}"
            options.append((provider.code, label))
    return options


def template_options() -> list[tuple[str, str]]:
    """Approved AlimTalk templates: ``(code, "name (provider)")`` after "choose one"."""
    from kmsg_console.message_templates.models import MessageTemplate, ReviewStatus, TemplateKind

    rows = db.session.scalars(
        sa.select(MessageTemplate)
        .where(
            MessageTemplate.kind == TemplateKind.ALIMTALK.value,
            MessageTemplate.status == ReviewStatus.APPROVED.value,
            MessageTemplate.vendor_code.is_not(None),
        )
        .order_by(MessageTemplate.name, MessageTemplate.id)
    )
    options = [("", _("Choose a template (AlimTalk only)"))]
    seen = set()
    for row in rows:
        if row.vendor_code not in seen:  # the send engine looks a template up by code
            seen.add(row.vendor_code)
            provider = row.provider.code if row.provider else "-"
            options.append((row.vendor_code, f"{row.name} ({provider} · {row.vendor_code})"))
    return options


def kakao_profiles(provider_code: str | None) -> list[Any]:
    """The registered sender profiles the form offers for the chosen provider."""
    provider = provider_services.get_by_code(provider_code) if provider_code else None
    return profile_services.choices_for(provider)


def kakao_profile_problem(provider_code: str | None, key: str) -> tuple[str, dict] | None:
    """Why ``key`` cannot be picked: it belongs to a chosen provider and must be registered."""
    provider = provider_services.get_by_code(provider_code) if provider_code else None
    if provider is None:
        return _PICK_PROVIDER, {}
    return profile_services.form_problem(provider, key)


_PROFILE_UNUSABLE = N_(
    "Kakao sends nothing from this sender profile (blocked, dormant or deleted): choose another."
)
_PICK_PROVIDER = N_("A sender profile belongs to one provider: choose the provider too.")


def _supported(provider: Provider) -> frozenset[MessageType]:
    adapter = ADAPTERS.get(provider.vendor)
    return adapter.supported_types if adapter else frozenset()


# -- live byte counter ----------------------------------------------------------------------


@dataclass(frozen=True)
class Counter:
    """What the counter under the text box shows."""

    bytes: int
    limit: int
    type: MessageType
    automatic: bool
    unencodable: tuple[str, ...] = ()
    subject_bytes: int | None = None
    subject_limit: int = SUBJECT_MAX_BYTES
    sms_limit: int = SMS_MAX_BYTES
    lms_limit: int = LMS_MAX_BYTES

    @property
    def over(self) -> bool:
        return self.bytes > self.limit

    @property
    def upgraded(self) -> bool:
        """Sent as LMS only because the text is over the SMS limit."""
        return self.automatic and self.type is MessageType.LMS

    @property
    def subject_over(self) -> bool:
        return self.subject_bytes is not None and self.subject_bytes > self.subject_limit

    @property
    def subject_ignored(self) -> bool:
        return self.subject_bytes is not None and self.type is MessageType.SMS


def requested_type(value: str | None) -> MessageType | None:
    """The type the operator chose, or None for "automatic" (and for anything not offered)."""
    try:
        kind = MessageType((value or "").upper())
    except ValueError:
        return None
    return kind if kind in OFFERED_TYPES else None


def count(text: str | None, subject: str | None, type_value: str | None) -> Counter:
    """Count ``text`` and ``subject`` in CP949 bytes and decide SMS or LMS as the engine will."""
    counted = count_bytes(text or "")
    chosen = requested_type(type_value)
    kind = chosen or (MessageType.SMS if counted.bytes <= SMS_MAX_BYTES else MessageType.LMS)
    limit = SMS_MAX_BYTES if kind is MessageType.SMS else LMS_MAX_BYTES
    subject_bytes = count_bytes(subject).bytes if subject else None
    return Counter(
        counted.bytes,
        limit,
        kind,
        automatic=chosen is None,
        unencodable=counted.unencodable_chars,
        subject_bytes=subject_bytes,
    )


# -- form -> send request--------------------------------------------------------------------


def send_request(form: Any) -> sending.SendRequest:
    """The send request for the compose form's data."""
    kind = requested_type(form.type.data)
    if kind is MessageType.ALIMTALK:
        profile = form.kakao_profile.data or None
        return sending.SendRequest(
            to=form.to.data or "",
            type=kind.value,
            from_=form.sender.data or None,
            provider=form.provider.data or None,
            template_code=form.template_code.data or None,
            variables=form.variable_values(),
            kakao={"profile_id": profile} if profile else None,
            ad=bool(form.ad.data),  # refused: AlimTalk never carries advertising
        )
    return sending.SendRequest(
        to=form.to.data or "",
        text=form.text.data,
        type=kind.value if kind else None,
        from_=form.sender.data or None,
        # An explicit SMS carries no subject; "automatic" drops it itself, with a warning.
        subject=None if kind is MessageType.SMS else (form.subject.data or None),
        provider=form.provider.data or None,
        ad=bool(form.ad.data),
    )


def apply_refusal(form: Any, exc: sending.SendRefused) -> None:
    """Put the reasons of a refused preview or send on the form's fields, translated."""
    cause = exc.__cause__
    if isinstance(cause, MessageValidationError):
        for issue in cause.issues:
            text = _(issue.message) % dict(issue.params) if issue.params else _(issue.message)
            _add_error(form, issue.field, text)
    elif exc.code == profile_usage.ERROR_CODE:
        _add_error(form, profile_usage.FIELD, _(_PROFILE_UNUSABLE))
    elif is_rule_code(exc.code):
        field = exc.issues[0]["field"] if exc.issues else None
        _add_error(form, field, rule_refusal_text(exc, form))
    elif exc.code == "no_provider" and form.provider.data:
        _add_error(form, "provider", _("This provider cannot send this type of message."))
    elif exc.code == "no_provider":
        _add_error(
            form,
            None,
            _(
                "No enabled provider can send this type of message. "
                "An admin can set one up under Providers."
            ),
        )
    else:
        _add_error(form, None, _("The message cannot be sent: %(reason)s", reason=exc.message))


def rule_refusal_text(exc: sending.SendRefused, form: Any) -> str:
    """A sending rule's refusal in the operator's words (the API's message is English)."""
    code = exc.code
    if code == RuleCode.SENDER_NOT_REGISTERED and exc.issues:
        return _sender_refusal_text(exc.issues[0])
    if code == RuleCode.AD_RULES:
        missing = advertising.check_text(form.text.data).missing
        if missing:
            parts = ", ".join(_(AD_PART_TEXTS[part]) for part in missing)
            return _("Advertising must carry %(parts)s.", parts=parts)
    if code == RuleCode.AD_QUIET_HOURS and (panel := ad_panel(form)) is not None:
        return _(
            "Advertising is not sent %(quiet)s KST; send it from %(next)s KST on.",
            quiet=panel.hours.quiet,
            next=f"{panel.next_allowed:%Y-%m-%d %H:%M}",
        )
    if code == RuleCode.RECIPIENT_OPTED_OUT:
        return _("This number opted out of advertising; the message was not sent.")
    if code == RuleCode.DUPLICATE_MESSAGE:
        return _(
            "This number got the same text within the duplicate-send window, so it was "
            "not sent again. Change the text, or wait until the window has passed; the "
            "send log shows the earlier message."
        )
    rule = rule_explanation(code)
    return f"{_(rule.label)}: {_(rule.fix)}" if rule else code


@dataclass(frozen=True)
class AdPanel:
    """What the send form shows while "Advertising" is on."""

    hours: advertising.QuietHours
    now: datetime
    quiet_now: bool
    next_allowed: datetime
    missing: tuple[str, ...]
    identity: ad_settings.AdIdentity | None


def ad_panel(form: Any) -> AdPanel | None:
    """The allowed hours (and whether now is inside the quiet ones), the text's missing parts.

    None while "Advertising" is off (the panel is empty then).
    """
    if not form.ad.data:
        return None
    hours = advertising.quiet_hours(requested_type(form.type.data) or MessageType.SMS)
    now = rules.clock().astimezone(advertising.KST)
    missing = advertising.check_text(form.text.data).missing
    return AdPanel(
        hours=hours,
        now=now,
        quiet_now=hours.contains(now),
        next_allowed=hours.next_allowed(now),
        missing=tuple(_(AD_PART_TEXTS[part]) for part in missing),
        identity=ad_settings.current(),
    )


_SENDER_NOT_REGISTERED = N_(
    "%(number)s is not a verified sender number of %(providers)s. An admin registers "
    "and verifies it under Sender numbers."
)
_NO_SENDER = N_("No sender number: the message names none and %(providers)s has no default sender.")


def _sender_refusal_text(issue: dict[str, Any]) -> str:
    """``sender_not_registered`` with the number and providers its issue names."""
    params = issue.get("params") or {}
    providers = ", ".join(params.get("providers") or [])
    if not params.get("number"):
        return _(_NO_SENDER, providers=providers)
    return _(_SENDER_NOT_REGISTERED, number=params["number"], providers=providers)


def _add_error(form: Any, issue_field: str | None, text: str) -> None:
    name = _FORM_FIELDS.get(issue_field or "")
    if name and name in form:
        form[name].errors = [*form[name].errors, text]
    else:
        form.form_errors.append(text)


# -- preview --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteStep:
    code: str
    name: str
    primary: bool


@dataclass(frozen=True)
class PreviewView:
    """Everything the preview page shows besides the form's own values."""

    recipient: str
    type: MessageType
    automatic: bool
    bytes: int
    limit: int
    subject: str | None
    text: str | None
    sender: str | None
    sender_is_default: bool
    chain: list[RouteStep]
    explicit_provider: bool
    warnings: list[str]
    unencodable: tuple[str, ...]
    #: AlimTalk: the template code and the sender profile it goes out through.
    template_code: str | None = None
    kakao_profile: str | None = None


def describe(result: sending.Preview, form: Any) -> PreviewView:
    """The preview page's facts: final text, effective type, bytes, route, warnings."""
    prepared = result.prepared
    message = prepared.message
    providers = {p.code: p for p in provider_services.enabled_providers()}
    chain = [
        RouteStep(code, providers[code].name if code in providers else code, index == 0)
        for index, code in enumerate(result.provider_chain)
    ]
    sender, is_default = message.from_, False
    if sender is None and chain and chain[0].code in providers:
        sender, is_default = default_sender(providers[chain[0].code]), True
    counted = prepared.byte_count
    warnings = [_translate_warning(w.message, w.details) for w in prepared.warnings]
    if requested_type(form.type.data) is MessageType.SMS and form.subject.data:
        warnings.append(_("An SMS has no subject; the subject is ignored."))
    return PreviewView(
        recipient=display_phone(message.to),
        type=message.type,
        automatic=requested_type(form.type.data) is None,
        bytes=counted.bytes if counted else 0,
        limit=SMS_MAX_BYTES if message.type is MessageType.SMS else LMS_MAX_BYTES,
        subject=message.subject,
        text=result.final_text,
        sender=display_phone(sender) if sender else None,
        sender_is_default=is_default,
        chain=chain,
        explicit_provider=bool(message.provider_id),
        warnings=warnings,
        unencodable=counted.unencodable_chars if counted else (),
        template_code=message.template_id if message.type.is_kakao else None,
        kakao_profile=_profile_shown(message, chain, providers) if message.type.is_kakao else None,
    )


def _profile_shown(message: Any, chain: list[RouteStep], providers: dict) -> str | None:
    """The profile the message names, else the first provider's configured channel."""
    if message.kakao.profile_id:
        return message.kakao.profile_id
    first = providers.get(chain[0].code) if chain else None
    return configured_key(first.vendor, first.settings) if first is not None else None


def _translate_warning(template: str, details: Any) -> str:
    try:
        return _(template) % dict(details or {})
    except (KeyError, TypeError, ValueError):
        return _(template)


def default_sender(provider: Provider) -> str | None:
    """The sender number a provider uses when a message names none (not a secret)."""
    for key in _SENDER_SETTINGS:
        value = (provider.settings or {}).get(key)
        if value:
            return str(value)
    return None


def display_phone(digits: str) -> str:
    """Domestic digits with hyphens, for the operator who typed them (never logged)."""
    if len(digits) == 11:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if len(digits) == 10 and digits.startswith("02"):
        return f"02-{digits[2:6]}-{digits[6:]}"
    if len(digits) == 10:
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    if len(digits) == 9 and digits.startswith("02"):
        return f"02-{digits[2:5]}-{digits[5:]}"
    if len(digits) == 8:
        return f"{digits[:4]}-{digits[4:]}"
    return digits


# -- after the send -------------------------------------------------------------------------

_DELIVERED_OR_ON_ITS_WAY = (MessageStatus.SENT, MessageStatus.PENDING, MessageStatus.DELIVERED)


def record_send(log: MessageLog) -> None:
    """Audit a console send: masked recipient and provider only, never the number or text."""
    record_audit(
        "message.send",
        target_type="message",
        target_id=log.public_id,
        outcome="failure" if log.status == MessageStatus.FAILED.value else "success",
        details={
            "type": log.type,
            "to": log.to_masked,
            "provider": log.provider_code,
            "status": log.status,
        },
    )
    logger.info(
        "console message %s sent by operator %s: %s via %s",
        log.public_id,
        log.operator_id,
        log.status,
        log.provider_code,
    )


def outcome_flash(log: MessageLog) -> tuple[str, str]:
    """The flash message and category that state how the send ended."""
    status = log.status_enum
    provider = log.provider_code or "-"
    if status in _DELIVERED_OR_ON_ITS_WAY:
        return _("Message sent through %(provider)s.", provider=provider), "success"
    # The error by its name; its code is on the message's page the operator lands on.
    error = error_label(log.error_code or ErrorCode.UNKNOWN_ERROR.value)
    if status is MessageStatus.FAILED:
        return _(
            "Sending failed through %(provider)s: %(error)s.", provider=provider, error=error
        ), "error"
    text = _(
        "Outcome unknown: %(provider)s did not confirm the message (%(error)s). "
        "Do not send it again; status checks will settle it.",
        provider=provider,
        error=error,
    )
    return text, "warning"
