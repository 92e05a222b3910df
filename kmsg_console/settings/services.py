"""Reading and changing console-wide settings; every change is audited."""

from __future__ import annotations

from typing import Any

from kmsg_console.audit.services import record_audit
from kmsg_console.extensions import db
from kmsg_console.settings.models import ConsoleSetting


def get(key: str, default: Any = None) -> Any:
    """The saved value of ``key``, or ``default`` when it was never set."""
    row = db.session.get(ConsoleSetting, key)
    return default if row is None or row.value is None else row.value


def put(
    key: str, value: Any, *, actor: Any, default: Any = None, actor_label: str | None = None
) -> bool:
    """Save ``value`` under ``key`` (audited when it changes); True when something changed."""
    row = db.session.get(ConsoleSetting, key)
    before = default if row is None or row.value is None else row.value
    if before == value:
        return False
    if row is None:
        row = ConsoleSetting(key=key)
        db.session.add(row)
    row.value = value
    row.updated_by = (actor_label or getattr(actor, "email", None) or "system")[:255]
    record_audit(
        "setting.update",
        actor=actor,
        actor_label=actor_label,
        target_type="setting",
        target_id=key,
        details={"before": {key: before}, "after": {key: value}},
    )
    return True
