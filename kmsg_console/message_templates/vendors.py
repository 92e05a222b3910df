"""Template operations per provider: the vendor adapters, or the database for the sandbox.

A gateway turns the console's template into each vendor's payload (button shapes differ:
SOLAPI ``buttonType``/``linkMo``, IWINV ``type`` with ``DB`` for delivery tracking, Aligo
``linkType``) and the vendor's answer into a :class:`VendorTemplate` with the normalized
status. Failures raise :class:`VendorError` carrying the normalized error.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.messaging.errors import ErrorCode, SendError
from kmsg_console.messaging.provider import (
    KakaoCategory,
    KakaoTemplate,
    TemplateDraft,
    TemplateProvider,
    TemplateStatus,
)
from kmsg_console.messaging.result import Err, Result
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.models import Provider

from .lifecycle import EDIT_RESULT
from .models import EmphasisType, KakaoMessageType, MessageTemplate, ReviewStatus

logger = logging.getLogger(__name__)

_STATUS = {
    TemplateStatus.DRAFT: ReviewStatus.REGISTERED,  # Aligo REG
    TemplateStatus.PENDING: ReviewStatus.REGISTERED,  # SOLAPI PENDING
    TemplateStatus.INSPECTION: ReviewStatus.INSPECTING,
    TemplateStatus.APPROVED: ReviewStatus.APPROVED,
    TemplateStatus.REJECTED: ReviewStatus.REJECTED,
}
#: Where each vendor keeps the configured Kakao channel in the provider settings.
CHANNEL_SETTING = {"solapi": "kakao_pf_id", "aligo": "sender_key"}
_ALIGO_LINK_NAMES = {
    "WL": "웹링크",
    "AL": "앱링크",
    "DS": "배송조회",
    "BK": "봇키워드",
    "MD": "메시지전달",
}


@dataclass(frozen=True)
class VendorTemplate:
    """A template as the vendor (or the sandbox) describes it, with the normalized status."""

    code: str
    name: str
    content: str
    status: ReviewStatus
    vendor_status: str | None = None
    comments: tuple[str, ...] = ()


class VendorError(Exception):
    """The vendor refused or could not be reached; ``error`` is the normalized error."""

    def __init__(self, error: SendError) -> None:
        super().__init__(error.message)
        self.error = error

    @property
    def not_found(self) -> bool:
        return self.error.code is ErrorCode.TEMPLATE_NOT_FOUND


class Gateway(Protocol):
    supports_inspection: bool

    def create(self, data: Any) -> VendorTemplate: ...
    def update(self, code: str, data: Any, status: ReviewStatus) -> VendorTemplate: ...
    def delete(self, code: str) -> None: ...
    def request_inspection(self, code: str) -> VendorTemplate: ...
    def get(self, code: str) -> VendorTemplate: ...
    def list(self) -> list[VendorTemplate]: ...


def configured_channel(provider: Provider | None) -> str | None:
    """The Kakao channel the provider's settings name (pfId / senderKey), if any."""
    if provider is None or provider.vendor not in CHANNEL_SETTING:
        return None
    return (provider.settings or {}).get(CHANNEL_SETTING[provider.vendor]) or None


def supports_templates(provider: Provider) -> bool:
    """True for providers whose templates the console can manage."""
    if provider.vendor == "sandbox":
        return True
    from kmsg_console.providers.adapters.registry import ADAPTERS

    cls = ADAPTERS.get(provider.vendor)
    return cls is not None and all(
        hasattr(cls, m) for m in ("create_template", "get_template", "list_templates")
    )


@dataclass(frozen=True)
class CategoryChoices:
    """The Kakao categories the template form offers for a provider.

    ``options`` is empty when the vendor keeps no list (the code is typed, if it takes one)
    or when the list could not be read; ``unreachable`` tells the two apart.
    """

    options: tuple[KakaoCategory, ...] = ()
    unreachable: bool = False


