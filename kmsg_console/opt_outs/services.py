"""Adding, finding, removing and importing opt-outs; every change is audited.

A number is normalized once (any accepted spelling of a mobile number) and stored as the
send log stores recipients: a keyed hash under the send log's purpose, so the same number
matches across the send log and this list, the ciphertext and the masked form. Audit rows
carry only the masked form.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from kmsg_console.audit.services import record_audit
from kmsg_console.extensions import db
from kmsg_console.field_errors import FieldError
from kmsg_console.i18n_markers import N_
from kmsg_console.messaging.phone import (
    PHONE_HASH_PURPOSE,
    InvalidPhoneNumber,
    format_opt_out_line,
    mask_phone,
    normalize_opt_out_line,
    normalize_recipient,
)
from kmsg_console.opt_outs.models import GLOBAL_SCOPE, OptOut, OptOutSource
from kmsg_console.web.pagination import Page, keyset_page

#: Purpose the numbers are encrypted under (the ciphertext cannot be moved to another column).
PHONE_ENC_PURPOSE = "opt_out:phone"
NOTE_MAX = 200
#: An import larger than this is refused whole (split the file): one request, one commit.
IMPORT_MAX_ROWS = 10_000
IMPORT_MAX_BYTES = 2 * 1024 * 1024


class OptOutError(FieldError):
    """Input that cannot become an opt-out. ``field`` names the input, ``reason`` is an
    ``N_()`` template formatted with ``params``."""


@dataclass(frozen=True)
class AddResult:
    opt_out: OptOut
    created: bool


@dataclass(frozen=True)
class InvalidRow:
    line: int
    reason: str
    params: Mapping[str, Any]


#: Said of an import row instead of a reason that quotes the number (a report lists many
#: rows and is shown again later in the browser's history: no numbers in it).
NOT_A_MOBILE_NUMBER = N_("Not a valid mobile number.")


@dataclass
class ImportReport:
    """What an import did; invalid rows by line number and reason, never their numbers."""

    added: int = 0
    present: int = 0
    invalid: list[InvalidRow] = field(default_factory=list)


def normalize_phone(raw: str) -> str:
    try:
        return normalize_recipient(raw)
    except InvalidPhoneNumber as exc:
        raise OptOutError("phone", exc.reason, **exc.params) from None


def normalize_scope(raw: str | None) -> str:
    """``global`` for an empty scope (or ``global`` itself), else an 080 line's digits."""
    text = (raw or "").strip()
    if not text or text.lower() == GLOBAL_SCOPE:
        return GLOBAL_SCOPE
    try:
        return normalize_opt_out_line(text)
    except InvalidPhoneNumber as exc:
        raise OptOutError("scope", exc.reason, **exc.params) from None


def scope_display(scope: str) -> str:
    """A scope as stored, for audit rows and the API: ``global`` or ``080-123-4567``."""
    return scope if scope == GLOBAL_SCOPE else format_opt_out_line(scope)


def _hash(digits: str) -> str:
    return current_app.config["KEYRING"].lookup_hash(digits, PHONE_HASH_PURPOSE)


def _find(phone_hash: str, scope: str) -> OptOut | None:
    return db.session.scalar(
        sa.select(OptOut).where(OptOut.phone_hash == phone_hash, OptOut.scope == scope)
    )


def _snapshot(opt_out: OptOut) -> dict[str, Any]:
    return {
        "phone": opt_out.phone_masked,
        "scope": scope_display(opt_out.scope),
        "source": opt_out.source,
        "note": opt_out.note,
    }


def _insert(
    raw_phone: str, raw_scope: str | None, note: str, source: OptOutSource, created_by: str
) -> AddResult:
    digits = normalize_phone(raw_phone)
    scope = normalize_scope(raw_scope)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise OptOutError("note", N_("A note is at most %(max)s characters."), max=NOTE_MAX)
    phone_hash = _hash(digits)
    existing = _find(phone_hash, scope)
    if existing is not None:
        return AddResult(existing, created=False)
    opt_out = OptOut(
        phone_hash=phone_hash,
        phone_enc=current_app.config["KEYRING"].encrypt(digits, PHONE_ENC_PURPOSE),
        phone_masked=mask_phone(digits),
        scope=scope,
        source=source.value,
        note=note,
        created_by=created_by[:254],
    )
    try:
        # A savepoint: when another request added the same number meanwhile, only this
        # insert is undone and the caller's other work in the transaction stays.
        with db.session.begin_nested():
            db.session.add(opt_out)
    except IntegrityError:
        existing = _find(phone_hash, scope)
        if existing is None:
            raise
        return AddResult(existing, created=False)
    return AddResult(opt_out, created=True)


def add_opt_out(
    phone: str,
    scope: str | None = None,
    note: str = "",
    *,
    source: OptOutSource,
    actor: Any = None,
    actor_label: str | None = None,
) -> AddResult:
    """Add ``phone`` to the list for ``scope``; an existing entry is returned unchanged.

    :raises OptOutError: for a number that is not a mobile number, a scope that is not an
        080 line, or a note that is too long.
    """
    created_by = actor_label or getattr(actor, "email", None) or "system"
    result = _insert(phone, scope, note, source, created_by)
    if result.created:
        record_audit(
            "opt_out.add",
            actor=actor,
            actor_label=actor_label,
            target_type="opt_out",
            target_id=result.opt_out.id,
            details={"after": _snapshot(result.opt_out)},
        )
    return result


