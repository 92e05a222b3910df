"""What the OTP console reads: one verification live, recent verifications, conversion.

Reading never writes: a pending verification past its lifetime is *shown* as expired (the
engine marks it when it is next checked, or ``services.expire_due`` does in bulk).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from kmsg_console import sending
from kmsg_console.extensions import db
from kmsg_console.i18n_markers import N_
from kmsg_console.operators.models import Operator
from kmsg_console.otp import services
from kmsg_console.otp.models import Verification, VerificationPurpose, VerificationStatus
from kmsg_console.web.pagination import Page, keyset_page
from kmsg_console.web.timezones import local_day_bounds, to_local

PENDING = VerificationStatus.PENDING.value

EVENT_LABELS = {
    "pending": N_("Code sent"),
    "check_failed": N_("Wrong code"),
    "approved": N_("Approved"),
    "expired": N_("Expired"),
    "max_attempts": N_("Too many attempts"),
    "canceled": N_("Canceled"),
}
#: The engine writes event details in English; these patterns show them translated.
_EVENT_DETAILS = (
    (re.compile(r"^code sent by (?P<channel>\w+)$"), N_("by %(channel)s")),
    (re.compile(r"^attempt (?P<n>\d+) of (?P<max>\d+)$"), N_("attempt %(n)s of %(max)s")),
    (
        re.compile(r"^replaced by a new verification$"),
        N_("replaced by a newer verification for this number"),
    ),
    (re.compile(r"^canceled by request$"), N_("canceled by an operator or the application")),
    (re.compile(r"^send refused: (?P<code>\S+)$"), N_("the send was refused (%(code)s)")),
    (re.compile(r"^send failed: (?P<code>\S+)$"), N_("the send failed (%(code)s)")),
)
CHANNEL_LABELS = {"sms": "SMS", "alimtalk": "AlimTalk"}


def effective_status(verification: Verification, now: datetime | None = None) -> VerificationStatus:
    """The status an operator should see: a pending verification past its lifetime is expired."""
    now = now or services.clock()
    if verification.status == PENDING and now >= verification.expires_at:
        return VerificationStatus.EXPIRED
    return verification.status_enum


def event_detail(detail: str | None) -> str:
    """An engine event detail in the operator's language (unknown details unchanged)."""
    if not detail:
        return ""
    for pattern, message in _EVENT_DETAILS:
        match = pattern.match(detail)
        if match:
            params = match.groupdict()
            if "channel" in params:
                params["channel"] = CHANNEL_LABELS.get(params["channel"], params["channel"])
            return _(message, **params)
    return detail


# -- one verification -----------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    label: str
    detail: str


@dataclass(frozen=True)
class LiveView:
    """Everything the self-refreshing panel of one verification shows."""

    verification: Verification
    status: VerificationStatus
    expires_in: int
    attempts_used: int
    timeline: list[TimelineEntry]
    delivery: Mapping[str, Any] | None
    operator_email: str | None
    #: Why a sandbox delivery's code is not shown: ``"api"`` or ``"other_operator"``.
    code_hidden: str | None = None

    @property
    def pending(self) -> bool:
        return self.status is VerificationStatus.PENDING

    @property
    def attempts_left(self) -> int:
        return max(0, self.verification.max_checks - self.attempts_used) if self.pending else 0


def find(public_id: str) -> Verification | None:
    return services.find(public_id)


def sandbox_delivery(verification: Verification) -> Mapping[str, Any] | None:
    """What the sandbox provider delivered for this verification's message, if it carried it."""
    if not verification.message_public_id:
        return None
    keyring = current_app.config["KEYRING"]
    digits = keyring.decrypt(verification.phone_enc, f"verification:{verification.public_id}:phone")
    for delivery in sending.sandbox_inbox(digits, limit=20):
        if delivery["message_id"] == verification.message_public_id:
            return delivery
    return None


def _visible_delivery(
    verification: Verification, viewer_id: int | None
) -> tuple[Mapping[str, Any] | None, str | None]:
    """The sandbox delivery the viewer may read, else why its code stays hidden.

    Only the operator who started a test sees its code. An API verification's code guards an
    end user's sign-in, so no operator sees it, even when the sandbox took the message.
    """
    if verification.operator_id is None:
        return None, "api"
    delivery = sandbox_delivery(verification)
    if delivery is not None and verification.operator_id != viewer_id:
        return None, "other_operator"
    return delivery, None


