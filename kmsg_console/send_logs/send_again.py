"""Sending a failed or unknown message again as a new message, once, by an operator.

A retry repeats the same message (same id, a new attempt) and only for a refusal proven not
to have reached anyone. When that is not the case (the vendor took the message and it was
not delivered, or nobody knows whether it was), the operator's next step is a new message
with the same recipient, type, text and template, sent through the send engine and the
current routing. The two are linked both ways (``resent_from_id``) and the operator's
decision is audited.

Never twice: the original is claimed with a conditional UPDATE on the state the operator
saw (status, retryable flag, attempt count), which also ends its retry, and a unique index
allows one message sent again per original; both are written in the transaction that
creates the new message, before any provider is called.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from kmsg_console import sending
from kmsg_console.audit.services import record_audit
from kmsg_console.extensions import db
from kmsg_console.i18n_markers import N_
from kmsg_console.messaging.rule_codes import RuleCode
from kmsg_console.messaging.types import MessageType
from kmsg_console.operators.models import Operator
from kmsg_console.orm import utcnow
from kmsg_console.sending.models import (
    MessageAttempt,
    MessageEvent,
    MessageLog,
    MessageSource,
    MessageStatus,
)

#: The statuses that end without the message known to have arrived.
SENDABLE_AGAIN = (MessageStatus.FAILED.value, MessageStatus.UNKNOWN.value)
#: A reservation sooner than this is sent now: the vendors refuse a time about to pass.
SCHEDULE_MARGIN = timedelta(minutes=5)

NOT_FAILED = N_("Only failed messages and messages whose outcome is unknown can be sent again.")
OTP = N_(
    "OTP messages are not sent again: a new code must come from a new verification, which "
    "the application (or OTP > Test code) starts."
)
ALREADY = N_("This message was already sent again as a new message.")
NO_PAYLOAD = N_("What this message was sent with is no longer stored, so it cannot be sent again.")
IN_FLIGHT = N_("A provider call for this message is still under way; wait for its outcome.")
FALLBACK_SENT = N_("Its SMS/LMS fallback was sent in its place.")
OPTED_OUT = N_(
    "The recipient opted out of advertising: this message is not sent again. Remove the "
    "number from the opt-out list only if the recipient asked for advertising again."
)
AD_TEXT = N_(
    "Its text lacks what advertising must carry, and sending it again would repeat the text: "
    "compose a new message on the Send page instead."
)
#: Rule refusals that the same message would meet again, whatever changes meanwhile.
_REFUSED_AGAIN = {RuleCode.RECIPIENT_OPTED_OUT.value: OPTED_OUT, RuleCode.AD_RULES.value: AD_TEXT}
CHANGED = N_("The message changed meanwhile (a retry ran or its status came in); look at it again.")


def sent_again_as(log: MessageLog) -> MessageLog | None:
    """The new message ``log`` was sent again as (at most one: a unique index)."""
    return db.session.scalar(sa.select(MessageLog).where(MessageLog.resent_from_id == log.id))


def sent_again_from(log: MessageLog) -> MessageLog | None:
    """The message ``log`` was sent again from (None when it was purged, or there is none)."""
    return db.session.get(MessageLog, log.resent_from_id) if log.resent_from_id else None


def refusal(log: MessageLog) -> str | None:
    """Why ``log`` cannot be sent again (an untranslated sentence), or None when it can."""
    if log.status not in SENDABLE_AGAIN:
        return NOT_FAILED
    if log.source == MessageSource.OTP.value or log.body_redacted:
        return OTP
    if sent_again_as(log) is not None:
        return ALREADY
    if log.error_code in _REFUSED_AGAIN:
        return _REFUSED_AGAIN[log.error_code]
    if log.type == MessageType.ALIMTALK.value:
        fallback = sending.find_fallback(log)
        if fallback is not None and fallback.status != MessageStatus.FAILED.value:
            return FALLBACK_SENT
    if log.payload_enc is None:
        return NO_PAYLOAD
    if any(a.outcome == "in_flight" for a in log.attempts):
        return IN_FLIGHT
    return None


def request_of(log: MessageLog) -> sending.SendRequest:
    """What ``log`` was sent with, as a new request (checked afresh by the send engine)."""
    message = sending.rebuild_message(log)
    failover = message.failover
    scheduled = log.scheduled_at
    if scheduled is not None and scheduled <= utcnow() + SCHEDULE_MARGIN:
        scheduled = None
    return sending.SendRequest(
        to=message.to,
        text=message.text,
        # What the caller asked for: without a type the length decides SMS or LMS again.
        type=log.requested_type,
        from_=log.from_number,
        subject=log.subject,
        template_code=log.template_code,
        variables=dict(message.variables),
        failover=None
        if failover is None
        else {
            "enabled": failover.enabled,
            "channel": failover.fallback_channel.value,
            "content": failover.fallback_content,
            "title": failover.fallback_title,
        },
        kakao={"profile_id": message.kakao.profile_id} if message.kakao.profile_id else None,
        scheduled_at=scheduled,
        # Advertising stays advertising: the rules check it again.
        ad=log.is_ad,
    )


def send_again(log: MessageLog, *, operator: Operator) -> MessageLog:
    """Send ``log`` again as a new message (audited) and return the new message's row.

    :raises sending.SendRefused: 409 ``not_sendable_again`` with an untranslated reason when
        the message cannot be sent again (or was, by someone else, meanwhile); the send
        engine's own refusals (a template no longer approved, no provider) as they are.
    """
    reason = refusal(log)
    if reason is not None:
        raise sending.SendRefused(409, "not_sendable_again", reason)
    request = request_of(log)
    claim = (
        sa.update(MessageLog)
        .where(
            MessageLog.id == log.id,
            MessageLog.status == log.status,
            MessageLog.retryable == log.retryable,
            MessageLog.attempt_count == log.attempt_count,
            ~sa.exists().where(
                MessageAttempt.message_id == MessageLog.id, MessageAttempt.outcome == "in_flight"
            ),
        )
        .values(retryable=False)
        .execution_options(synchronize_session=False)
    )
    if db.session.execute(claim).rowcount != 1:
        db.session.rollback()
        raise sending.SendRefused(409, "not_sendable_again", CHANGED)
    set_committed_value(log, "retryable", False)
    new_id = str(uuid.uuid4())
    # Pending in this transaction: the send engine's first commit, before any provider is
    # called, writes them with the new message, and a refusal rolls all of it back.
    record_audit(
        "message.send_again",
        actor=operator,
        target_type="message",
        target_id=log.public_id,
        details={
            "sent_again_as": new_id,
            "status": log.status,
            "type": log.type,
            "to": log.to_masked,
        },
    )
    log.events.append(
        MessageEvent(
            kind="sent_again",
            status=log.status,
            detail=f"sent again as {new_id} by {operator.email}",
        )
    )
    try:
        return sending.send(
            request,
            source=MessageSource.CONSOLE,
            operator_id=operator.id,
            message_id=new_id,
            resent_from_id=log.id,
        ).log
    except IntegrityError:
        db.session.rollback()
        raise sending.SendRefused(409, "not_sendable_again", ALREADY) from None
    except sending.SendRefused:
        db.session.rollback()
        raise
