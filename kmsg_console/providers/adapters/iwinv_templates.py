"""IWINV AlimTalk template API (``/api/template/...``), same ``AUTH`` header as sends.

A new IWINV template goes straight to Kakao inspection (status ``I``); there
is no separate "request inspection" call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kmsg_console.messaging.errors import Acceptance, ErrorCode, SendError
from kmsg_console.messaging.provider import KakaoTemplate, TemplateDraft, TemplateStatus
from kmsg_console.messaging.result import Err, Ok, Result

_STATUS = {
    "Y": TemplateStatus.APPROVED,
    "I": TemplateStatus.INSPECTION,
    "R": TemplateStatus.REJECTED,
}


def template_from_iwinv(item: dict[str, Any], raw: Any = None) -> KakaoTemplate:
    """Map an IWINV template row (codes may arrive as numbers)."""
    vendor_status = str(item.get("status") or "")
    comments = [
        str(c) for c in (item.get("templateStatusMsg"), item.get("templateStatusComments")) if c
    ]
    return KakaoTemplate(
        code=str(item.get("templateCode") or ""),
        name=str(item.get("templateName") or ""),
        content=str(item.get("templateContent") or ""),
        status=_STATUS.get(vendor_status, TemplateStatus.PENDING),
        vendor_status=vendor_status or None,
        comments=tuple(comments),
        buttons=tuple(item.get("buttons") or ()),
        created_at=item.get("createDate"),
        raw=raw,
    )


class IwinvTemplatesMixin:
    """Template CRUD for :class:`~.iwinv.IwinvAdapter`."""

    if TYPE_CHECKING:  # provided by IwinvAdapter / BaseAdapter

        def _post(self, api: str, path: str, body: dict[str, Any]) -> Any: ...
        def _interpret(self, reply: Any, api: str) -> Result[Any]: ...
        def redact(self, body: Any) -> Any: ...

    def _template_call(self, path: str, body: dict[str, Any]) -> Result[Any]:
        return self._interpret(self._post("alimtalk", path, body), "alimtalk")

    def list_templates(self) -> Result[list[KakaoTemplate]]:
        """Every template of the account (the vendor allows pages of up to 1000)."""
        result = self._template_call("/api/template/", {"pageNum": "1", "pageSize": "1000"})
        if isinstance(result, Err):
            return result
        rows = result.value.get("list") if isinstance(result.value, dict) else None
        return Ok(
            [template_from_iwinv(r, self.redact(r)) for r in rows or [] if isinstance(r, dict)]
        )

    def get_template(self, code: str) -> Result[KakaoTemplate]:
        """One template; an empty list is ``TEMPLATE_NOT_FOUND``."""
        result = self._template_call(
            "/api/template/", {"pageNum": "1", "pageSize": "15", "templateCode": code}
        )
        if isinstance(result, Err):
            return result
        rows = [r for r in (result.value.get("list") or []) if isinstance(r, dict)]
        row = next((r for r in rows if str(r.get("templateCode")) == str(code)), None)
        if row is None:
            return Err(
                SendError.of(
                    ErrorCode.TEMPLATE_NOT_FOUND,
                    f"IWINV has no template {code}",
                    accepted=Acceptance.NOT_ACCEPTED,
                )
            )
        return Ok(template_from_iwinv(row, self.redact(row)))

    def create_template(self, draft: TemplateDraft) -> Result[KakaoTemplate]:
        """Register a template; IWINV submits it for inspection at once."""
        body: dict[str, Any] = {"templateName": draft.name, "templateContent": draft.content}
        if draft.buttons:
            body["buttons"] = [
                dict(b) for b in draft.buttons
            ]  # vendor shape: type, name, linkMo, linkPc…
        result = self._template_call("/api/template/add/", body)
        if isinstance(result, Err):
            return result
        code = result.value.get("templateCode") if isinstance(result.value, dict) else None
        if code in (None, ""):
            return Err(
                SendError.of(
                    ErrorCode.PROVIDER_ERROR,
                    "IWINV created a template but returned no code",
                    accepted=Acceptance.NOT_ACCEPTED,
                )
            )
        return Ok(
            KakaoTemplate(
                str(code),
                draft.name,
                draft.content,
                TemplateStatus.INSPECTION,
                "I",
                buttons=tuple(draft.buttons),
                raw=self.redact(result.value),
            )
        )

    def update_template(self, code: str, draft: TemplateDraft) -> Result[KakaoTemplate]:
        """Change a template (it goes back to inspection), then read it back."""
        body: dict[str, Any] = {
            "templateCode": code,
            "templateName": draft.name,
            "templateContent": draft.content,
            "buttons": [dict(b) for b in draft.buttons],
        }
        result = self._template_call("/api/template/modify/", body)
        if isinstance(result, Err):
            return result
        return self.get_template(code)

    def delete_template(self, code: str) -> Result[None]:
        """Delete a template."""
        result = self._template_call("/api/template/delete/", {"templateCode": code})
        return result if isinstance(result, Err) else Ok(None)
