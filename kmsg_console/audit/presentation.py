"""How an audit event reads on the audit log page.

Each feature stores its own ``details`` shape: a ``{"before": ..., "after": ...}`` diff, a
snapshot under ``"after"`` alone, free facts (``{"latency_ms": 42}``) or a diff nested under
``"diff"``. This module turns any of them into lines an operator can read: a translated
field name with the value, or ``before → after`` for a change. Values are shown as they
were stored, so a redacted secret stays redacted; keys without a label keep their key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flask_babel import gettext

from kmsg_console.api_keys.models import Scope
from kmsg_console.audit.services import REDACTED
from kmsg_console.i18n_markers import N_
from kmsg_console.kakao_channels.models import ProfileStatus
from kmsg_console.message_templates.models import ReviewStatus
from kmsg_console.operators.models import Role
from kmsg_console.opt_outs.models import OptOutSource
from kmsg_console.send_logs.explanations import ERROR_LABELS, RULE_EXPLANATIONS
from kmsg_console.sender_numbers.models import (
    RegistrationSource,
    SenderNumberCategory,
    SenderNumberStatus,
)
from kmsg_console.sending.models import MessageStatus
from kmsg_console.throttle.models import (
    EntryMatch,
    KeyKind,
    ListKind,
    ThrottleAction,
    ThrottleMode,
)

ACTION_LABELS: dict[str, str] = {
    "auth.login": N_("Signed in"),
    "auth.login_failed": N_("Sign-in failed"),
    "auth.login_throttled": N_("Sign-in paused after repeated failures"),
    "auth.logout": N_("Signed out"),
    "operator.create": N_("Operator added"),
    "operator.change_role": N_("Operator role changed"),
    "operator.enable": N_("Operator enabled"),
    "operator.disable": N_("Operator disabled"),
    "operator.change_password": N_("Password changed"),
    "operator.preferences": N_("Preferences changed"),
    "provider.create": N_("Provider added"),
    "provider.update": N_("Provider changed"),
    "provider.enable": N_("Provider enabled"),
    "provider.disable": N_("Provider disabled"),
    "provider.test": N_("Provider connection tested"),
    "provider.delivery_update": N_("Delivery tracking changed"),
    "routing.update": N_("Routing changed"),
    "message.send": N_("Message sent from the console"),
    "message.retry": N_("Message retried"),
    "message.send_again": N_("Message sent again as a new message"),
    "message.check_status": N_("Message status checked"),
    "send_logs.export": N_("Send logs exported"),
    "retention.update": N_("Retention changed"),
    "retention.purge": N_("Expired records purged"),
    "api_key.create": N_("API key issued"),
    "api_key.revoke": N_("API key revoked"),
    "throttle.create": N_("Throttle policy added"),
    "throttle.update": N_("Throttle policy changed"),
    "throttle.enable": N_("Throttle policy enabled"),
    "throttle.disable": N_("Throttle policy disabled"),
    "throttle.delete_window": N_("Throttle window removed"),
    "throttle.safelist_add": N_("Added to the safelist"),
    "throttle.safelist_remove": N_("Removed from the safelist"),
    "throttle.blocklist_add": N_("Added to the blocklist"),
    "throttle.blocklist_remove": N_("Removed from the blocklist"),
    "otp.test_start": N_("Test code sent"),
    "otp.test_check": N_("Test code checked"),
    "otp.cancel": N_("Verification cancelled"),
    "otp.purpose_create": N_("OTP purpose added"),
    "otp.purpose_update": N_("OTP purpose changed"),
    "template.create": N_("Template created"),
    "template.update": N_("Template changed"),
    "template.delete": N_("Template deleted"),
    "template.register": N_("Template registered with the provider"),
    "template.request_inspection": N_("Template inspection requested"),
    "template.sandbox_review": N_("Sandbox review decided"),
    "template.sync": N_("Template synced from the provider"),
    "template.import": N_("Template imported from the provider"),
    "template.test_send": N_("Template test sent"),
    "opt_out.add": N_("Added to the opt-out list"),
    "opt_out.remove": N_("Removed from the opt-out list"),
    "opt_out.import": N_("Opt-out list imported"),
    "opt_out.sync": N_("Opt-out list synced from a provider"),
    "setting.update": N_("Setting changed"),
    "kakao_profile.add": N_("Kakao sender profile added"),
    "kakao_profile.update": N_("Kakao sender profile changed"),
    "kakao_profile.remove": N_("Kakao sender profile removed"),
    "kakao_profile.sync": N_("Kakao sender profiles synced from the provider"),
    "sender_number.add": N_("Sender number registered"),
    "sender_number.update": N_("Sender number changed"),
    "sender_number.verify": N_("Sender number verified"),
    "sender_number.reject": N_("Sender number rejected"),
    "sender_number.block": N_("Sender number blocked"),
    "sender_number.delete": N_("Sender number deleted"),
    "sender_number.sync": N_("Sender numbers synced from the provider"),
    "webhook_endpoint.create": N_("Webhook endpoint added"),
    "webhook_endpoint.update": N_("Webhook endpoint changed"),
    "webhook_endpoint.rotate_secret": N_("Webhook signing secret rotated"),
    "webhook_endpoint.delete": N_("Webhook endpoint deleted"),
    "webhook_endpoint.redeliver": N_("Webhook event redelivered"),
    "campaign.create": N_("Campaign uploaded"),
    "campaign.confirm": N_("Campaign confirmed"),
    "campaign.pause": N_("Campaign paused"),
    "campaign.resume": N_("Campaign resumed"),
    "campaign.cancel": N_("Campaign cancelled"),
    "campaign.export_failed": N_("Failed recipients of a campaign exported"),
}

TARGET_LABELS: dict[str, str] = {
    "operator": N_("Operator"),
    "provider": N_("Provider"),
    "routing": N_("Routing"),
    "message": N_("Message"),
    "send_log": N_("Send logs"),
    "retention": N_("Retention"),
    "api_key": N_("API key"),
    "throttle_policy": N_("Throttle policy"),
    "throttle_list_entry": N_("List entry"),
    "verification": N_("Verification"),
    "verification_purpose": N_("OTP purpose"),
    "message_template": N_("Template"),
    "opt_out": N_("Opt-out"),
    "setting": N_("Setting"),
    "kakao_profile": N_("Kakao sender profile"),
    "sender_number": N_("Sender number"),
    "webhook_endpoint": N_("Webhook endpoint"),
    "campaign": N_("Campaign"),
}

FIELD_LABELS: dict[str, str] = {
    "name": N_("Name"),
    "email": N_("E-mail"),
    "role": N_("Role"),
    "active": N_("Active"),
    "enabled": N_("Enabled"),
    "locale": N_("Language"),
    "timezone": N_("Time zone"),
    "status": N_("Status"),
    "outcome": N_("Outcome"),
    "result": N_("Result"),
    "error": N_("Error"),
    "error_code": N_("Error code"),
    "vendor_error": N_("Vendor code"),
    "http_status": N_("HTTP status"),
    "next_check_at": N_("Next check"),
    "type": N_("Type"),
    "kind": N_("Type"),
    "to": N_("Recipient"),
    "provider": N_("Provider"),
    "vendor": N_("Vendor"),
    "message_id": N_("Message"),
    "sent_again_as": N_("Sent again as"),
    "latency_ms": N_("Latency (ms)"),
    "retry_after_seconds": N_("Retry after (seconds)"),
    "credentials_replaced": N_("Credentials replaced"),
    "scopes": N_("Scopes"),
    "filters": N_("Filters"),
    "rows": N_("Rows"),
    "days": N_("Days kept"),
    # message templates
    "vendor_template": N_("Vendor template"),
    "content": N_("Text"),
    "sender_profile": N_("Kakao channel sender profile"),
    "plus_id": N_("Channel id (@plusId)"),
    "category": N_("Category"),
    "category_code": N_("Kakao category code"),
    "message_type": N_("Message type"),
    "emphasis_type": N_("Emphasis"),
    "emphasis_title": N_("Emphasized title"),
    "emphasis_subtitle": N_("Emphasized subtitle"),
    "extra_info": N_("Extra information"),
    "buttons": N_("Buttons"),
    "security_flag": N_("Security template"),
    "sample_values": N_("Sample values for the preview"),
    "decision": N_("Decision"),
    "comment": N_("Reviewer's comment"),
    "changed": N_("Changed"),
    # webhook endpoints
    "url": N_("URL"),
    "event_types": N_("Event types"),
    "grace_hours": N_("Old secret valid for (hours)"),
    "event": N_("Event"),
    # throttle policies and lists
    "description": N_("Description"),
    "mode": N_("Mode"),
    "key_kind": N_("Count by"),
    "actions": N_("Applies to"),
    "purpose": N_("Purpose"),
    "prefix": N_("Prefix"),
    "windows": N_("Windows"),
    "list": N_("List"),
    "match": N_("Match"),
    "value": N_("Number or prefix"),
    "note": N_("Note"),
    # OTP purposes
    "digits": N_("Code length (digits)"),
    "lifetime_seconds": N_("Lifetime (seconds)"),
    "max_checks": N_("Maximum checks"),
    "resend_cooldown_seconds": N_("Resend cooldown (seconds)"),
    "channel": N_("Channel"),
    "alimtalk_template": N_("AlimTalk template code"),
    "sms_fallback": N_("SMS fallback"),
    "brand": N_("Brand"),
    "sender_number": N_("Sender number"),
    "message_template": N_("SMS text"),
    # delivery tracking
    "fallback_enabled": N_("SMS/LMS fallback"),
    "fallback_codes": N_("Vendor status codes"),
    "fallback_texts": N_("Vendor status texts"),
    "tolerance_seconds": N_("Signature time tolerance (seconds)"),
    "webhook": N_("Webhook secret set"),
    # routing
    "DEFAULT": N_("Default (any type)"),
    # sending rules
    "duplicate_window_minutes": N_("Duplicate-send window (minutes)"),
    "sending.duplicate_window_minutes": N_("Duplicate-send window (minutes)"),
    "advertising.sender_name": N_("Advertising sender name"),
    "advertising.opt_out_line": N_("Free 080 opt-out number"),
    # operator alerts
    "balance_alert_below": N_("Balance alert below (KRW)"),
    "alerts.failure_rate_percent": N_("Failure rate alert (percent)"),
    "alerts.failure_window_minutes": N_("Failure rate window (minutes)"),
    "alerts.failure_min_messages": N_("Failure rate minimum messages"),
    "alerts.daily_volume_cap": N_("Daily volume cap (messages)"),
    "alerts.monthly_volume_cap": N_("Monthly volume cap (messages)"),
}

#: Fields of opt-out events; generic names such as ``source`` mean other things elsewhere.
OPT_OUT_FIELD_LABELS: dict[str, str] = {
    "phone": N_("Phone number"),
    "scope": N_("Scope"),
    "source": N_("Source"),
    "added": N_("Added"),
    "already_present": N_("Already on the list"),
    "invalid_rows": N_("Invalid rows"),
    "skipped": N_("Only in inactive groups"),
}

#: Fields of campaign events.
CAMPAIGN_FIELD_LABELS: dict[str, str] = {
    "status": N_("Status"),
    "rows_read": N_("Rows read"),
    "to_send": N_("To send"),
    "invalid": N_("Invalid rows"),
    "ad": N_("Advertising"),
    "rate": N_("Rate (messages per second)"),
    "cancelled_recipients": N_("Recipients cancelled"),
    "rows": N_("Rows"),
}

#: Fields of Kakao sender profile events.
KAKAO_PROFILE_FIELD_LABELS: dict[str, str] = {
    "key": N_("Profile key (pfId / senderKey)"),
    "vendor_status": N_("Status at the provider"),
    "added": N_("Added"),
    "updated": N_("Updated"),
    "unchanged": N_("Unchanged"),
    "not_listed": N_("Not listed by the provider"),
}


#: Fields of sender-number events.
SENDER_NUMBER_FIELD_LABELS: dict[str, str] = {
    "number": N_("Sender number"),
    "label": N_("Label"),
    "sender_category": N_("Category"),
    "sender_status": N_("Status"),
    "providers": N_("Providers"),
    "note": N_("Reason"),
    "registered_by": N_("Registered through"),
    "added": N_("New"),
    "verified": N_("Verified now"),
    "delisted": N_("No longer listed by the vendor"),
    "not_usable": N_("Not usable at the vendor yet"),
}


@dataclass(frozen=True)
class DetailLine:
    """One field of an event: ``label: value``, or ``label: before → after`` for a change."""

    label: str
    value: str = ""
    before: str | None = None
    after: str | None = None

    @property
    def is_change(self) -> bool:
        return self.before is not None

    def __str__(self) -> str:
        if self.is_change:
            return f"{self.label}: {self.before} → {self.after}"
        return f"{self.label}: {self.value}"


def action_label(action: str) -> str:
    """The action in the operator's language (an action without a label keeps its name)."""
    label = ACTION_LABELS.get(action)
    return gettext(label) if label else action


