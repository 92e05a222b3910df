"""What the vendors really received, and whether the send log tells the truth about it.

Every fault test sends each message to a recipient number of its own, so the simulators'
recorded requests and stored (accepted) messages can be matched to send-log rows by
number. :func:`problems` compares each row — its status and every attempt — with what the
vendor behind each attempt really did, and reports anything untruthful: a message a vendor
took twice or that two vendors took (double send), a send a vendor got with no attempt row,
a "failed" attempt the vendor actually accepted, a failover after an unknown outcome, a
status that does not follow from the attempts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from kmsg_console.extensions import db
from kmsg_console.sending.models import MessageLog

#: Vendor id -> the path its simulator records message sends under.
SEND_PATHS = {"solapi": "/messages/v4/send-many/detail", "iwinv_sms": "/api/v2/send/"}
FINAL_FOR_LAST_OUTCOME = {
    "accepted": {"SENT", "PENDING"},
    "failed": {"FAILED"},
    "unknown": {"UNKNOWN"},
    "in_flight": {"UNKNOWN"},
}


def _recipients(vendor: str, body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    if vendor == "solapi":
        return [str(m.get("to")) for m in body.get("messages") or [] if isinstance(m, dict)]
    to = body.get("to")
    return (
        [str(p) for p in to] if isinstance(to, list) else [p for p in str(to or "").split(",") if p]
    )


@dataclass
class VendorView:
    """One vendor's side: send requests received and messages stored, per recipient."""

    received: Counter[str] = field(default_factory=Counter)
    stored: Counter[str] = field(default_factory=Counter)
    #: recipient -> the HTTP status the simulator answered each send with (None: no answer).
    answers: dict[str, list[int | None]] = field(default_factory=dict)

    @property
    def total_received(self) -> int:
        return sum(self.received.values())

    @property
    def total_stored(self) -> int:
        return sum(self.stored.values())


def observe(sim, vendor: str) -> VendorView:
    """Read ``vendor``'s recorded sends and stored messages from simulator ``sim``."""
    view = VendorView()
    for entry in sim.control.requests(vendor, SEND_PATHS[vendor]):
        for phone in _recipients(vendor, entry.get("body")):
            view.received[phone] += 1
            view.answers.setdefault(phone, []).append(entry.get("response_status"))
    for message in sim.control.messages(vendor):
        view.stored[str(message.get("to") or message.get("phone"))] += 1
    return view


@dataclass(frozen=True)
class AttemptRow:
    number: int
    provider: str
    outcome: str
    trigger: str
    error_code: str | None


@dataclass(frozen=True)
class LogRow:
    """A send-log row reduced to what the comparison needs (recipient decrypted)."""

    public_id: str
    phone: str
    status: str
    attempt_count: int
    error_code: str | None
    attempts: tuple[AttemptRow, ...]


def log_rows(keyring) -> list[LogRow]:
    """Every send-log row with its attempts (call inside an app context)."""
    rows = []
    logs = db.session.scalars(sa.select(MessageLog).options(selectinload(MessageLog.attempts)))
    for log in logs:
        attempts = tuple(
            AttemptRow(a.number, a.provider_code, a.outcome, a.trigger, a.error_code)
            for a in sorted(log.attempts, key=lambda a: a.number)
        )
        phone = keyring.decrypt(log.to_enc, f"message:{log.public_id}:to")
        rows.append(
            LogRow(log.public_id, phone, log.status, log.attempt_count, log.error_code, attempts)
        )
    db.session.rollback()
    return rows


def problems(
    rows: Iterable[LogRow],
    views: Mapping[str, VendorView],
    vendor_of: Mapping[str, str],
    *,
    allow_in_flight: bool = False,
) -> list[str]:
    """Everything untruthful about ``rows`` given what the vendors ``views`` really got.

    ``vendor_of`` maps provider codes to simulator vendor ids. ``allow_in_flight`` admits
    rows left by a crash (an ``in_flight`` last attempt, or no attempt at all).
    """
    found: list[str] = []
    rows = list(rows)
    by_phone = Counter(row.phone for row in rows)
    for phone, count in by_phone.items():
        if count > 1:
            found.append(
                f"{phone}: {count} log rows for one recipient (tests use one number per message)"
            )
    for row in rows:
        found += _row_problems(row, views, vendor_of, allow_in_flight)
    logged = set(by_phone)
    for vendor, view in views.items():
        for phone in set(view.received) - logged:
            found.append(
                f"{phone}: {vendor} received {view.received[phone]} send(s) with no log row"
            )
    return found


def _row_problems(row: LogRow, views, vendor_of, allow_in_flight: bool) -> list[str]:
    out: list[str] = []
    where = f"{row.public_id} ({row.phone}, {row.status})"
    attempts = row.attempts
    if [a.number for a in attempts] != list(range(1, len(attempts) + 1)):
        out.append(f"{where}: attempt numbers {[a.number for a in attempts]}")
    if row.attempt_count != len(attempts):
        out.append(f"{where}: attempt_count {row.attempt_count} but {len(attempts)} attempt rows")
    providers = [a.provider for a in attempts]
    if len(set(providers)) != len(providers):
        out.append(f"{where}: one provider tried twice {providers}")
    for index, attempt in enumerate(attempts):
        last = index == len(attempts) - 1
        vendor = vendor_of[attempt.provider]
        view = views[vendor]
        received, stored = view.received[row.phone], view.stored[row.phone]
        tag = f"{where}: attempt {attempt.number} at {attempt.provider} is {attempt.outcome}"
        if received > 1:
            out.append(f"{tag} but {vendor} received the message {received} times")
        if attempt.outcome == "accepted":
            if stored != 1 or received != 1:
                out.append(f"{tag} but {vendor} received {received} and stored {stored}")
        elif attempt.outcome == "failed":
            if stored:
                out.append(f"{tag} but {vendor} stored (accepted) the message")
        elif attempt.outcome in ("unknown", "in_flight"):
            if attempt.outcome == "in_flight" and not allow_in_flight:
                out.append(f"{tag}: no send should be left in flight")
        else:
            out.append(f"{tag}: not an outcome")
        if not last:
            if attempt.outcome != "failed":
                out.append(f"{tag} and yet another provider was tried after it")
            elif attempts[index + 1].trigger != "failover":
                out.append(
                    f"{where}: attempt {attempts[index + 1].number} is not marked as a failover"
                )
    tried = {vendor_of[p] for p in providers}
    for vendor, view in views.items():
        if vendor not in tried and view.received[row.phone]:
            out.append(f"{where}: {vendor} received a send but the row has no attempt there")
    if not attempts:
        if not (allow_in_flight and row.status == "UNKNOWN"):
            out.append(f"{where}: no attempt at all")
    elif row.status not in FINAL_FOR_LAST_OUTCOME[attempts[-1].outcome]:
        out.append(
            f"{where}: status does not follow from the last attempt ({attempts[-1].outcome})"
        )
    total_stored = sum(view.stored[row.phone] for view in views.values())
    if total_stored > 1:
        out.append(f"{where}: DOUBLE SEND, the vendors stored it {total_stored} times")
    if row.status == "FAILED" and total_stored:
        out.append(f"{where}: recorded FAILED but a vendor has the message")
    return out


def pattern(row: LogRow) -> list[tuple[str, str]]:
    """``[(provider, outcome), ...]`` of a row, for exact expectations."""
    return [(a.provider, a.outcome) for a in row.attempts]
