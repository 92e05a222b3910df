"""Sender numbers: registering, verifying, syncing from vendors; every change is audited.

The send engine's rule (``sending/rules.py``) asks :func:`usable_pairs` which of a message's
providers may send from its sender; this package never imports the send engine.

Who vouches for a number is recorded as ``verified_by``: an admin's e-mail (the console),
``cli`` (the command line), the vendor (a sync: the vendor verified it with its documents),
``migration`` (senders in use before this rule existed) or ``system`` (the sandbox's demo
number at installation).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from kmsg_console.audit.services import record_audit
from kmsg_console.extensions import db
from kmsg_console.field_errors import FieldError
from kmsg_console.i18n_markers import N_
from kmsg_console.messaging.phone import InvalidPhoneNumber, normalize_sender
from kmsg_console.orm import utcnow
from kmsg_console.providers.adapters.registry import ADAPTERS
from kmsg_console.providers.models import Provider
from kmsg_console.providers.services import adapter_for
from kmsg_console.sender_numbers.models import (
    RegistrationSource,
    SenderNumber,
    SenderNumberCategory,
    SenderNumberProvider,
    SenderNumberStatus,
)

#: Provider settings holding the sender a provider uses when a message names none (the same
#: names as ``providers.services.SENDER_SETTINGS``; kept here so that module may import this).
SENDER_SETTINGS = ("default_from", "sender_number", "sender")
LABEL_MAX = 80
NOTE_MAX = 200
#: Ranges NHN Cloud's console refuses as not existing: 010-0xxx, 010-1xxx, 070-0xxx, 070-1xxx.
_NON_EXISTENT = re.compile(r"^0[17]0[01]")


class SenderNumberError(FieldError):
    """A change that cannot be made. ``field`` names the input, ``reason`` is an ``N_()``
    template formatted with ``params``."""


# -- numbers --------------------------------------------------------------------------------


def normalize_number(raw: str) -> str:
    """The domestic digits of a number that may be registered as a sender.

    NHN Cloud's rules: a landline with its area code, a mobile number, 15YY/16YY/18YY
    without an area code, 8 to 11 digits; the 010-0/1 and 070-0/1 ranges do not exist.

    :raises SenderNumberError: otherwise.
    """
    try:
        digits = normalize_sender(raw)
    except InvalidPhoneNumber as exc:
        raise SenderNumberError("number", exc.reason, **exc.params) from None
    if _NON_EXISTENT.match(digits) or not 8 <= len(digits) <= 11:
        raise SenderNumberError(
            "number", N_("%(number)s is in a range that does not exist."), number=display(digits)
        )
    return digits


def display(digits: str | None) -> str:
    """Domestic digits with hyphens: ``02-1234-5678``, ``010-1234-5678``, ``1588-1234``."""
    digits = digits or ""
    if len(digits) == 8 and digits[0] == "1":
        return f"{digits[:4]}-{digits[4:]}"
    if digits.startswith("02") and len(digits) in (9, 10):
        return f"02-{digits[2:-4]}-{digits[-4:]}"
    if digits.startswith("0") and len(digits) in (10, 11):
        return f"{digits[:3]}-{digits[3:-4]}-{digits[-4:]}"
    return digits


def default_sender_in(config: Mapping[str, Any]) -> str | None:
    """The default sender named in a provider's (parsed) settings."""
    for key in SENDER_SETTINGS:
        value = config.get(key)
        if value:
            return str(value)
    return None


def default_sender(provider: Provider) -> str | None:
    """The sender ``provider`` uses when a message names none: its setting, else its
    vendor's default for that setting (the sandbox has one)."""
    value = default_sender_in(provider.settings or {})
    if value:
        return value
    adapter = ADAPTERS.get(provider.vendor)
    for spec in adapter.CONFIG_FIELDS if adapter else ():
        if spec.name in SENDER_SETTINGS and spec.default:
            return str(spec.default)
    return None


def providers_defaulting_to(number: str) -> list[Provider]:
    """The providers whose default sender is ``number``."""
    providers = db.session.scalars(sa.select(Provider).order_by(Provider.code))
    return [p for p in providers if default_sender(p) == number]


# -- reading --------------------------------------------------------------------------------


def all_numbers() -> list[SenderNumber]:
    """Every registered number, by number (a console has a handful)."""
    return list(db.session.scalars(sa.select(SenderNumber).order_by(SenderNumber.number)))


def find(number: str) -> SenderNumber | None:
    return db.session.scalar(sa.select(SenderNumber).where(SenderNumber.number == number))


