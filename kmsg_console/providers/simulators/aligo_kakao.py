"""Aligo Kakao API simulator (kmsg-facts §2.3): ``apikey``/``userid``/``senderkey`` form posts.

Answers ``{code, message, ...}`` with ``code == 0`` for success. Code -99 (auth) and
509 (invalid request) are the failure codes k-msg knows; -501 (template missing or not
approved) and -201 (balance) reuse Aligo's SMS meanings; 506/507/508/510 are simulator
stand-ins. Template review: REG (registered) -> REQ (inspection requested) -> APR | REJ.
AlimTalk sends are refused unless ``message_N`` is the approved template text with only
the ``#{...}`` parts filled in, because Kakao (and so Aligo) rejects anything else.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from flask import Blueprint, Response

from .common import digits, fmt_datetime, form_or_json, is_kr_phone, json_response, matches_template
from .state import SimulatorState, StoredMessage, get_state, synchronized

bp = Blueprint("sim_aligo_kakao", __name__, url_prefix="/aligo/kakao")

CODES: dict[int, str] = {
    0: "정상적으로 처리되었습니다.",
    -99: "계정 아이디(userid) 또는 apikey 가 유효하지 않습니다.",
    -201: "잔액이 부족합니다.",
    -501: "존재하지 않거나 승인되지 않은 템플릿입니다.",
    506: "필수 파라미터가 누락되었습니다.",
    507: "유효하지 않은 발신프로필 키(senderkey)입니다.",
    508: "등록되지 않은 발신번호입니다.",
    509: "템플릿 내용과 메시지 내용이 일치하지 않습니다.",
    510: "현재 검수 상태에서는 처리할 수 없습니다.",
}
INSP_STATUS = {"inspect": "REQ", "approve": "APR", "reject": "REJ"}
MAX_RECIPIENTS = 500


def answer(
    code: int, message: str | None = None, http_status: int | None = None, **extra: Any
) -> Response:
    """Aligo Kakao JSON answer."""
    return json_response(
        {"code": code, "message": message or CODES.get(code, "오류"), **extra}, http_status or 200
    )


@bp.before_request
def _authenticate() -> Response | None:
    opts = get_state().options
    fields = form_or_json()
    key, user = str(fields.get("apikey") or ""), str(fields.get("userid") or "")
    if not (
        hmac.compare_digest(key.encode(), opts.aligo_api_key.encode())
        and hmac.compare_digest(user.encode(), opts.aligo_user_id.encode())
    ):
        return answer(-99)
    return None


def _require_sender_key(fields: dict[str, Any]) -> Response | None:
    if not fields.get("senderkey"):
        return answer(506, "senderkey 가 필요합니다.")
    if fields["senderkey"] != get_state().options.aligo_sender_key:
        return answer(507)
    return None


# -- templates -------------------------------------------------------------------
def make_template(
    state: SimulatorState,
    name: str,
    content: str,
    buttons: list[Any],
    code: str | None = None,
    insp_status: str = "REG",
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
        "senderKey": state.options.aligo_sender_key,
        "buttons": buttons,
        "comments": [],
        "cdate": now,
        "udate": now,
    }
    state.templates["aligo_kakao"][code] = template
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
    problem = _require_sender_key(fields)
    if problem:
        return None, problem
    template = get_state().templates["aligo_kakao"].get(str(fields.get("tpl_code") or ""))
    return (template, None) if template else (None, answer(-501, "존재하지 않는 템플릿입니다."))


@bp.post("/akv10/template/list/")
@synchronized
def list_templates() -> Response:
    fields = form_or_json()
    problem = _require_sender_key(fields)
    if problem:
        return problem
    rows = list(get_state().templates["aligo_kakao"].values())
    if fields.get("tpl_code"):
        rows = [t for t in rows if t["templtCode"] == fields["tpl_code"]]
    info = {s: sum(1 for t in rows if t["inspStatus"] == s) for s in ("REG", "REQ", "APR", "REJ")}
    return answer(0, "정상적으로 조회되었습니다.", list=rows, info=info)


@bp.post("/akv10/template/add/")
@synchronized
def add_template() -> Response:
    fields = form_or_json()
    problem = _require_sender_key(fields)
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
    template = make_template(get_state(), name, content, buttons)
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
    del get_state().templates["aligo_kakao"][template["templtCode"]]
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
    template = state.templates["aligo_kakao"].get(code)
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


@bp.post("/akv10/profile/list/")
@synchronized
def list_profiles() -> Response:
    opts = get_state().options
    fields = form_or_json()
    profile = {
        "senderKey": opts.aligo_sender_key,
        "uuid": opts.aligo_plus_id,
        "name": "KMSG 데모",
        "status": "A",
        "profileStat": "A",
        "alimUseYn": "Y",
        "catCode": "00100010001",
        "cdate": fmt_datetime(),
        "udate": fmt_datetime(),
    }
    rows = [profile]
    if fields.get("senderkey") and fields["senderkey"] != opts.aligo_sender_key:
        rows = []
    if fields.get("plusid") and fields["plusid"] != opts.aligo_plus_id:
        rows = []
    return answer(0, "정상적으로 조회되었습니다.", list=rows)


# -- sending ---------------------------------------------------------------------
@bp.post("/akv10/alimtalk/send/")
@synchronized
def send_alimtalk() -> Response:
    state = get_state()
    fields = form_or_json()
    problem = _require_sender_key(fields)
    if problem:
        return problem
    template = state.templates["aligo_kakao"].get(str(fields.get("tpl_code") or ""))
    if template is None or template["inspStatus"] != "APR":
        return answer(-501)
    sender = digits(fields.get("sender"))
    if not sender:
        return answer(506, "sender 가 필요합니다.")
    if not state.options.is_registered_sender(sender):
        return answer(508)
    slots = [i for i in range(1, MAX_RECIPIENTS + 1) if fields.get(f"receiver_{i}")]
    if not slots:
        return answer(506, "receiver_1 이 필요합니다.")
    for i in slots:
        if not matches_template(template["templtContent"], str(fields.get(f"message_{i}") or "")):
            return answer(509)
    valid = [i for i in slots if is_kr_phone(fields[f"receiver_{i}"])]
    unit = state.options.price("ATA")
    test_mode = str(fields.get("testMode") or "N").upper() == "Y"
    if valid and not test_mode and not state.charge("aligo", unit * len(valid)):
        return answer(-201)
    mid = state.next_number("aligo_mid", 420000001)
    if not test_mode:
        for i in valid:
            stored = StoredMessage(
                "aligo_kakao",
                str(mid),
                {
                    "mid": mid,
                    "receiver": digits(fields[f"receiver_{i}"]),
                    "sender": sender,
                    "tpl_code": template["templtCode"],
                    "message": fields[f"message_{i}"],
                    "failover": fields.get("failover", "N"),
                    "reg_date": fmt_datetime(),
                },
                steps=[],
            )
            state.store_message(stored, key=f"{mid}:{i}")
    info = {
        "type": "AT",
        "mid": mid,
        "current": state.balances["aligo"],
        "unit": unit,
        "total": unit * len(valid),
        "scnt": len(valid),
        "fcnt": len(slots) - len(valid),
    }
    return answer(0, "성공적으로 전송요청 하였습니다.", info=info)


def vendor_error(code: str, message: str | None, http_status: int | None) -> Response:
    """Injected vendor error with Aligo Kakao's body shape."""
    try:
        number = int(code)
    except ValueError:
        number = 509
    return answer(number, message, http_status)
