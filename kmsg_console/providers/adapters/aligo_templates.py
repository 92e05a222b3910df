"""Aligo Kakao template API (``/akv10/template/...``); every call names the sender key.

Review states: REG (registered, not submitted) → REQ (under review) → APR | REJ.
REG is kept apart from REQ as ``TemplateStatus.DRAFT``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kmsg_console.messaging.errors import Acceptance, ErrorCode, SendError
from kmsg_console.messaging.provider import (
    KakaoChannel,
    KakaoTemplate,
    TemplateDraft,
    TemplateStatus,
)
from kmsg_console.messaging.result import Err, Ok, Result

_STATUS = {
    "APR": TemplateStatus.APPROVED,
    "REJ": TemplateStatus.REJECTED,
    "REQ": TemplateStatus.INSPECTION,
    "REG": TemplateStatus.DRAFT,
}


def template_from_aligo(item: dict[str, Any], raw: Any = None) -> KakaoTemplate:
    """Map Aligo's ``templt*`` fields."""
    vendor_status = str(item.get("inspStatus") or "")
    comments = [
        str(c.get("cmtContent", "")) if isinstance(c, dict) else str(c)
        for c in item.get("comments") or []
    ]
    return KakaoTemplate(
        code=str(item.get("templtCode") or ""),
        name=str(item.get("templtName") or ""),
        content=str(item.get("templtContent") or ""),
        status=_STATUS.get(vendor_status, TemplateStatus.PENDING),
        vendor_status=vendor_status or None,
        comments=tuple(comments),
        buttons=tuple(item.get("buttons") or ()),
        created_at=item.get("cdate"),
        raw=raw,
    )


class AligoTemplatesMixin:
    """Template CRUD and inspection requests for :class:`~.aligo.AligoAdapter`."""

    config: dict[str, Any]

    if TYPE_CHECKING:  # provided by AligoAdapter / BaseAdapter

        def _kakao_post(self, path: str, fields: dict[str, Any]) -> Result[Any]: ...
        def redact(self, body: Any) -> Any: ...

    def _template_post(self, path: str, fields: dict[str, Any]) -> Result[Any]:
        sender_key = self.config.get("sender_key")
        if not sender_key:
            return Err(
                SendError.of(
                    ErrorCode.INVALID_REQUEST,
                    "Aligo template calls need the Kakao sender key",
                    accepted=Acceptance.NOT_ACCEPTED,
                )
            )
        return self._kakao_post(path, {"senderkey": sender_key, **fields})

    @staticmethod
    def _buttons(draft: TemplateDraft) -> dict[str, str]:
        if not draft.buttons:
            return {}
        return {
            "tpl_button": json.dumps(
                {"button": [dict(b) for b in draft.buttons]}, ensure_ascii=False
            )
        }

    def _one(self, result: Result[Any]) -> Result[KakaoTemplate]:
        if isinstance(result, Err):
            return result
        data = result.value.get("data") if isinstance(result.value, dict) else None
        if isinstance(data, list):
            data = data[0] if data else None
        if not isinstance(data, dict):
            return Err(
                SendError.of(
                    ErrorCode.PROVIDER_ERROR,
                    "Aligo returned no template",
                    accepted=Acceptance.NOT_ACCEPTED,
                )
            )
        return Ok(template_from_aligo(data, self.redact(data)))

    def list_templates(self) -> Result[list[KakaoTemplate]]:
        """Every template of the configured channel (Aligo does not page)."""
        result = self._template_post("/akv10/template/list/", {})
        if isinstance(result, Err):
            return result
        rows = result.value.get("list") if isinstance(result.value, dict) else None
        return Ok(
            [template_from_aligo(r, self.redact(r)) for r in rows or [] if isinstance(r, dict)]
        )

    def get_template(self, code: str) -> Result[KakaoTemplate]:
        """One template; none → ``TEMPLATE_NOT_FOUND``."""
        result = self._template_post("/akv10/template/list/", {"tpl_code": code})
        if isinstance(result, Err):
            return result
        rows = [r for r in (result.value.get("list") or []) if isinstance(r, dict)]
        row = next((r for r in rows if str(r.get("templtCode")) == str(code)), None)
        if row is None:
            return Err(
                SendError.of(
                    ErrorCode.TEMPLATE_NOT_FOUND,
                    f"Aligo has no template {code}",
                    accepted=Acceptance.NOT_ACCEPTED,
                )
            )
        return Ok(template_from_aligo(row, self.redact(row)))

    def create_template(self, draft: TemplateDraft) -> Result[KakaoTemplate]:
        """Register a template (REG); call :meth:`request_template_inspection` to submit it."""
        return self._one(
            self._template_post(
                "/akv10/template/add/",
                {"tpl_name": draft.name, "tpl_content": draft.content, **self._buttons(draft)},
            )
        )

    def update_template(self, code: str, draft: TemplateDraft) -> Result[KakaoTemplate]:
        """Change a REG or REJ template."""
        return self._one(
            self._template_post(
                "/akv10/template/modify/",
                {
                    "tpl_code": code,
                    "tpl_name": draft.name,
                    "tpl_content": draft.content,
                    **self._buttons(draft),
                },
            )
        )

    def delete_template(self, code: str) -> Result[None]:
        """Delete a template that is not under review."""
        result = self._template_post("/akv10/template/del/", {"tpl_code": code})
        return result if isinstance(result, Err) else Ok(None)

    def request_template_inspection(self, code: str) -> Result[None]:
        """Submit a template to Kakao's review (REG/REJ → REQ)."""
        result = self._template_post("/akv10/template/request/", {"tpl_code": code})
        return result if isinstance(result, Err) else Ok(None)

    # -- channels (sender profiles) ------------------------------------------------------
    def list_kakao_channels(self) -> Result[list[KakaoChannel]]:
        """Every channel of the account (``/akv10/profile/list/``; no sender key needed).

        Entries without a senderKey (a channel whose auth number was asked for but that is
        not registered yet) are left out, as k-msg does. The vendor status keeps both of
        Aligo's codes, ``status/profileStat`` (``A/A`` for an active channel).
        """
        result = self._kakao_post("/akv10/profile/list/", {})
        if isinstance(result, Err):
            return result
        rows = result.value.get("list") if isinstance(result.value, dict) else None
        if not isinstance(rows, list):
            return Err(
                SendError.of(
                    ErrorCode.PROVIDER_ERROR,
                    "Aligo returned no profile list",
                    accepted=Acceptance.NOT_ACCEPTED,
                )
            )
        channels = []
        for row in rows:
            if not isinstance(row, dict) or not row.get("senderKey"):
                continue
            codes = [str(row[k]) for k in ("status", "profileStat") if row.get(k)]
            channels.append(
                KakaoChannel(
                    key=str(row["senderKey"]),
                    plus_id=str(row.get("uuid") or "") or None,
                    name=str(row.get("name") or "") or None,
                    vendor_status="/".join(codes) or None,
                    raw=self.redact(row),
                )
            )
        return Ok(channels)
