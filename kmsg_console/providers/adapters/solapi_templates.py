"""SOLAPI Kakao template API (``/kakao/v2/templates``), same HMAC auth as sends.

K-Message does not wire these calls (facts §4.4); the console uses them to
register AlimTalk templates and follow their review.

SOLAPI's flow: a new template is PENDING ("검수 대기", waiting for inspection) until the owner
requests inspection with ``PUT /kakao/v2/templates/{id}/inspection``; Kakao then approves or
rejects it. Facts §4.4 lists only the cancel of that request and npm ``solapi`` 6.0.1 has no
method for it, but SOLAPI's Kotlin SDK calls it (``requestKakaoAlimtalkTemplateInspection``),
npm ``solapi`` 5.1.1-5.4 did (``requestInspectionKakaoAlimtalkTemplate``, lost in the 5.5
restructure while the SDK's example ``inspect_template.js`` still calls it), and so did the v1
API (``PUT /kakao/v1/templates/:templateId/inspection`` in SOLAPI's API reference).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kmsg_console.messaging.errors import Acceptance, ErrorCode, SendError
from kmsg_console.messaging.provider import (
    KakaoCategory,
    KakaoChannel,
    KakaoTemplate,
    TemplateDraft,
    TemplateStatus,
)
from kmsg_console.messaging.result import Err, Ok, Result

#: Pages read at most when listing channels (500 channels; an account has a handful).
_CHANNEL_PAGES = 5

_STATUS = {
    "PENDING": TemplateStatus.PENDING,
    "INSPECTING": TemplateStatus.INSPECTION,
    "APPROVED": TemplateStatus.APPROVED,
    "REJECTED": TemplateStatus.REJECTED,
}


def template_from_solapi(item: dict[str, Any], raw: Any = None) -> KakaoTemplate:
    """Map SOLAPI's template object."""
    comments = [
        str(c.get("content", "")) for c in item.get("comments") or [] if isinstance(c, dict)
    ]
    vendor_status = str(item.get("status") or "")
    return KakaoTemplate(
        code=str(item.get("templateId") or ""),
        name=str(item.get("name") or ""),
        content=str(item.get("content") or ""),
        status=_STATUS.get(vendor_status, TemplateStatus.PENDING),
        vendor_status=vendor_status or None,
        comments=tuple(comments),
        buttons=tuple(item.get("buttons") or ()),
        created_at=item.get("dateCreated"),
        raw=raw,
    )