def entries_for(phone: str) -> tuple[str, list[OptOut]]:
    """The masked number and its opt-outs (every scope), for the API's check.

    :raises OptOutError: for a number that is not a mobile number.
    """
    digits = normalize_phone(phone)
    entries = db.session.scalars(
        sa.select(OptOut).where(OptOut.phone_hash == _hash(digits)).order_by(OptOut.scope)
    )
    return mask_phone(digits), list(entries)


def find_opt_out(phone_digits: str, lines: Collection[str] = ()) -> OptOut | None:
    """The entry that keeps advertising from ``phone_digits``: global, or for one of ``lines``.

    :param phone_digits: the recipient's normalized digits (``01012345678``), as the send
        engine holds them; every spelling of a number has these digits and so one hash.
    :param lines: digits of the 080 lines the advertising names (``0801234567``).
    """
    scopes = [GLOBAL_SCOPE, *lines]
    return db.session.scalar(
        sa.select(OptOut)
        .where(OptOut.phone_hash == _hash(phone_digits), OptOut.scope.in_(scopes))
        .order_by(OptOut.scope != GLOBAL_SCOPE, OptOut.id)
        .limit(1)
    )


def is_opted_out(phone_digits: str, lines: Collection[str] = ()) -> bool:
    """True when ``phone_digits`` must not get advertising naming any of the 080 ``lines``."""
    return find_opt_out(phone_digits, lines) is not None


def remove_opt_out(opt_out: OptOut, *, actor: Any) -> None:
    record_audit(
        "opt_out.remove",
        actor=actor,
        target_type="opt_out",
        target_id=opt_out.id,
        details={"before": _snapshot(opt_out)},
    )
    db.session.delete(opt_out)


def _rows(data: bytes) -> list[dict[str, str]] | None:
    """The CSV's rows as dicts with lower-case headers, or None without a ``phone`` column.

    Spreadsheets in Korea often save CSV as CP949, so that is read when UTF-8 fails.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp949")
        except UnicodeDecodeError:
            raise OptOutError("file", N_("The file is neither UTF-8 nor CP949 text.")) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise OptOutError("file", N_("The file is empty."))
    names = [name.strip().lower() for name in header]
    if "phone" not in names:
        raise OptOutError("file", N_("The first line must name a phone column."))
    rows = []
    for values in reader:
        if len(rows) >= IMPORT_MAX_ROWS:
            raise OptOutError(
                "file", N_("A file may hold at most %(max)s rows."), max=IMPORT_MAX_ROWS
            )
        rows.append(dict(zip(names, values, strict=False)))
    return rows


def import_csv(data: bytes, *, actor: Any) -> ImportReport:
    """Add every valid row of a CSV with a ``phone`` column (``scope``, ``note`` optional).

    Invalid rows are reported by line number and skipped; the valid ones are still added.
    One audit row records the counts.

    :raises OptOutError: when the file as a whole cannot be read (nothing is added).
    """
    if len(data) > IMPORT_MAX_BYTES:
        raise OptOutError(
            "file", N_("A file may be at most %(max)s MB."), max=IMPORT_MAX_BYTES // 1024**2
        )
    rows = _rows(data)
    report = ImportReport()
    created_by = getattr(actor, "email", None) or "system"
    for line, row in enumerate(rows or [], start=2):  # line 1 is the header
        if not any((value or "").strip() for value in row.values()):
            continue  # blank lines, as spreadsheets leave at the end
        try:
            result = _insert(
                row.get("phone") or "",
                row.get("scope"),
                row.get("note") or "",
                OptOutSource.CSV,
                created_by,
            )
        except OptOutError as exc:
            if "digits" in exc.params:
                report.invalid.append(InvalidRow(line, NOT_A_MOBILE_NUMBER, {}))
            else:
                report.invalid.append(InvalidRow(line, exc.reason, exc.params))
            continue
        if result.created:
            report.added += 1
        else:
            report.present += 1
    record_audit(
        "opt_out.import",
        actor=actor,
        target_type="opt_out",
        details={
            "added": report.added,
            "already_present": report.present,
            "invalid_rows": len(report.invalid),
        },
    )
    return report


def search(filters: Mapping[str, Any], *, cursor: str | None, per_page: int) -> Page[OptOut]:
    """A keyset page of opt-outs, newest first, by number (any spelling) and scope.

    :raises OptOutError: for a number or scope filter that cannot be read.
    """
    query = sa.select(OptOut)
    if filters.get("phone"):
        query = query.where(OptOut.phone_hash == _hash(normalize_phone(filters["phone"])))
    if filters.get("scope"):
        query = query.where(OptOut.scope == normalize_scope(filters["scope"]))
    return keyset_page(query, OptOut.created_at, OptOut.id, cursor=cursor, per_page=per_page)


def scopes_in_use() -> list[str]:
    """The 080 lines that have opt-outs, for the scope filter."""
    return list(
        db.session.scalars(
            sa.select(OptOut.scope)
            .where(OptOut.scope != GLOBAL_SCOPE)
            .distinct()
            .order_by(OptOut.scope)
        )
    )