def usable_pairs(pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Of ``(provider code, sender digits)`` pairs, those a provider may send from: the
    number is verified and registered for that provider, which its vendor still lists."""
    pairs = set(pairs)
    if not pairs:
        return set()
    numbers = {number for _code, number in pairs}
    codes = {code for code, _number in pairs}
    rows = db.session.execute(
        sa.select(SenderNumberProvider.provider_code, SenderNumber.number)
        .join(SenderNumber, SenderNumber.id == SenderNumberProvider.sender_number_id)
        .where(
            SenderNumber.status == SenderNumberStatus.VERIFIED.value,
            SenderNumber.number.in_(numbers),
            SenderNumberProvider.provider_code.in_(codes),
            SenderNumberProvider.delisted_at.is_(None),
        )
    )
    return {(code, number) for code, number in rows} & pairs


# -- changes --------------------------------------------------------------------------------


def _actor_label(actor: Any, actor_label: str | None) -> str:
    return (actor_label or getattr(actor, "email", None) or "system")[:254]


def _snapshot(sender: SenderNumber) -> dict[str, Any]:
    return {
        "number": display(sender.number),
        "label": sender.label,
        "sender_category": sender.category,
        "sender_status": sender.status,
        "providers": sender.provider_codes,
    }


def _known_providers(codes: Iterable[str]) -> list[str]:
    codes = list(dict.fromkeys(c for c in codes if c))
    if not codes:
        return []
    known = set(db.session.scalars(sa.select(Provider.code).where(Provider.code.in_(codes))))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise SenderNumberError(
            "providers", N_("Unknown provider: %(codes)s."), codes=", ".join(unknown)
        )
    return codes


def _clean_text(value: str | None, field: str, limit: int) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        raise SenderNumberError(field, N_("At most %(max)s characters."), max=limit)
    return text


def _category(value: str | None) -> str:
    try:
        return SenderNumberCategory(value or SenderNumberCategory.BUSINESS.value).value
    except ValueError:
        raise SenderNumberError("category", N_("Choose a category.")) from None


def _set_status(sender: SenderNumber, status: SenderNumberStatus, by: str, note: str = "") -> None:
    sender.status = status.value
    sender.verified_by = by
    sender.verified_at = utcnow()
    sender.status_note = note


def _link(sender: SenderNumber, code: str, source: RegistrationSource) -> bool:
    """Allow ``code`` to send from ``sender`` (a delisted row is listed again); True if changed."""
    for row in sender.providers:
        if row.provider_code == code:
            if row.delisted_at is not None and source is RegistrationSource.SYNC:
                row.delisted_at = None
                return True
            return False
    sender.providers.append(SenderNumberProvider(provider_code=code, source=source.value))
    return True


@dataclass(frozen=True)
class Registration:
    sender: SenderNumber
    created: bool
    changed: bool


def register(
    raw_number: str,
    *,
    providers: Sequence[str] = (),
    label: str = "",
    category: str | None = None,
    verified: bool = False,
    source: RegistrationSource,
    actor: Any = None,
    actor_label: str | None = None,
    verified_by: str | None = None,
) -> Registration:
    """Register a number for ``providers`` (or add them to a registered one).

    ``verified`` marks it verified by ``verified_by`` (default: the actor), unless an admin
    rejected or blocked it: that decision stands (:class:`SenderNumberError` on ``number``).
    An existing number keeps its label and category unless new ones are given.
    """
    digits = normalize_number(raw_number)
    codes = _known_providers(providers)
    label = _clean_text(label, "label", LABEL_MAX)
    by = _actor_label(actor, actor_label)
    sender = find(digits)
    created = sender is None
    before = None if created else _snapshot(sender)
    if created:
        sender = SenderNumber(
            number=digits,
            label=label,
            category=_category(category),
            status=SenderNumberStatus.PENDING.value,
            created_by=by,
            providers=[],
        )
    else:
        if sender.status in (SenderNumberStatus.REJECTED.value, SenderNumberStatus.BLOCKED.value):
            if verified:
                raise SenderNumberError(
                    "number",
                    N_("%(number)s is blocked under Sender numbers; an admin changes that there.")
                    if sender.status == SenderNumberStatus.BLOCKED.value
                    else N_(
                        "%(number)s is rejected under Sender numbers; an admin changes that there."
                    ),
                    number=display(digits),
                )
        if label:
            sender.label = label
        if category:
            sender.category = _category(category)
    linked = [_link(sender, code, source) for code in codes]
    if verified and sender.status != SenderNumberStatus.VERIFIED.value:
        _set_status(sender, SenderNumberStatus.VERIFIED, (verified_by or by)[:254])
    if created:
        try:
            with db.session.begin_nested():
                db.session.add(sender)
        except IntegrityError:
            # Registered meanwhile by another request: add to that one instead.
            return register(
                raw_number,
                providers=providers,
                label=label,
                category=category,
                verified=verified,
                source=source,
                actor=actor,
                actor_label=actor_label,
                verified_by=verified_by,
            )
    else:
        db.session.flush()
    after = _snapshot(sender)
    changed = created or before != after or any(linked)
    if changed:
        details: dict[str, Any] = (
            {"after": after} if created else {"before": before, "after": after}
        )
        if source is not RegistrationSource.CONSOLE:
            details["registered_by"] = source.value
        record_audit(
            "sender_number.add" if created else "sender_number.update",
            actor=actor,
            actor_label=actor_label,
            target_type="sender_number",
            target_id=display(digits),
            details=_changes_only(details),
        )
    return Registration(sender, created, changed)


def _changes_only(details: dict[str, Any]) -> dict[str, Any]:
    if "before" not in details:
        return details
    before, after = details["before"], details["after"]
    keys = [k for k in after if before.get(k) != after.get(k)]
    kept = {"before": {k: before.get(k) for k in keys}, "after": {k: after[k] for k in keys}}
    if not keys:
        # Only a delisted provider listed again: say which number it was.
        kept = {"number": after["number"]}
    return {**{k: v for k, v in details.items() if k not in ("before", "after")}, **kept}


def update(
    sender: SenderNumber,
    *,
    label: str,
    category: str,
    providers: Sequence[str],
    actor: Any,
) -> None:
    """Change the label, category and providers of a number.

    A provider that uses the number as its default sender keeps it: without it, every
    message of that provider that names no sender would be refused.
    """
    before = _snapshot(sender)
    codes = _known_providers(providers)
    removed = [c for c in sender.provider_codes if c not in codes]
    keeping = sorted(p.code for p in providers_defaulting_to(sender.number) if p.code in removed)
    if keeping:
        raise SenderNumberError(
            "providers",
            N_(
                "%(codes)s uses this number as its default sender; change the provider's "
                "default sender first."
            ),
            codes=", ".join(keeping),
        )
    sender.label = _clean_text(label, "label", LABEL_MAX)
    sender.category = _category(category)
    sender.providers = [row for row in sender.providers if row.provider_code in codes]
    for code in codes:
        _link(sender, code, RegistrationSource.CONSOLE)
    db.session.flush()
    after = _snapshot(sender)
    if before != after:
        record_audit(
            "sender_number.update",
            actor=actor,
            target_type="sender_number",
            target_id=display(sender.number),
            details=_changes_only({"before": before, "after": after}),
        )


_ACTIONS = {
    SenderNumberStatus.VERIFIED: "sender_number.verify",
    SenderNumberStatus.REJECTED: "sender_number.reject",
    SenderNumberStatus.BLOCKED: "sender_number.block",
}


def change_status(
    sender: SenderNumber, status: SenderNumberStatus, *, note: str = "", actor: Any
) -> None:
    """Verify, reject or block a number, recording who and when (audited)."""
    if status is SenderNumberStatus.PENDING:
        raise SenderNumberError("status", N_("Choose verify, reject or block."))
    note = _clean_text(note, "note", NOTE_MAX)
    before = {"sender_status": sender.status, "note": sender.status_note}
    _set_status(sender, status, _actor_label(actor, None), note)
    record_audit(
        _ACTIONS[status],
        actor=actor,
        target_type="sender_number",
        target_id=display(sender.number),
        details={"before": before, "after": {"sender_status": sender.status, "note": note}},
    )


def delete(sender: SenderNumber, *, actor: Any) -> None:
    """Delete a number, unless a provider uses it as its default sender."""
    using = [p.code for p in providers_defaulting_to(sender.number)]
    if using:
        raise SenderNumberError(
            "number",
            N_(
                "%(number)s cannot be deleted: %(codes)s uses it as its default sender. "
                "Change the provider's default sender first."
            ),
            number=display(sender.number),
            codes=", ".join(using),
        )
    record_audit(
        "sender_number.delete",
        actor=actor,
        target_type="sender_number",
        target_id=display(sender.number),
        details={"before": _snapshot(sender)},
    )
    db.session.delete(sender)


def register_default_sender(
    provider: Provider, *, actor: Any = None, actor_label: str | None = None
) -> Registration | None:
    """Register ``provider``'s default sender as verified for it: whoever saves a provider
    with a default sender (an admin, the command line) asserts the vendor registered it.

    :raises SenderNumberError: when the number was rejected or blocked here.
    """
    number = default_sender(provider)
    if not number:
        return None
    source = (
        RegistrationSource.CLI
        if _actor_label(actor, actor_label) == "cli"
        else (RegistrationSource.PROVIDER)
    )
    return register(
        number,
        providers=[provider.code],
        verified=True,
        source=source,
        actor=actor,
        actor_label=actor_label,
    )


def ensure_sandbox_sender(provider: Provider) -> None:
    """At installation: the sandbox's demo sender, verified for it (idempotent)."""
    number = default_sender(provider)
    if not number:
        return
    sender = find(number)
    if sender is not None and provider.code in sender.provider_codes:
        return
    if sender is not None and sender.status in (
        SenderNumberStatus.REJECTED.value,
        SenderNumberStatus.BLOCKED.value,
    ):
        return  # an admin's decision stands
    register(
        number,
        providers=[provider.code],
        label="Sandbox",
        verified=True,
        source=RegistrationSource.BOOTSTRAP,
        actor_label="system",
    )


# -- sync from vendors ----------------------------------------------------------------------


@dataclass
class SyncReport:
    """What a sync did, by number (domestic digits)."""

    added: list[str] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept_refused: list[str] = field(default_factory=list)
    delisted: list[str] = field(default_factory=list)
    not_usable: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


class SyncError(Exception):
    """The vendor could not be asked; ``reason`` is an ``N_()`` template with ``params``."""

    def __init__(self, reason: str, **params: Any) -> None:
        self.reason = reason
        self.params: Mapping[str, Any] = params
        super().__init__(reason % params if params else reason)


def can_sync(provider: Provider) -> bool:
    adapter = ADAPTERS.get(provider.vendor)
    return bool(adapter and adapter.supports_sender_numbers)


def sync_from_provider(
    provider: Provider, *, actor: Any = None, actor_label: str | None = None
) -> SyncReport:
    """Import the numbers ``provider``'s vendor lists as usable, verified by the vendor, and
    mark the ones registered for it that the vendor no longer lists (audited)."""
    if not can_sync(provider):
        raise SyncError(
            N_("%(vendor)s has no API that lists sender numbers."), vendor=provider.vendor
        )
    result = adapter_for(provider).list_sender_numbers()
    if not result.ok:
        error = result.error
        raise SyncError(
            N_("The vendor did not answer the list: %(error)s"),
            error=f"{error.code.value} {error.vendor_code or ''} {error.message}".strip(),
        )
    vendor_label = str(ADAPTERS[provider.vendor].label)
    report = SyncReport()
    listed: set[str] = set()
    for entry in result.value:
        try:
            digits = normalize_number(entry.number)
        except SenderNumberError:
            report.invalid.append(entry.number)
            continue
        if not entry.usable:
            report.not_usable.append(digits)
            continue
        listed.add(digits)
        existing = find(digits)
        was_verified = existing is not None and existing.status == SenderNumberStatus.VERIFIED.value
        refused = existing is not None and existing.status in (
            SenderNumberStatus.REJECTED.value,
            SenderNumberStatus.BLOCKED.value,
        )
        registration = register(
            digits,
            providers=[provider.code],
            verified=not refused,
            source=RegistrationSource.SYNC,
            actor=actor,
            actor_label=actor_label,
            verified_by=vendor_label,
        )
        if registration.created:
            report.added.append(digits)
        elif refused:
            report.kept_refused.append(digits)
        elif not was_verified:
            report.verified.append(digits)
        elif registration.changed:
            report.verified.append(digits)
        else:
            report.unchanged.append(digits)
    now = utcnow()
    rows = db.session.scalars(
        sa.select(SenderNumberProvider).where(
            SenderNumberProvider.provider_code == provider.code,
            SenderNumberProvider.delisted_at.is_(None),
        )
    )
    for row in rows:
        number = row.sender_number.number
        if number not in listed:
            row.delisted_at = now
            report.delisted.append(number)
    db.session.flush()
    record_audit(
        "sender_number.sync",
        actor=actor,
        actor_label=actor_label,
        target_type="provider",
        target_id=provider.code,
        details={
            "added": [display(n) for n in report.added],
            "verified": [display(n) for n in report.verified],
            "delisted": [display(n) for n in report.delisted],
            "not_usable": [display(n) for n in report.not_usable],
        },
    )
    return report
