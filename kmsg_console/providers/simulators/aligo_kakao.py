"""Aligo Kakao API simulator: AlimTalk templates (kmsg-facts §2.3, §4.3).

Review: REG (registered) -> REQ (inspection requested) -> APR | REJ; the control API plays
Kakao's reviewer. Every call names a registered channel's ``senderkey``.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response

from . import aligo_tokens
from .aligo_kakao_api import VENDOR, answer, sender_key_problem
from .common import fmt_datetime, form_or_json
from .state import SimulatorState, get_state, synchronized

bp = Blueprint("sim_aligo_kakao", __name__, url_prefix="/aligo/kakao")
bp.before_request(aligo_tokens.require_token)

INSP_STATUS = {"inspect": "REQ", "approve": "APR", "reject": "REJ"}


# -- templates -------------------------------------------------------------------
def make_template(
    state: SimulatorState,
    name: str,
    content: str,
    buttons: list[Any],
    code: str | None = None,
    insp_status: str = "REG",
    sender_key: str | None = None,
) -> dict[str, Any]:
    code = code or f"TA_{state.next_number('aligo_template', 1001):04d}"
    now = fmt_datetime()
    template = {
        "templtCode": code,
        "templtName": name,
        "templtContent": content,
        "templateType": "BA",
        "templateEmType": "NONE",
        "templtTitle": "",
        "templtSubtitle": "",
        "block": "N",
        "dormant": "N",
        "securityFlag": "N",
        "inspStatus": insp_status,
        "status": "A" if insp_status == "APR" else "R",
        "senderKey": sender_key or state.options.aligo_sender_key,
        "buttons": buttons,
        "comments": [],
        "cdate": now,
        "udate": now,
    }
    state.templates[VENDOR][code] = template
    return template


def seed(state: SimulatorState) -> None:
    opts = state.options
    if opts.seed_templates:
        make_template(
            state,
            opts.demo_template_name,
            opts.demo_template_content,
            [],
            code=opts.demo_template_code,
            insp_status="APR",
        )


def _parse_buttons(raw: Any) -> list[Any] | None:
    """``tpl_button`` is a JSON string ``{"button": [...]}``; None when it is malformed."""
    if raw in (None, ""):
        return []
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    buttons = parsed.get("button") if isinstance(parsed, dict) else parsed
    if (
        not isinstance(buttons, list)
        or len(buttons) > 5
        or not all(isinstance(b, dict) for b in buttons)
    ):
        return None
    return buttons


def _template_or_error(fields: dict[str, Any]) -> tuple[dict[str, Any] | None, Response | None]:
    problem = sender_key_problem(fields)
    if problem:
        return None, problem
    template = get_state().templates[VENDOR].get(str(fields.get("tpl_code") or ""))
    if template is None or template["senderKey"] != fields["senderkey"]:
        return None, answer(-501, "존재하지 않는 템플릿입니다.")
    return template, None


@bp.post("/akv10/template/list/")
@synchronized
def list_templates() -> Response:
    fields = form_or_json()
    problem = sender_key_problem(fields)
    if problem:
        return problem
    rows = [
        t for t in get_state().templates[VENDOR].values() if t["senderKey"] == fields["senderkey"]
    ]
    if fields.get("tpl_code"):
        rows = [t for t in rows if t["templtCode"] == fields["tpl_code"]]
    info = {s: sum(1 for t in rows if t["inspStatus"] == s) for s in ("REG", "REQ", "APR", "REJ")}
    return answer(0, "정상적으로 조회되었습니다.", list=rows, info=info)


@bp.post("/akv10/template/add/")
@synchronized
def add_template() -> Response:
    fields = form_or_json()
    problem = sender_key_problem(fields)
    if problem:
        return problem
    name, content = str(fields.get("tpl_name") or ""), str(fields.get("tpl_content") or "")
    if not name or not content:
        return answer(506, "tpl_name, tpl_content 가 필요합니다.")
    if len(content) > 1000:
        return answer(509, "템플릿 내용은 1,000자를 넘을 수 없습니다.")
    buttons = _parse_buttons(fields.get("tpl_button"))
    if buttons is None:
        return answer(509, "tpl_button 형식이 올바르지 않습니다.")
    template = make_template(get_state(), name, content, buttons, sender_key=fields["senderkey"])
    return answer(0, "템플릿이 등록되었습니다.", data=template)


@bp.post("/akv10/template/modify/")
@synchronized
def modify_template() -> Response:
    fields = form_or_json()
    template, problem = _template_or_error(fields)
    if problem or template is None:
        return problem or answer(-501)
    if template["inspStatus"] in ("REQ", "APR"):
        return answer(510, "검수 요청 중이거나 승인된 템플릿은 수정할 수 없습니다.")
    buttons = _parse_buttons(fields.get("tpl_button"))
    if buttons is None or not fields.get("tpl_name") or not fields.get("tpl_content"):
        return answer(509, "tpl_name, tpl_content, tpl_button 을 확인하세요.")
    template.update(
        templtName=fields["tpl_name"],
        templtContent=fields["tpl_content"],
        buttons=buttons,
        inspStatus="REG",
        status="R",
        udate=fmt_datetime(),
    )
    return answer(0, "템플릿이 수정되었습니다.", data=template)


@bp.post("/akv10/template/del/")
@synchronized
def delete_template() -> Response:
    fields = form_or_json()
    template, problem = _template_or_error(fields)
    if problem or template is None:
        return problem or answer(-501)
    if template["inspStatus"] == "REQ":
        return answer(510, "검수 요청 중인 템플릿은 삭제할 수 없습니다.")
    del get_state().templates[VENDOR][template["templtCode"]]
    return answer(0, "템플릿이 삭제되었습니다.")


@bp.post("/akv10/template/request/")
@synchronized
def request_inspection() -> Response:
    fields = form_or_json()
    template, problem = _template_or_error(fields)
    if problem or template is None:
        return problem or answer(-501)
    if template["inspStatus"] not in ("REG", "REJ"):
        return answer(510, "등록(REG) 또는 반려(REJ) 상태에서만 검수를 요청할 수 있습니다.")
    template.update(inspStatus="REQ", udate=fmt_datetime())
    return answer(0, "검수 요청이 완료되었습니다.")


def review(state: SimulatorState, code: str, action: str, comment: str | None) -> dict[str, Any]:
    """Control API: ``inspect`` -> REQ, ``approve`` -> APR, ``reject`` -> REJ (+ comment)."""
    template = state.templates[VENDOR].get(code)
    if template is None:
        raise KeyError(code)
    status = INSP_STATUS[action]
    template.update(inspStatus=status, status="A" if status == "APR" else "R", udate=fmt_datetime())
    if comment:
        template["comments"].append(
            {
                "cmtId": state.next_number("aligo_comment"),
                "cmtContent": comment,
                "cmtUserName": "카카오 검수자",
                "cmtDateTime": fmt_datetime(),
                "status": status,
            }
        )
    return template