def kakao_categories(provider: Provider | None) -> CategoryChoices:
    """Ask ``provider``'s vendor for Kakao's template categories (SOLAPI lists them)."""
    if provider is None or provider.vendor == "sandbox":
        return CategoryChoices()
    adapter = provider_services.adapter_for(provider)
    lister = getattr(adapter, "list_template_categories", None)
    if lister is None:
        return CategoryChoices()
    result = lister()
    if isinstance(result, Err):
        logger.warning(
            "template categories of %s could not be read: %s", provider.code, result.error.code
        )
        return CategoryChoices(unreachable=True)
    return CategoryChoices(tuple(result.value))


def gateway_for(provider: Provider) -> Gateway:
    """The gateway of ``provider`` (the sandbox keeps its templates in this database)."""
    if provider.vendor == "sandbox":
        return SandboxGateway(provider)
    adapter = provider_services.adapter_for(provider)
    if not isinstance(adapter, TemplateProvider):
        raise VendorError(
            SendError.of(ErrorCode.INVALID_REQUEST, f"{provider.vendor} has no template API")
        )
    return AdapterGateway(provider.vendor, adapter)


# -- payloads -------------------------------------------------------------------------------


def _links(button: dict[str, str], names: tuple[str, str, str, str]) -> dict[str, str]:
    keys = ("link_mobile", "link_pc", "link_ios", "link_android")
    return {
        vendor_key: button[key]
        for key, vendor_key in zip(keys, names, strict=True)
        if button.get(key)
    }


def vendor_buttons(vendor: str, buttons: list[dict[str, str]]) -> list[dict[str, str]]:
    """The console's buttons in ``vendor``'s shape."""
    shaped = []
    for b in buttons:
        if vendor == "solapi":
            shaped.append(
                {
                    "buttonName": b["name"],
                    "buttonType": b["type"],
                    **_links(b, ("linkMo", "linkPc", "linkIos", "linkAnd")),
                }
            )
        elif vendor == "iwinv":
            shaped.append(
                {
                    "type": "DB" if b["type"] == "DS" else b["type"],
                    "name": b["name"],
                    **_links(b, ("linkMo", "linkPc", "linkIos", "linkAnd")),
                }
            )
        else:  # aligo
            shaped.append(
                {
                    "name": b["name"],
                    "linkType": b["type"],
                    "linkTypeName": _ALIGO_LINK_NAMES[b["type"]],
                    **_links(b, ("linkMo", "linkPc", "linkIos", "linkAnd")),
                }
            )
    return shaped


def draft_for(vendor: str, data: Any, *, creating: bool) -> TemplateDraft:
    """A :class:`TemplateDraft` for ``vendor`` from a template or :class:`TemplateData`."""
    extra: dict[str, Any] = {}
    if vendor == "solapi":
        extra = {
            "messageType": data.message_type,
            "emphasizeType": data.emphasis_type,
            "securityFlag": bool(data.security_flag),
        }
        if data.emphasis_type == EmphasisType.TEXT.value:
            extra.update(
                emphasizeTitle=data.emphasis_title, emphasizeSubTitle=data.emphasis_subtitle or ""
            )
        if data.message_type in (KakaoMessageType.EX.value, KakaoMessageType.MI.value):
            extra["extra"] = data.extra_info
        if creating and data.sender_profile:
            extra["channelId"] = data.sender_profile
    return TemplateDraft(
        name=data.name,
        content=data.content,
        buttons=tuple(vendor_buttons(vendor, data.buttons)),
        category_code=data.category_code if vendor == "solapi" else None,
        extra=extra,
    )


# -- adapters -------------------------------------------------------------------------------


def _unwrap(result: Result[Any]) -> Any:
    if isinstance(result, Err):
        raise VendorError(result.error)
    return result.value


