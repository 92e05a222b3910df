"""Investigating the send log: filtered keyset pages, one message explained, retry, CSV export.

Every filter is an equality or range on a column that has an index ending in
``(created_at, id)``, so pages stay fast on millions of rows; "tried at provider" adds a probe
of each candidate row's attempts (by their ``message_id`` index). Recipients are searched by
their keyed hash only; the number itself never enters a query, a URL or the audit log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import abort, g, has_request_context
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from kmsg_console import sending
from kmsg_console.api_keys.models import ApiKey
from kmsg_console.extensions import db
from kmsg_console.messaging.types import MessageType
from kmsg_console.messaging.vendor_codes import FIX_NOT_KAKAO, Explanation, explain
from kmsg_console.operators.models import Operator
from kmsg_console.providers.models import Provider
from kmsg_console.send_logs import send_again
from kmsg_console.send_logs.explanations import (
    UNKNOWN_WITHOUT_ID,
    RuleExplanation,
    error_help,
    error_label,
    rule_explanation,
)
from kmsg_console.send_logs.timeline import TimelineEntry, attempt_note, timeline, warning_text
from kmsg_console.sending.models import MessageAttempt, MessageLog, MessageStatus
from kmsg_console.web.pagination import Page, decode_cursor, keyset_page
from kmsg_console.web.timezones import operator_zone, to_local

logger = logging.getLogger(__name__)

#: Query-string format of the time filters (an HTML ``datetime-local`` value, operator's zone).
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"


@dataclass(frozen=True)
class LogFilters:
    """What the operator filters on; times are UTC, ``recipient`` is a phone lookup hash."""

    since: datetime | None = None
    until: datetime | None = None
    status: str | None = None
    error_code: str | None = None
    provider: str | None = None
    #: Messages with an attempt at this provider, wherever they ended (failover included).
    attempted: str | None = None
    #: ... whose outcome is one of ``ATTEMPT_OUTCOMES`` (the same attempt, when both are given).
    attempt_outcome: str | None = None
    type: str | None = None
    source: str | None = None
    api_key: int | None = None
    template: str | None = None
    vendor_code: str | None = None
    recipient: str | None = None
    #: ``delivered``: AlimTalks their SMS/LMS fallback delivered; ``none``: every other message.
    fallback: str | None = None
    #: ``yes``: advertising messages only; ``no``: the others.
    ad: str | None = None
    #: The messages of one campaign (its row id; links name it by its public id).
    campaign: int | None = None


_EQUALITY = {
    "status": MessageLog.status,
    "error_code": MessageLog.error_code,
    "provider": MessageLog.provider_code,
    "type": MessageLog.type,
    "source": MessageLog.source,
    "api_key": MessageLog.api_key_id,
    "template": MessageLog.template_code,
    "vendor_code": MessageLog.vendor_code,
    "recipient": MessageLog.to_hash,
    "campaign": MessageLog.campaign_id,
}


#: The attempt outcomes the list filters on, as the dashboard counts them: an attempt still
#: marked in flight (a call under way, or one a stopped process never finished) is "unknown".
ATTEMPT_OUTCOMES: dict[str, tuple[str, ...]] = {
    "accepted": ("accepted",),
    "failed": ("failed",),
    "unknown": ("unknown", "in_flight"),
    "not_accepted": ("failed", "unknown", "in_flight"),
}

#: The statuses of a fallback SMS/LMS that count its AlimTalk as delivered: the vendor took
#: it (as for any SENT message, a carrier's failure would still be reported as FAILED).
FALLBACK_DELIVERED = (MessageStatus.SENT.value, MessageStatus.DELIVERED.value)
FALLBACK_FILTERS = ("delivered", "none")
AD_FILTERS = ("yes", "no")


def local_to_utc(moment: datetime) -> datetime:
    """A naive wall-clock time typed by the operator, as UTC."""
    return moment.replace(tzinfo=operator_zone()).astimezone(UTC)


def local_input_value(moment: datetime) -> str:
    """``moment`` as the operator's ``datetime-local`` value (for filter links).

    Memoised for the request (the operator's zone does not change within one): the failure
    grid links every cell to its bucket's bounds, a few dozen distinct moments asked
    thousands of times.
    """
    if not has_request_context():
        return to_local(moment).strftime(LOCAL_INPUT_FORMAT)
    memo = g.setdefault("_send_logs_local_inputs", {})
    value = memo.get(moment)
    if value is None:
        value = memo[moment] = to_local(moment).strftime(LOCAL_INPUT_FORMAT)
    return value


def filtered_query(filters: LogFilters) -> sa.Select[Any]:
    """``SELECT message_log`` restricted by ``filters`` (unordered)."""
    query = sa.select(MessageLog)
    for name, column in _EQUALITY.items():
        value = getattr(filters, name)
        if value not in (None, ""):
            query = query.where(column == value)
    if filters.attempted or filters.attempt_outcome:
        # ``provider`` is where a message ended; a provider that failed over to the next one
        # has its failures on other messages' rows. Each candidate row is one probe of the
        # attempts' message_id index, so the newest-first scan stays as it is.
        attempt = [MessageAttempt.message_id == MessageLog.id]
        if filters.attempted:
            attempt.append(MessageAttempt.provider_code == filters.attempted)
        if filters.attempt_outcome:
            attempt.append(MessageAttempt.outcome.in_(ATTEMPT_OUTCOMES[filters.attempt_outcome]))
        query = query.where(sa.exists().where(*attempt))
    if filters.fallback in FALLBACK_FILTERS:
        # One probe of the unique fallback_of_id index per candidate row.
        child = aliased(MessageLog)
        delivered = sa.exists().where(
            child.fallback_of_id == MessageLog.id, child.status.in_(FALLBACK_DELIVERED)
        )
        query = query.where(delivered if filters.fallback == "delivered" else ~delivered)
    if filters.ad in AD_FILTERS:
        query = query.where(MessageLog.is_ad == (sa.true() if filters.ad == "yes" else sa.false()))
    if filters.since is not None:
        query = query.where(MessageLog.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(MessageLog.created_at < filters.until)
    return query


def list_page(filters: LogFilters, *, cursor: str | None, per_page: int) -> Page[MessageLog]:
    """One keyset page of matching messages, newest first.

    :raises BadCursor: when ``cursor`` was not made by the console.
    """
    query = filtered_query(filters)
    if cursor:
        # The keyset condition "older than (t, id)" is an OR that no index can start from, so
        # a deep page would walk the index from the newest row down to the cursor. The same
        # rows also satisfy ``created_at <= t``, a range every filter index (``..., created_at,
        # id``) starts at directly: deep pages cost what the first page costs.
        moment, _row_id = decode_cursor(cursor)
        query = query.where(MessageLog.created_at <= moment)
    return keyset_page(
        query,
        MessageLog.created_at,
        MessageLog.id,
        cursor=cursor,
        per_page=per_page,
    )


def count_matching(filters: LogFilters) -> int:
    # maintain_column_froms keeps FROM message_log when no filter names the table; without
    # it an unfiltered count is "SELECT count(*)" = 1 and the export limit is never applied.
    query = (
        filtered_query(filters)
        .with_only_columns(sa.func.count(), maintain_column_froms=True)
        .order_by(None)
    )
    return db.session.scalar(query) or 0


def recipient_label(recipient_hash: str) -> str | None:
    """The masked number behind a lookup hash, from any message sent to it."""
    return db.session.scalar(
        sa.select(MessageLog.to_masked).where(MessageLog.to_hash == recipient_hash).limit(1)
    )


# -- one message ------------------------------------------------------------------------------


def get_log_or_404(public_id: str) -> MessageLog:
    log = sending.find_by_public_id(public_id)
    if log is None:
        abort(404)
    return log


@dataclass
class AttemptView:
    attempt: MessageAttempt
    explanation: Explanation | None
    help: str | None
    #: The attempt's error message, and whether it is the console's own words (translated)
    #: rather than an adapter's account of the vendor's answer.
    note: str | None = None
    note_is_ours: bool = False


@dataclass
class LogDetail:
    """A message with everything the detail page explains about it."""

    log: MessageLog
    provider: Provider | None
    explanation: Explanation | None
    help: str | None
    attempts: list[AttemptView] = field(default_factory=list)
    api_key_name: str | None = None
    operator_email: str | None = None
    body: str | None = None
    error_label: str = ""
    warnings: list[tuple[str, str]] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    #: The SMS/LMS the console sent in place of this AlimTalk.
    fallback: MessageLog | None = None
    #: The messages an operator sent this one again from and as, and why it cannot be.
    sent_again_from: MessageLog | None = None
    sent_again_as: MessageLog | None = None
    send_again_refusal: str | None = None
    #: A sending rule's refusal explained (its fix and where to make it).
    rule: RuleExplanation | None = None


def _attempt_view(vendors: Mapping[str, str], log: MessageLog, a: MessageAttempt) -> AttemptView:
    note, ours = attempt_note(a.error_message)
    return AttemptView(
        a,
        explain_vendor_code(vendors, a.provider_code, a.vendor_code, log.type),
        UNKNOWN_WITHOUT_ID
        if a.outcome == "unknown" and not a.provider_message_id and _without_id(log)
        else error_help(a.error_code),
        note,
        ours,
    )


def _without_id(log: MessageLog) -> bool:
    """An unknown outcome that no status check can settle (see ``UNKNOWN_WITHOUT_ID``)."""
    return log.status == MessageStatus.UNKNOWN.value and not log.provider_message_id


def provider_vendors() -> dict[str, str]:
    return dict(db.session.execute(sa.select(Provider.code, Provider.vendor)).all())


def explain_vendor_code(
    vendors: Mapping[str, str],
    provider_code: str | None,
    vendor_code: str | None,
    message_type: str | None,
) -> Explanation | None:
    """Meaning and fix of ``vendor_code`` as the vendor behind ``provider_code`` uses it."""
    vendor = vendors.get(provider_code or "")
    if vendor is None or vendor_code is None:
        return None
    return explain(vendor, vendor_code, message_type)


def log_detail(log: MessageLog, *, with_body: bool) -> LogDetail:
    """Explain ``log``: its error, every attempt's vendor code, who sent it; the text on request."""
    vendors = provider_vendors()
    detail = LogDetail(
        log=log,
        provider=db.session.scalar(sa.select(Provider).where(Provider.code == log.provider_code))
        if log.provider_code
        else None,
        explanation=explain_vendor_code(vendors, log.provider_code, log.vendor_code, log.type),
        help=UNKNOWN_WITHOUT_ID if _without_id(log) else error_help(log.error_code),
        attempts=[_attempt_view(vendors, log, a) for a in log.attempts],
        error_label=error_label(log.error_code),
        warnings=[(str(w.get("code") or ""), warning_text(w)) for w in log.warnings or []],
        timeline=timeline(log),
        rule=rule_explanation(log.error_code),
    )
    if log.api_key_id is not None:
        detail.api_key_name = db.session.scalar(
            sa.select(ApiKey.name).where(ApiKey.id == log.api_key_id)
        )
    if log.operator_id is not None:
        detail.operator_email = db.session.scalar(
            sa.select(Operator.email).where(Operator.id == log.operator_id)
        )
    if with_body:
        detail.body = sending.decrypt_body(log)
    _tell_the_fallback(detail)
    detail.sent_again_from = send_again.sent_again_from(log)
    if log.status in send_again.SENDABLE_AGAIN:
        detail.sent_again_as = send_again.sent_again_as(log)
        detail.send_again_refusal = send_again.refusal(log)
    return detail


#: Send warnings that foretell the vendor's own fallback; superseded once the console sent one.
_VENDOR_FALLBACK_WARNINGS = frozenset(
    {"FAILOVER_PARTIAL_PROVIDER", "FAILOVER_UNSUPPORTED_PROVIDER"}
)


def _tell_the_fallback(detail: LogDetail) -> None:
    """Say what happened to an AlimTalk's fallback instead of what the send foretold."""
    log = detail.log
    if log.type != MessageType.ALIMTALK.value:
        return
    detail.fallback = sending.find_fallback(log)
    if detail.fallback is None and log.fallback_state is None:
        return  # no fallback was asked for (or not yet): "enable fallback" is the advice
    for view in (detail, *detail.attempts):
        if view.explanation is not None and view.explanation.fix == FIX_NOT_KAKAO:
            view.explanation = replace(view.explanation, fix=None)
    if detail.fallback is not None:
        detail.warnings = [w for w in detail.warnings if w[0] not in _VENDOR_FALLBACK_WARNINGS]


def can_retry(log: MessageLog) -> bool:
    return (
        log.status == MessageStatus.FAILED.value and log.retryable and log.payload_enc is not None
    )


def retry_message(log: MessageLog, *, operator: Operator) -> MessageLog:
    """Retry a failed message at most once at a time, however many operators click.

    The message is claimed with a conditional UPDATE (``retryable`` true → false) committed
    before any provider is called: a second request (a double click, a colleague) finds
    nothing to claim and is refused, so the message is never sent twice. The send engine's
    outcome then sets ``retryable`` afresh. If the retry stops before a provider attempt was
    written, the claim is given back.

    :raises sending.SendRefused: 409 when the message is not (or no longer) retryable.
    """
    claim = (
        sa.update(MessageLog)
        .where(
            MessageLog.id == log.id,
            MessageLog.status == MessageStatus.FAILED.value,
            MessageLog.retryable.is_(True),
            MessageLog.payload_enc.is_not(None),
        )
        .values(retryable=False)
        .execution_options(synchronize_session=False)
    )
    claimed = db.session.execute(claim).rowcount
    db.session.commit()
    if claimed != 1:
        raise sending.SendRefused(
            409, "not_retryable", "Only failed messages with a retryable error can be retried."
        )
    attempts_before = log.attempt_count  # reloads the row after the commit
    # sending.retry checks the flag itself; it holds in memory while the database keeps the claim.
    set_committed_value(log, "retryable", True)
    try:
        return sending.retry(log, operator=operator)
    except Exception:
        db.session.rollback()
        if log.attempt_count == attempts_before:  # no provider was called: release the claim
            db.session.execute(
                sa.update(MessageLog)
                .where(MessageLog.id == log.id, MessageLog.status == MessageStatus.FAILED.value)
                .values(retryable=True)
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
        raise
