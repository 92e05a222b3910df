"""Importing vendors' block lists (SOLAPI's 수신 거부) into the opt-out list.

A vendor that keeps its own block list (a provider whose adapter has
``supports_block_lists``: SOLAPI) is read whole: its block groups, then its blocked numbers.
Each number in at least one active group becomes an opt-out with source ``vendor``, scoped
to the 080 line its group names (one of the group's sender numbers, or its name), else
global: a group that applies to every sender number (``useAll``) or names no 080 line blocks
all of the account's advertising. A number whose groups are all inactive is skipped (the
vendor no longer blocks it); one in no group at all is taken as global. Nothing is ever
removed: a number the vendor unblocked stays on the console's list until an operator takes
it off. One audit row records the counts.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass
from typing import Any

from kmsg_console.audit.services import record_audit
from kmsg_console.messaging.errors import SendError
from kmsg_console.messaging.phone import InvalidPhoneNumber, normalize_opt_out_line
from kmsg_console.messaging.result import Err
from kmsg_console.opt_outs.models import GLOBAL_SCOPE, OptOutSource
from kmsg_console.opt_outs.services import OptOutError, _insert
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.models import Provider

logger = logging.getLogger(__name__)

#: An 080 line written in a group's name ("080-123-4567 광고 수신거부").
_LINE_IN_TEXT = re.compile(r"(?<!\d)(?:\+?82[\s-]?)?0?80[\s-]?\d{3,4}[\s-]?\d{4}(?!\d)")


class SyncFailed(Exception):
    """The vendor's list could not be read; ``error`` is the adapter's normalized error."""

    def __init__(self, error: SendError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass
class SyncReport:
    """What a sync of one provider did (counts only, never numbers)."""

    provider: str
    listed: int = 0
    added: int = 0
    present: int = 0
    invalid: int = 0
    skipped: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def supports_block_lists(provider: Provider) -> bool:
    from kmsg_console.providers.adapters.registry import ADAPTERS

    adapter = ADAPTERS.get(provider.vendor)
    return bool(getattr(adapter, "supports_block_lists", False))


def block_list_providers() -> list[Provider]:
    """Enabled providers whose vendor keeps a block list the console can read."""
    return [p for p in provider_services.enabled_providers() if supports_block_lists(p)]


def _line(text: str) -> str | None:
    try:
        return normalize_opt_out_line(text)
    except InvalidPhoneNumber:
        return None


def group_scope(group: Any) -> str:
    """The opt-out scope of a vendor block group: its 080 line, else global."""
    if group.use_all:
        return GLOBAL_SCOPE
    for number in group.sender_numbers:
        line = _line(number)
        if line:
            return line
    for found in _LINE_IN_TEXT.finditer(group.name or ""):
        line = _line(found.group(0))
        if line:
            return line
    return GLOBAL_SCOPE


def _unwrap(result: Any) -> Any:
    if isinstance(result, Err):
        raise SyncFailed(result.error)
    return result.value


def sync_provider(
    provider: Provider, *, actor: Any = None, actor_label: str | None = None
) -> SyncReport:
    """Import ``provider``'s block list; the caller commits.

    :raises SyncFailed: when the vendor's lists cannot be read (nothing is added).
    """
    adapter = provider_services.adapter_for(provider)
    groups = {g.id: g for g in _unwrap(adapter.list_block_groups())}
    numbers = _unwrap(adapter.list_blocked_numbers())
    report = SyncReport(provider=provider.code, listed=len(numbers))
    created_by = actor_label or getattr(actor, "email", None) or "system"
    note = f"{provider.name} ({provider.code})"[:200]
    for number in numbers:
        known = [groups[g] for g in number.group_ids if g in groups]
        active = [g for g in known if g.active]
        if number.group_ids and known and not active:
            report.skipped += 1
            continue
        scopes = sorted({group_scope(g) for g in active}) or [GLOBAL_SCOPE]
        for scope in scopes:
            try:
                result = _insert(number.phone, scope, note, OptOutSource.VENDOR, created_by)
            except OptOutError:
                report.invalid += 1
                break
            if result.created:
                report.added += 1
            else:
                report.present += 1
    record_audit(
        "opt_out.sync",
        actor=actor,
        actor_label=actor_label,
        target_type="opt_out",
        target_id=provider.code,
        details={
            "provider": provider.code,
            "added": report.added,
            "already_present": report.present,
            "invalid_rows": report.invalid,
            "skipped": report.skipped,
        },
    )
    logger.info("opt-out sync: %s", report.as_dict())
    return report
