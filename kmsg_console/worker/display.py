"""What the console shows about a message's tracking (used by ``worker/_tracking.html``)."""

from __future__ import annotations

from typing import Any

from kmsg_console.i18n_markers import N_
from kmsg_console.operators.models import Role
from kmsg_console.sending.models import MessageLog, MessageStatus
from kmsg_console.web.access import can
from kmsg_console.worker import fallback, interrupted, tracking

STATE_LABELS = {
    "tracking": N_("Waiting for the provider's report"),
    "final": N_("Final status reached"),
    "unsupported": N_(
        "No status API at this provider: accepted means handed over; delivery is not reported"
    ),
    "timeout": N_("No final status within 24 hours; polling stopped"),
    "no_vendor_id": N_("The provider gave no message id, so its outcome cannot be looked up"),
    "provider_missing": N_("The provider is no longer configured"),
    "vendor_unknown": N_("The provider reported the outcome as unknown"),
    "query_failed": N_("The status query failed; polling stopped"),
    "interrupted": N_(
        "The sending process stopped during the send: the provider may have the message, so it"
        " is not sent again and its outcome stays unknown"
    ),
    "not_tracked": N_("Not tracked (the provider did not accept the message)"),
}
FALLBACK_LABELS = {
    fallback.DUE: N_("Scheduled: the recipient cannot get Kakao"),
    fallback.CLAIMED: N_("Being sent (claimed before sending)"),
    fallback.SENT: N_("Sent"),
    fallback.FAILED: N_("Failed"),
    fallback.SKIPPED: N_("Not sent (see the timeline)"),
}
_NOTE_STATES = {
    tracking.UNSUPPORTED: "unsupported",
    tracking.TIMEOUT: "timeout",
    tracking.NO_VENDOR_ID: "no_vendor_id",
    tracking.PROVIDER_NOT_FOUND: "provider_missing",
    tracking.VENDOR_UNKNOWN: "vendor_unknown",
    tracking.TRACKING_ERROR: "query_failed",
    interrupted.INTERRUPTED: "interrupted",
}


def tracking_state(log: MessageLog) -> str:
    """One word for where tracking stands (see ``STATE_LABELS``)."""
    if log.next_check_at is not None and log.status in tracking.OPEN:
        return "tracking"
    if log.tracking_note in _NOTE_STATES:
        return _NOTE_STATES[log.tracking_note]
    if log.status == MessageStatus.UNKNOWN.value and log.tracking_note:
        return "query_failed"
    if log.status == MessageStatus.FAILED.value and not log.sent_at:
        return "not_tracked"
    return "final"


def delivery_tracking(log: MessageLog) -> dict[str, Any]:
    """Tracking facts and fallback links of ``log`` for templates."""
    state = tracking_state(log)
    links = fallback.linked(log)
    return {
        "state": state,
        "label": STATE_LABELS[state],
        "note": log.tracking_note,
        "fallback_label": FALLBACK_LABELS.get(log.fallback_state or ""),
        "original": links["original"],
        "fallback": links["fallback"],
        "can_check": can(Role.OPERATOR) and log.status in tracking.OPEN and bool(log.provider_code),
    }