def normalize(vendor: str, template: KakaoTemplate) -> VendorTemplate:
    """Map the adapter's :class:`KakaoTemplate` onto the console's status vocabulary."""
    raw = template.raw if isinstance(template.raw, dict) else {}
    status = _STATUS[template.status]
    if (
        str(raw.get("dormant", "")).upper() == "Y"
        or (template.vendor_status or "").upper() == "DORMANT"
    ):
        status = ReviewStatus.DORMANT
    comments = tuple(c for c in template.comments if c)
    if vendor == "iwinv":  # the adapter also passes the status name ("반려") as a comment
        comments = tuple(c for c in (raw.get("templateStatusComments"),) if c) or comments[1:]
    return VendorTemplate(
        template.code, template.name, template.content, status, template.vendor_status, comments
    )


class AdapterGateway:
    """Template operations through a vendor adapter."""

    def __init__(self, vendor: str, adapter: Any) -> None:
        self.vendor = vendor
        self.adapter = adapter
        self.supports_inspection = hasattr(adapter, "request_template_inspection")

    def create(self, data: Any) -> VendorTemplate:
        return normalize(
            self.vendor,
            _unwrap(self.adapter.create_template(draft_for(self.vendor, data, creating=True))),
        )

    def update(self, code: str, data: Any, status: ReviewStatus) -> VendorTemplate:
        result = _unwrap(
            self.adapter.update_template(code, draft_for(self.vendor, data, creating=False))
        )
        if result is None:
            return self.get(code)
        return normalize(self.vendor, result)

    def delete(self, code: str) -> None:
        _unwrap(self.adapter.delete_template(code))

    def request_inspection(self, code: str) -> VendorTemplate:
        result = _unwrap(self.adapter.request_template_inspection(code))
        return normalize(self.vendor, result) if result is not None else self.get(code)

    def get(self, code: str) -> VendorTemplate:
        return normalize(self.vendor, _unwrap(self.adapter.get_template(code)))

    def list(self) -> list[VendorTemplate]:
        return [normalize(self.vendor, t) for t in _unwrap(self.adapter.list_templates())]


# -- sandbox --------------------------------------------------------------------------------


class SandboxGateway:
    """The sandbox's "vendor side" is the template row itself; an operator does the review."""

    supports_inspection = True

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    def _row(self, code: str) -> MessageTemplate:
        row = db.session.scalar(
            sa.select(MessageTemplate).where(
                MessageTemplate.provider_id == self.provider.id,
                MessageTemplate.vendor_code == code,
                MessageTemplate.status != ReviewStatus.DELETED.value,
            )
        )
        if row is None:
            raise VendorError(
                SendError.of(ErrorCode.TEMPLATE_NOT_FOUND, f"sandbox has no template {code}")
            )
        return row

    @staticmethod
    def _view(row: MessageTemplate, status: ReviewStatus | None = None) -> VendorTemplate:
        status = status or row.status_enum or ReviewStatus.REGISTERED
        return VendorTemplate(
            row.vendor_code or "",
            row.name,
            row.content,
            status,
            status.value.upper(),
            tuple(row.review_comments or ()),
        )

    def create(self, data: Any) -> VendorTemplate:
        code = f"SBX{uuid.uuid4().hex[:12].upper()}"
        return VendorTemplate(code, data.name, data.content, ReviewStatus.REGISTERED, "REGISTERED")

    def update(self, code: str, data: Any, status: ReviewStatus) -> VendorTemplate:
        self._row(code)
        after = EDIT_RESULT["sandbox"][status]
        return VendorTemplate(code, data.name, data.content, after, after.value.upper())

    def delete(self, code: str) -> None:
        self._row(code)

    def request_inspection(self, code: str) -> VendorTemplate:
        return self._view(self._row(code), ReviewStatus.INSPECTING)

    def get(self, code: str) -> VendorTemplate:
        return self._view(self._row(code))

    def list(self) -> list[VendorTemplate]:
        rows = db.session.scalars(
            sa.select(MessageTemplate).where(
                MessageTemplate.provider_id == self.provider.id,
                MessageTemplate.vendor_code.is_not(None),
                MessageTemplate.status != ReviewStatus.DELETED.value,
            )
        )
        return [self._view(row) for row in rows]
