"""Operator actions around delivery tracking (the views call these; they only flush)."""

from __future__ import annotations

from typing import Any

from kmsg_console.audit.services import record_audit
from kmsg_console.providers.models import Provider
from kmsg_console.sending.models import MessageLog
from kmsg_console.worker import settings, tracking


def form_data(provider: Provider) -> dict[str, Any]:
    """What the provider's delivery settings form shows (never the secret)."""
    rules = settings.fallback_rules(provider)
    return {
        "fallback_enabled": rules.enabled,
        "fallback_codes": ", ".join(rules.codes),
        "fallback_texts": "\n".join(rules.texts),
        "tolerance": settings.tolerance_seconds(provider),
    }


def check_now(log: MessageLog, *, actor) -> str:
    """Poll one message's status at once for an operator, audited; returns the outcome."""
    before = {
        "status": log.status,
        "next_check_at": log.next_check_at.isoformat() if log.next_check_at else None,
    }
    outcome = tracking.poll_now(log)
    if outcome != "skipped":
        record_audit(
            "message.check_status",
            actor=actor,
            target_type="message",
            target_id=log.public_id,
            details={"before": before, "after": {"status": log.status, "outcome": outcome}},
        )
    return outcome