def live_view(verification: Verification, *, viewer_id: int | None) -> LiveView:
    now = services.clock()
    status = effective_status(verification, now)
    left = (
        int((verification.expires_at - now).total_seconds())
        if status is VerificationStatus.PENDING
        else 0
    )
    timeline = [
        TimelineEntry(e.at, e.kind, _(EVENT_LABELS.get(e.kind, e.kind)), event_detail(e.detail))
        for e in verification.events
    ]
    if status is VerificationStatus.EXPIRED and verification.status == PENDING:
        timeline.append(
            TimelineEntry(verification.expires_at, "expired", _(EVENT_LABELS["expired"]), "")
        )
    delivery, code_hidden = _visible_delivery(verification, viewer_id)
    return LiveView(
        verification,
        status,
        max(0, left),
        verification.checks,
        timeline,
        delivery,
        operator_labels([verification]).get(verification.operator_id),
        code_hidden,
    )


# -- recent verifications -------------------------------------------------------------------


def recent_page(
    filters: Mapping[str, Any], *, cursor: str | None, per_page: int
) -> Page[Verification]:
    """A keyset page of verifications, newest first, filtered by purpose and shown status."""
    now = services.clock()
    query = sa.select(Verification).options(selectinload(Verification.purpose))
    if filters.get("purpose"):
        query = query.join(Verification.purpose).where(
            VerificationPurpose.code == filters["purpose"]
        )
    status = filters.get("status")
    if status == PENDING:
        query = query.where(Verification.status == PENDING, Verification.expires_at > now)
    elif status == VerificationStatus.EXPIRED.value:
        query = query.where(
            sa.or_(
                Verification.status == status,
                sa.and_(Verification.status == PENDING, Verification.expires_at <= now),
            )
        )
    elif status:
        query = query.where(Verification.status == status)
    return keyset_page(
        query, Verification.created_at, Verification.id, cursor=cursor, per_page=per_page
    )


def operator_labels(verifications: Iterable[Verification]) -> dict[int, str]:
    """E-mail of the operators who issued these verifications from the console."""
    ids = {v.operator_id for v in verifications if v.operator_id is not None}
    if not ids:
        return {}
    rows = db.session.execute(sa.select(Operator.id, Operator.email).where(Operator.id.in_(ids)))
    return {row.id: row.email for row in rows}


# -- conversion -----------------------------------------------------------------------------


@dataclass
class Tally:
    started: int = 0
    approved: int = 0

    @property
    def rate(self) -> float | None:
        """Approved / started, or None when nothing started."""
        return self.approved / self.started if self.started else None

    def add(self, started: int, approved: int) -> None:
        self.started += started
        self.approved += approved


@dataclass
class PurposeRow:
    code: str
    name: str
    days: list[Tally]
    total: Tally = field(default_factory=Tally)


@dataclass
class Conversion:
    """Approved / started over the last days, per purpose and per local calendar day."""

    days: list[date]
    per_day: list[Tally]
    purposes: list[PurposeRow]
    total: Tally


def conversion(days: int = 7, now: datetime | None = None) -> Conversion:
    """Count started and approved verifications per purpose and per day, in one query.

    Days are the operator's calendar days; each verification counts on the day it started.
    """
    now = now or services.clock()
    today = to_local(now).date()
    day_list = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    starts = [local_day_bounds(day)[0] for day in day_list]
    end = local_day_bounds(today)[1]
    # A CASE maps created_at to its day's index; grouping the subquery by it works the same on
    # SQLite and PostgreSQL (no time zone functions needed).
    bucket = sa.case(
        *[
            (Verification.created_at >= start, index)
            for index, start in reversed(list(enumerate(starts)))
        ],
        else_=-1,
    )
    rows = (
        sa.select(
            bucket.label("day"),
            Verification.purpose_id.label("purpose_id"),
            sa.case((Verification.status == VerificationStatus.APPROVED.value, 1), else_=0).label(
                "ok"
            ),
        )
        .where(Verification.created_at >= starts[0], Verification.created_at < end)
        .subquery()
    )
    counts = db.session.execute(
        sa.select(rows.c.day, rows.c.purpose_id, sa.func.count(), sa.func.sum(rows.c.ok)).group_by(
            rows.c.day, rows.c.purpose_id
        )
    ).all()

    purposes = {
        p.id: PurposeRow(p.code, services.SEEDED_NAMES.shown(p.name), [Tally() for _ in day_list])
        for p in db.session.scalars(
            sa.select(VerificationPurpose).order_by(VerificationPurpose.code)
        )
    }
    per_day = [Tally() for _ in day_list]
    total = Tally()
    for day_index, purpose_id, started, approved in counts:
        if not 0 <= day_index < days or purpose_id not in purposes:
            continue
        row = purposes[purpose_id]
        for tally in (row.days[day_index], row.total, per_day[day_index], total):
            tally.add(int(started), int(approved or 0))
    return Conversion(day_list, per_day, list(purposes.values()), total)
