"""The event types integrators can subscribe to."""

from __future__ import annotations

from enum import StrEnum

from kmsg_console.i18n_markers import N_


class EventType(StrEnum):
    MESSAGE_SENT = "message.sent"
    MESSAGE_DELIVERED = "message.delivered"
    MESSAGE_FAILED = "message.failed"
    MESSAGE_UNKNOWN = "message.unknown"
    MESSAGE_FALLBACK_SENT = "message.fallback_sent"
    VERIFICATION_STARTED = "verification.started"
    VERIFICATION_APPROVED = "verification.approved"
    VERIFICATION_EXPIRED = "verification.expired"
    VERIFICATION_MAX_ATTEMPTS = "verification.max_attempts"
    VERIFICATION_CANCELED = "verification.canceled"
    TEMPLATE_APPROVED = "template.approved"
    TEMPLATE_REJECTED = "template.rejected"
    PROVIDER_UNHEALTHY = "provider.unhealthy"
    PROVIDER_RECOVERED = "provider.recovered"
    PROVIDER_BALANCE_LOW = "provider.balance_low"
    ALERT_FAILURE_RATE = "alert.failure_rate"
    ALERT_FAILURE_RATE_RESOLVED = "alert.failure_rate_resolved"
    ALERT_VOLUME_CAP = "alert.volume_cap"
    WORKER_STOPPED = "worker.stopped"
    WORKER_RECOVERED = "worker.recovered"
    CAMPAIGN_COMPLETED = "campaign.completed"

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS = {
    EventType.MESSAGE_SENT: N_("Message accepted by a provider"),
    EventType.MESSAGE_DELIVERED: N_("Message delivered"),
    EventType.MESSAGE_FAILED: N_("Message failed"),
    EventType.MESSAGE_UNKNOWN: N_("Message outcome unknown"),
    EventType.MESSAGE_FALLBACK_SENT: N_("SMS/LMS fallback sent"),
    EventType.VERIFICATION_STARTED: N_("Verification started"),
    EventType.VERIFICATION_APPROVED: N_("Verification approved"),
    EventType.VERIFICATION_EXPIRED: N_("Verification expired"),
    EventType.VERIFICATION_MAX_ATTEMPTS: N_("Verification: too many wrong codes"),
    EventType.VERIFICATION_CANCELED: N_("Verification canceled"),
    EventType.TEMPLATE_APPROVED: N_("Template approved"),
    EventType.TEMPLATE_REJECTED: N_("Template rejected"),
    EventType.PROVIDER_UNHEALTHY: N_("Provider unhealthy"),
    EventType.PROVIDER_RECOVERED: N_("Provider recovered"),
    EventType.PROVIDER_BALANCE_LOW: N_("Provider balance below its threshold"),
    EventType.ALERT_FAILURE_RATE: N_("Failure rate above its threshold"),
    EventType.ALERT_FAILURE_RATE_RESOLVED: N_("Failure rate back below its threshold"),
    EventType.ALERT_VOLUME_CAP: N_("Volume cap warning (daily or monthly)"),
    EventType.WORKER_STOPPED: N_("Background worker stopped"),
    EventType.WORKER_RECOVERED: N_("Background worker running again"),
    EventType.CAMPAIGN_COMPLETED: N_("Campaign completed"),
}
#: Operator alerts (kmsg_console.alerts): raised by thresholds, not by one change.
ALERT_TYPES: tuple[str, ...] = (
    EventType.PROVIDER_BALANCE_LOW.value,
    EventType.ALERT_FAILURE_RATE.value,
    EventType.ALERT_FAILURE_RATE_RESOLVED.value,
    EventType.ALERT_VOLUME_CAP.value,
    EventType.WORKER_STOPPED.value,
    EventType.WORKER_RECOVERED.value,
)
ALL_TYPES: tuple[str, ...] = tuple(t.value for t in EventType)
