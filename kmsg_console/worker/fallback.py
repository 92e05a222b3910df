"""AlimTalk → SMS/LMS fallback when tracking shows the recipient cannot get Kakao.

At most once per message, in two steps:

1. when a FAILED status is recorded, :func:`consider` decides, in the same transaction,
   whether the failure qualifies and marks the original ``fallback_state = "due"``;
2. :func:`send_due` claims each due message with a conditional UPDATE
   (``due`` → ``claimed``) and commits that claim *before* sending, so of two workers only
   one ever sends, and a crash after the claim leaves "claimed" rather than a second send.
   The fallback's own log row carries ``fallback_of_id``, which a unique index allows once.

Qualifies when (K-Message's API-level failover): the message is an AlimTalk whose request
enabled fallback with a text we stored; the failure matches the provider's non-Kakao-user
rules (codes, or texts whose ``&``-joined parts all appear); the provider did not already
send its own substitute SMS; and fallback is on for the provider.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from kmsg_console import sending
from kmsg_console.events import outbox
from kmsg_console.extensions import db
from kmsg_console.messaging.provider import DeliveryStatusResult
from kmsg_console.messaging.types import FallbackChannel, MessageType
from kmsg_console.providers import services as provider_services
from kmsg_console.sending.models import MessageEvent, MessageLog, MessageSource, MessageStatus
from kmsg_console.worker import settings

logger = logging.getLogger(__name__)

DUE = "due"
CLAIMED = "claimed"
SENT = "sent"
FAILED = "failed"
SKIPPED = "skipped"


def _event(log: MessageLog, detail: str) -> None:
    log.events.append(MessageEvent(kind="fallback", status=log.status, detail=detail[:500]))


def is_non_kakao_user(
    rules: settings.FallbackRules, vendor_code: str | None, vendor_text: str | None
) -> bool:
    """True when a failure means the recipient cannot receive Kakao messages."""
    if vendor_code and vendor_code.strip() in rules.codes:
        return True
    text = vendor_text or ""
    return any(
        all(part.strip() in text for part in rule.split("&") if part.strip())
        for rule in rules.texts
        if rule.strip()
    )


def _native_fallback_done(raw: Any) -> bool:
    """The vendor reports that it already sent its own substitute SMS."""
    if not isinstance(raw, dict):
        return False
    if raw.get("replacement") is True:  # SOLAPI
        return True
    return str(raw.get("resendStatus") or "").upper() == "OK" or "성공" in str(
        raw.get("resendStatusName") or ""
    )


def _stored_failover(log: MessageLog) -> dict[str, Any] | None:
    if log.payload_enc is None:
        return None
    message = sending.rebuild_message(log)
    if message.failover is None or not message.failover.enabled:
        return {"enabled": False}
    return {
        "enabled": True,
        "channel": message.failover.fallback_channel,
        "content": message.failover.fallback_content,
        "title": message.failover.fallback_title,
    }


def consider(log: MessageLog, result: DeliveryStatusResult) -> None:
    """Mark a failed AlimTalk for fallback when it qualifies (no commit, no sending)."""
    if (
        log.type != MessageType.ALIMTALK.value
        or log.fallback_state is not None
        or log.fallback_of_id
    ):
        return
    provider = provider_services.get_by_code(log.provider_code) if log.provider_code else None
    if provider is None:
        return
    rules = settings.fallback_rules(provider)
    if not is_non_kakao_user(rules, result.vendor_code, result.vendor_text):
        return
    failover = _stored_failover(log)
    if failover is None:
        log.fallback_state = SKIPPED
        _event(
            log,
            "recipient cannot get Kakao, but no fallback text was stored (OTP codes never are)",
        )
    elif not failover["enabled"]:
        return  # the request did not ask for a fallback
    elif not failover.get("content"):
        log.fallback_state = SKIPPED
        _event(log, "FALLBACK_CONTENT_MISSING: fallback was requested without a text")
    elif _native_fallback_done(result.raw):
        log.fallback_state = SKIPPED
        _event(log, "the provider already sent its own substitute SMS")
    elif not rules.enabled:
        log.fallback_state = SKIPPED
        _event(log, f"fallback is turned off for provider {provider.code}")
    else:
        log.fallback_state = DUE
        _event(log, "recipient cannot get Kakao: SMS/LMS fallback scheduled")


def claim(log_id: int) -> bool:
    """Take the fallback of one message for this worker; True only for the one winner."""
    result = db.session.execute(
        sa.update(MessageLog)
        .where(MessageLog.id == log_id, MessageLog.fallback_state == DUE)
        .values(fallback_state=CLAIMED)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return False
    log = db.session.get(MessageLog, log_id)
    db.session.refresh(log)
    _event(log, "fallback claimed; sending")
    db.session.commit()  # the claim is on disk before anything is sent
    return True


def send_due(limit: int = 100) -> Counter[str]:
    """Send the fallbacks that are due (each by exactly one worker)."""
    counts: Counter[str] = Counter()
    ids = list(
        db.session.scalars(
            sa.select(MessageLog.id)
            .where(MessageLog.fallback_state == DUE)
            .order_by(MessageLog.id)
            .limit(limit)
        )
    )
    db.session.commit()
    for log_id in ids:
        if not claim(log_id):
            continue
        counts[f"fallback_{send_claimed(db.session.get(MessageLog, log_id))}"] += 1
    return counts


def send_claimed(log: MessageLog) -> str:
    """Send the SMS/LMS of a claimed original and link it; returns sent, failed or duplicate."""
    failover = _stored_failover(log) or {}
    message = sending.rebuild_message(log)
    lms = failover.get("channel") is FallbackChannel.LMS
    request = sending.SendRequest(
        to=message.to,
        text=failover.get("content"),
        type="LMS" if lms else None,
        from_=log.from_number,
        subject=failover.get("title") if lms else None,
    )
    original_id = log.id
    child = None
    try:
        child = sending.send(
            request,
            source=MessageSource(log.source),
            api_key_id=log.api_key_id,
            operator_id=log.operator_id,
            fallback_of_id=original_id,
        ).log
    except IntegrityError:
        # The unique index saw a fallback for this original already: never a second one.
        db.session.rollback()
        outcome, detail = SENT, "a fallback message already exists"
    except sending.SendRefused as exc:
        db.session.rollback()
        outcome, detail = FAILED, f"fallback refused: {exc.code}: {exc.message}"
    else:
        ok = child.status != MessageStatus.FAILED.value
        outcome = SENT if ok else FAILED
        detail = f"fallback {child.type} {child.public_id}: {child.status}"
    log = db.session.get(MessageLog, original_id)
    log.fallback_state = outcome
    _event(log, detail)
    if outcome == SENT and child is not None:
        db.session.add(outbox.fallback_sent(log, child))
    db.session.commit()
    logger.info("fallback for message %s: %s", log.public_id, outcome)
    return outcome


def linked(log: MessageLog) -> dict[str, MessageLog | None]:
    """The original this message falls back for, and the fallback sent for it."""
    original = db.session.get(MessageLog, log.fallback_of_id) if log.fallback_of_id else None
    child = db.session.scalar(sa.select(MessageLog).where(MessageLog.fallback_of_id == log.id))
    return {"original": original, "fallback": child}