class SolapiTemplatesMixin:
    """Template CRUD and inspection for :class:`~.solapi.SolapiAdapter`."""

    config: dict[str, Any]

    if (
        TYPE_CHECKING
    ):  # provided by SolapiAdapter / BaseAdapter; declared here for type checkers only

        def _call(self, method: str, path: str, **kwargs: Any) -> Any: ...
        def _read(self, reply: Any) -> Result[Any]: ...
        def redact(self, body: Any) -> Any: ...

    def _template(self, result: Result[Any]) -> Result[KakaoTemplate]:
        if isinstance(result, Err):
            return result
        if not isinstance(result.value, dict):
            return Err(
                SendError.of(
                    ErrorCode.PROVIDER_ERROR,
                    "SOLAPI returned no template",
                    accepted=Acceptance.NOT_ACCEPTED,
                )
            )
        return Ok(template_from_solapi(result.value, self.redact(result.value)))

    def _draft_body(self, draft: TemplateDraft) -> dict[str, Any]:
        body: dict[str, Any] = {"name": draft.name, "content": draft.content, **dict(draft.extra)}
        if draft.buttons:
            body["buttons"] = [
                dict(b) for b in draft.buttons
            ]  # SOLAPI shape: buttonName, buttonType, linkMo…
        if draft.category_code:
            body["categoryCode"] = draft.category_code
        return body

    def list_templates(self) -> Result[list[KakaoTemplate]]:
        """Templates of the configured channel (first 500)."""
        params: dict[str, Any] = {"limit": 500}
        if self.config.get("kakao_pf_id"):
            params["channelId"] = self.config["kakao_pf_id"]
        result = self._read(self._call("GET", "/kakao/v2/templates", params=params))
        if isinstance(result, Err):
            return result
        items = result.value.get("templateList") if isinstance(result.value, dict) else None
        return Ok(
            [template_from_solapi(i, self.redact(i)) for i in items or [] if isinstance(i, dict)]
        )

    def list_template_categories(self) -> Result[list[KakaoCategory]]:
        """Kakao's template categories, whose codes a template's ``categoryCode`` takes."""
        result = self._read(self._call("GET", "/kakao/v2/templates/categories"))
        if isinstance(result, Err):
            return result
        rows = result.value if isinstance(result.value, list) else None
        categories = [
            KakaoCategory(str(row["code"]), str(row.get("name") or row["code"]))
            for row in rows or []
            if isinstance(row, dict) and row.get("code")
        ]
        if not categories:  # an answer without the list is not "no categories"
            return Err(
                SendError.of(
                    ErrorCode.PROVIDER_ERROR,
                    "SOLAPI returned no template categories",
                    accepted=Acceptance.NOT_ACCEPTED,
                )
            )
        return Ok(categories)

    def get_template(self, code: str) -> Result[KakaoTemplate]:
        """One template; a 404 becomes ``TEMPLATE_NOT_FOUND``."""
        result = self._read(self._call("GET", f"/kakao/v2/templates/{code}"))
        if isinstance(result, Err) and result.error.http_status == 404:
            return Err(
                SendError.of(
                    ErrorCode.TEMPLATE_NOT_FOUND,
                    result.error.message,
                    accepted=Acceptance.NOT_ACCEPTED,
                    vendor_code=result.error.vendor_code,
                    vendor_text=result.error.vendor_text,
                    http_status=404,
                )
            )
        return self._template(result)

    def create_template(self, draft: TemplateDraft) -> Result[KakaoTemplate]:
        """Register a template on the configured channel (PENDING until inspection is requested)."""
        body = self._draft_body(draft)
        body.setdefault("channelId", self.config.get("kakao_pf_id"))
        return self._template(self._read(self._call("POST", "/kakao/v2/templates", json=body)))

    def update_template(self, code: str, draft: TemplateDraft) -> Result[KakaoTemplate]:
        """Change a PENDING or REJECTED template (it goes back to PENDING)."""
        return self._template(
            self._read(
                self._call("PUT", f"/kakao/v2/templates/{code}", json=self._draft_body(draft))
            )
        )

    def delete_template(self, code: str) -> Result[None]:
        """Delete a PENDING or REJECTED template; SOLAPI refuses to delete any other."""
        result = self._read(self._call("DELETE", f"/kakao/v2/templates/{code}"))
        return result if isinstance(result, Err) else Ok(None)

    def request_template_inspection(self, code: str) -> Result[KakaoTemplate]:
        """Submit a template to Kakao's review."""
        return self._template(
            self._read(self._call("PUT", f"/kakao/v2/templates/{code}/inspection"))
        )

    # -- channels (sender profiles) ------------------------------------------------------
    def list_kakao_channels(self) -> Result[list[KakaoChannel]]:
        """The account's linked Kakao channels (``GET /kakao/v2/channels``, every page).

        SOLAPI's channel object carries no status: a channel it lists is linked and usable,
        so the status is left ``None`` and the caller treats "listed" as active.
        """
        channels: list[KakaoChannel] = []
        params: dict[str, Any] = {"limit": 100}
        for _page in range(_CHANNEL_PAGES):
            result = self._read(self._call("GET", "/kakao/v2/channels", params=params))
            if isinstance(result, Err):
                return result
            body = result.value if isinstance(result.value, dict) else {}
            rows = body.get("channelList")
            if not isinstance(rows, list):
                return Err(
                    SendError.of(
                        ErrorCode.PROVIDER_ERROR,
                        "SOLAPI returned no channel list",
                        accepted=Acceptance.NOT_ACCEPTED,
                    )
                )
            for row in rows:
                if isinstance(row, dict) and row.get("channelId"):
                    search_id = str(row.get("searchId") or "")
                    channels.append(
                        KakaoChannel(
                            key=str(row["channelId"]),
                            plus_id=f"@{search_id.lstrip('@')}" if search_id else None,
                            raw=self.redact(row),
                        )
                    )
            if not body.get("nextKey"):
                break
            params = {**params, "startKey": body["nextKey"]}
        return Ok(channels)
