"""Review-status sync: one template, one provider, or everything (the worker's job).

Several vendors have no review webhook, so the console asks: one list call per provider,
then a single ``get`` for each known template the list did not show (to tell "deleted at
the vendor" from "beyond the first page"). Templates the vendor has and the console does
not are imported, so approved templates registered elsewhere can be sent too.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.orm import utcnow
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.models import Provider

from . import vendors
from .lifecycle import Action
from .models import MessageTemplate, ReviewStatus, TemplateKind
from .services import IMPORTED, NOT_AT_VENDOR, _apply_vendor, _audit, _event, _refused, _require
from .validation import variables_of

logger = logging.getLogger(__name__)

_SKIPPED = (ReviewStatus.DRAFT.value, ReviewStatus.DELETED.value)


@dataclass
class SyncSummary:
    """What a sync found; ``errors`` names providers or templates it could not read."""

    providers: int = 0
    checked: int = 0
    changed: int = 0
    imported: int = 0
    deleted: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: SyncSummary) -> None:
        for name in ("providers", "checked", "changed", "imported", "deleted"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _mark_gone(template: MessageTemplate, actor: Any) -> None:
    before = template.status
    template.status = ReviewStatus.DELETED.value
    template.status_changed_at = utcnow()
    _event(
        template,
        "status",
        NOT_AT_VENDOR,
        actor=actor,
        from_status=before,
        to_status=template.status,
    )


def _take(template: MessageTemplate, found: vendors.VendorTemplate | None, actor: Any) -> bool:
    template.last_synced_at = utcnow()
    if found is None:
        _mark_gone(template, actor)
        return True
    return _apply_vendor(template, found, actor=actor)


def sync_template(template: MessageTemplate, *, actor: Any = None) -> bool:
    """Read one template's status and comments from its vendor; True when something changed.

    :raises TemplateError: when syncing is not possible in this state or the vendor fails.
    """
    _require(template, Action.SYNC)
    try:
        found = vendors.gateway_for(template.provider).get(template.vendor_code)
    except vendors.VendorError as exc:
        if not exc.not_found:
            raise _refused(template, "sync", exc, actor) from exc
        found = None
    changed = _take(template, found, actor)
    if changed or actor is not None:
        _audit("sync", template, actor, changed=changed, status=template.status)
    return changed


def _import(provider: Provider, found: vendors.VendorTemplate) -> MessageTemplate:
    template = MessageTemplate(
        kind=TemplateKind.ALIMTALK.value,
        name=found.name[:100] or found.code,
        content=found.content,
        provider=provider,
        sender_profile=vendors.configured_channel(provider),
        vendor_code=found.code,
        status=found.status.value,
        vendor_status=found.vendor_status,
        review_comments=list(found.comments),
        variables=variables_of(found.content),
        buttons=[],
        sample_values={},
        status_changed_at=utcnow(),
        last_synced_at=utcnow(),
    )
    db.session.add(template)
    _event(template, "imported", IMPORTED, to_status=template.status)
    return template


def sync_provider(provider: Provider, *, actor: Any = None) -> SyncSummary:
    """Sync every template of ``provider`` and import the ones only the vendor knows."""
    summary = SyncSummary(providers=1)
    gateway = vendors.gateway_for(provider)
    listed = {t.code: t for t in gateway.list()}
    local = db.session.scalars(
        sa.select(MessageTemplate).where(
            MessageTemplate.provider_id == provider.id, MessageTemplate.vendor_code.is_not(None)
        )
    ).all()
    known = {t.vendor_code for t in local}
    for template in local:
        if template.status in _SKIPPED:
            continue
        summary.checked += 1
        found = listed.get(template.vendor_code)
        if found is None:
            try:
                found = gateway.get(template.vendor_code)
            except vendors.VendorError as exc:
                if not exc.not_found:
                    summary.errors.append(
                        f"{provider.code}/{template.vendor_code}: {exc.error.code.value}"
                    )
                    continue
        if _take(template, found, actor):
            summary.changed += 1
            summary.deleted += template.status == ReviewStatus.DELETED.value
            _audit("sync", template, actor, status=template.status)
    for code, found in listed.items():
        if code not in known:
            _audit("import", _import(provider, found), actor, status=found.status.value)
            summary.imported += 1
    db.session.flush()
    return summary


def template_providers() -> list[Provider]:
    """Enabled providers whose templates the console manages."""
    return [p for p in provider_services.enabled_providers() if vendors.supports_templates(p)]


def sync_all_templates() -> SyncSummary:
    """Sync every provider, committing after each one (the worker and the CLI call this).

    One provider failing (network, credentials) does not stop the others; it is reported
    in ``errors`` and logged.
    """
    summary = SyncSummary()
    for provider in template_providers():
        code = provider.code
        try:
            summary.add(sync_provider(provider))
            db.session.commit()
        except vendors.VendorError as exc:
            db.session.rollback()
            summary.errors.append(f"{code}: {exc.error.code.value}")
            logger.warning("template sync of provider %s failed: %s", code, exc.error.code.value)
    logger.info("template sync: %s", summary.as_dict())
    return summary