def target_label(target_type: str | None) -> str:
    if not target_type:
        return ""
    label = TARGET_LABELS.get(target_type)
    return gettext(label) if label else target_type


def detail_lines(action: str, details: Mapping[str, Any] | None) -> list[DetailLine]:
    """The event's details as lines, in the order they were recorded."""
    labels = _labels_for(action)
    details = _seeded_names_shown(action, details)
    lines: list[DetailLine] = []
    for key, value in (details or {}).items():
        if key in ("before", "after"):
            if key == "after" and "before" in details:
                continue  # listed with "before"
            lines += _changes(details.get("before"), details.get("after"), labels)
        elif key == "diff" and isinstance(value, Mapping) and ({"before", "after"} & set(value)):
            lines += _changes(value.get("before"), value.get("after"), labels)
        else:
            lines.append(DetailLine(labels(key), _format(value, key, labels)))
    return lines


def _changes(before: Any, after: Any, labels: Callable[[str], str]) -> list[DetailLine]:
    before = before if isinstance(before, Mapping) else {}
    after = after if isinstance(after, Mapping) else {}
    keys = list(dict.fromkeys([*before, *after]))
    if before and after:
        return [
            DetailLine(
                labels(key),
                before=_format(before.get(key), key, labels),
                after=_format(after.get(key), key, labels),
            )
            for key in keys
        ]
    # Only one side: a creation's snapshot or what a removal took away.
    side = before or after
    return [DetailLine(labels(key), _format(side[key], key, labels)) for key in keys]


def _seeded_names_shown(action: str, details: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """``details`` with a policy's or purpose's seeded name (still as the install stored it)
    as the pages show it: in the operator's language."""
    # Imported here: both services record audit events themselves.
    if action.startswith("throttle."):
        from kmsg_console.throttle.services import SEEDED as seeded
    elif action.startswith("otp.purpose"):
        from kmsg_console.otp.services import SEEDED_NAMES as seeded
    else:
        return details

    def shown(value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        return {
            key: seeded.shown(item)
            if key in ("name", "description") and isinstance(item, str)
            else shown(item)
            for key, item in value.items()
        }

    return shown(details)


def _labels_for(action: str) -> Callable[[str], str]:
    extra: dict[str, str] = {}
    if action.startswith("retention."):
        # Imported here: the retention module records audit events itself.
        from kmsg_console.worker.retention import CLASSES

        extra = {c.key: c.label for c in CLASSES}
    elif action.startswith("opt_out."):
        extra = OPT_OUT_FIELD_LABELS
    elif action.startswith("kakao_profile."):
        extra = KAKAO_PROFILE_FIELD_LABELS
    elif action.startswith("sender_number."):
        extra = SENDER_NUMBER_FIELD_LABELS
    elif action.startswith("campaign."):
        extra = CAMPAIGN_FIELD_LABELS

    def label(key: str) -> str:
        text = extra.get(key) or FIELD_LABELS.get(key)
        return gettext(text) if text else key

    return label


def _format(value: Any, key: str, labels: Callable[[str], str]) -> str:
    if value is None or value == "":
        return "—"
    if value == REDACTED:
        return gettext("[redacted]")
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if key in _VALUE_LABELS and isinstance(value, str | list):
        named = _VALUE_LABELS[key]
        if isinstance(value, list):
            return ", ".join(gettext(named[v]) if v in named else str(v) for v in value) or "—"
        if value in named:
            return gettext(named[value])
    if isinstance(value, Mapping):
        return (
            ", ".join(f"{labels(str(k))}: {_format(v, str(k), labels)}" for k, v in value.items())
            or "—"
        )
    if isinstance(value, list | tuple):
        return ", ".join(_format(item, key, labels) for item in value) or "—"
    return str(value)


def _labels_of(*enums: type[StrEnum]) -> dict[str, str]:
    return {member.value: member.label for enum in enums for member in enum}


#: Stored enumeration values shown by their labels (unknown values stay as stored).
_VALUE_LABELS: dict[str, dict[str, str]] = {
    # A message's status is upper case, a template's review status lower case.
    "status": _labels_of(ProfileStatus, MessageStatus, ReviewStatus),
    "error_code": {
        **{code.value: label for code, label in ERROR_LABELS.items()},
        **{code.value: rule.label for code, rule in RULE_EXPLANATIONS.items()},
    },
    "role": _labels_of(Role),
    "scopes": _labels_of(Scope),
    "list": _labels_of(ListKind),
    "match": _labels_of(EntryMatch),
    "mode": _labels_of(ThrottleMode),
    "key_kind": _labels_of(KeyKind),
    "actions": _labels_of(ThrottleAction),
    "source": _labels_of(OptOutSource),
    "sender_status": _labels_of(SenderNumberStatus),
    "sender_category": _labels_of(SenderNumberCategory),
    "registered_by": _labels_of(RegistrationSource),
}
