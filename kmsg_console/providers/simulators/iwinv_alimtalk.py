"""IWINV AlimTalk API simulator (kmsg-facts §2.2 A): header ``AUTH: base64(apiKey)``.

Every answer is ``{code, message, ...}``; ``code == 200`` is success. Documented codes:
201/206/401/403 auth, 404/501 template, 505 unregistered sender, 508 templateParam
required, 519 balance, 429 rate limit, 540 blocked word. Codes 502-514 other than 505/508
are simulator stand-ins inside IWINV's documented "invalid request" range.
Vendor errors come with HTTP 200 (the vendor reports them in the body) except 429.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, request

from .common import (
    as_int,
    client_ip,
    digits,
    fmt_datetime,
    is_kr_phone,
    json_response,
    render_template,
    template_variables,
)
from .state import SimulatorState, StoredMessage, get_state, synchronized

bp = Blueprint("sim_iwinv_alimtalk", __name__, url_prefix="/iwinv/alimtalk")

CONTENT_TYPE = "application/json;charset=UTF-8"
CODES: dict[int, str] = {
    200: "성공",
    201: "인증에 실패하였습니다.",
    206: "등록되지 않은 IP 입니다.",
    401: "AUTH 헤더가 없습니다.",
    404: "존재하지 않는 템플릿입니다.",
    429: "요청 한도를 초과하였습니다. (분당 60회)",
    501: "유효하지 않은 templateCode 입니다.",
    502: "필수 파라미터가 누락되었습니다.",
    503: "수신번호 형식이 올바르지 않습니다.",
    505: "사전 등록되지 않은 발신번호입니다.",
    508: "templateParam 이 필요합니다.",
    509: "templateParam 개수가 템플릿 변수 개수와 다릅니다.",
    510: "템플릿명은 15자를 넘을 수 없습니다.",
    511: "템플릿 내용은 1,000자를 넘을 수 없습니다.",
    512: "검수 중인 템플릿은 수정할 수 없습니다.",
    513: "예약 발송 일시 형식이 올바르지 않습니다.",
    514: "버튼 형식이 올바르지 않습니다.",
    518: "시스템 오류가 발생하였습니다.",
    519: "잔액이 부족합니다.",
    540: "발송 금지어가 포함되어 있습니다.",
}

#: History status fields. ``OK``/성공 is what k-msg reads as delivered; the pending and
#: failure codes are simulator choices (failure names contain "카카오"+"미사용" when the
#: recipient has no KakaoTalk, which is what fallback logic looks for).
HISTORY_STATUS: dict[str, dict[str, str]] = {
    "pending": {"statusCode": "", "statusCodeName": "전송중"},
    "sent": {"statusCode": "", "statusCodeName": "전송중"},
    "delivered": {"statusCode": "OK", "statusCodeName": "성공"},
    "failed": {"statusCode": "E999", "statusCodeName": "전송 실패"},
    "non_kakao_user": {"statusCode": "K104", "statusCodeName": "카카오톡 미사용자"},
}


def answer(
    code: int, message: str | None = None, http_status: int | None = None, **extra: Any
) -> Response:
    """IWINV AlimTalk JSON answer."""
    return json_response(
        {"code": code, "message": message or CODES.get(code, "오류"), **extra},
        http_status or (429 if code == 429 else 200),
        content_type=CONTENT_TYPE,
    )


def ip_allowed(state: SimulatorState) -> bool:
    """Both IWINV APIs are IP-whitelisted at the vendor; an empty whitelist allows all."""
    allowed = state.options.iwinv_allowed_ips
    return not allowed or client_ip() in allowed


def _decode(header: str) -> str | None:
    try:
        return base64.b64decode(header.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def authenticate() -> Response | None:
    """Check ``AUTH``, the IP whitelist and the rate limit (shared with the template API)."""
    state = get_state()
    header = request.headers.get("AUTH")
    if not header:
        return answer(401)
    decoded = _decode(header)
    if decoded is None or not hmac.compare_digest(
        decoded.encode(), state.options.iwinv_api_key.encode()
    ):
        return answer(201)
    if not ip_allowed(state):
        return answer(206, f"{CODES[206]} ({client_ip()})")
    if state.hit_rate_limit("iwinv_alimtalk", state.options.iwinv_rate_limit_per_minute):
        return answer(429)
    return None


bp.before_request(authenticate)


def body() -> dict[str, Any]:
    """The JSON object body (IWINV always posts JSON), or {} when absent or malformed."""
    data = request.get_json(silent=True, force=True)
    return data if isinstance(data, dict) else {}


# -- sending, history, charge -------------------------------------------------------
def _valid_date(text: Any) -> bool:
    try:
        datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S")
        return True
    except ValueError:
        return False


@bp.post("/api/v2/send/")
@synchronized
def send() -> Response:
    state = get_state()
    data = body()
    template = state.templates["iwinv_alimtalk"].get(str(data.get("templateCode") or ""))
    if template is None or template["status"] != "Y":
        return answer(501)
    items = data.get("list")
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        return answer(502)
    reserve = str(data.get("reserve") or "N").upper()
    if reserve == "Y" and not _valid_date(data.get("sendDate")):
        return answer(513)
    resend = str(data.get("reSend") or "N").upper() == "Y"
    callback = digits(data.get("resendCallback"))
    if resend and not callback:
        return answer(502, "reSend=Y 인 경우 resendCallback 이 필요합니다.")
    if resend and not state.options.is_registered_sender(callback):
        return answer(505)
    names = template_variables(template["templateContent"])
    accepted: list[tuple[dict[str, Any], str]] = []
    first_error: int | None = None
    for item in items:
        params = item.get("templateParam")
        code = None
        if not is_kr_phone(item.get("phone")):
            code = 503
        elif names and not params:
            code = 508
        elif names and (not isinstance(params, list) or len(params) != len(names)):
            code = 509
        if code is None:
            accepted.append(
                (item, render_template(template["templateContent"], [str(p) for p in params or []]))
            )
        elif first_error is None:
            first_error = code
    if not accepted:
        return answer(first_error or 502)
    if not state.charge("iwinv_alimtalk", state.options.price("ATA") * len(accepted)):
        return answer(519)
    seq_no = state.next_number("iwinv_seq", 100001)
    for index, (item, text) in enumerate(accepted):
        _store(state, seq_no, index, item, text, template, data, resend, callback)
    return answer(
        200, "발송 요청 성공", success=len(accepted), fail=len(items) - len(accepted), seqNo=seq_no
    )


def _store(
    state: SimulatorState,
    seq_no: int,
    index: int,
    item: dict[str, Any],
    text: str,
    template: dict[str, Any],
    data: dict[str, Any],
    resend: bool,
    callback: str,
) -> None:
    phone = digits(item.get("phone"))
    final = "non_kakao_user" if phone in state.options.non_kakao_users else "delivered"
    done = {**HISTORY_STATUS[final], "sendDate": fmt_datetime(), "receiveDate": fmt_datetime()}
    if final == "non_kakao_user" and resend:
        done.update(resendStatus="OK", resendStatusName="대체발송 성공")
    fields = {
        "seqNo": seq_no,
        "phone": phone,
        "callback": callback,
        "templateCode": template["templateCode"],
        "sendMessage": text,
        "reserve": str(data.get("reserve") or "N").upper(),
        "requestDate": fmt_datetime(),
        "resendStatus": "",
        "resendStatusName": "",
        "buttons": {f"link{i}": "" for i in range(1, 6)},
    }
    steps = [{**HISTORY_STATUS["pending"], "sendDate": "", "receiveDate": ""}, done]
    state.store_message(
        StoredMessage("iwinv_alimtalk", str(seq_no), fields, steps), key=f"{seq_no}:{index}"
    )


@bp.post("/api/history/")
@synchronized
def history() -> Response:
    state = get_state()
    data = body()
    rows = state.current_messages("iwinv_alimtalk")
    if data.get("seqNo") not in (None, ""):
        rows = [r for r in rows if str(r["seqNo"]) == str(data["seqNo"])]
    if data.get("phone"):
        rows = [r for r in rows if r["phone"] == digits(data["phone"])]
    page, size = (
        max(1, as_int(data.get("pageNum"), 1)),
        max(1, min(as_int(data.get("pageSize"), 15), 1000)),
    )
    return answer(
        200, "조회 성공", totalCount=len(rows), list=rows[(page - 1) * size : page * size]
    )


@bp.post("/api/charge/")
@synchronized
def charge() -> Response:
    return answer(200, "조회 성공", charge=get_state().balances["iwinv_alimtalk"])


def vendor_error(code: str, message: str | None, http_status: int | None) -> Response:
    """Injected vendor error with the vendor's body shape."""
    return answer(as_int(code, 518), message, http_status)


def status_update(fields: dict[str, Any]) -> dict[str, Any]:
    """Control API: ``{"status": "delivered"}`` or raw history fields such as ``statusCode``."""
    fields = dict(fields)
    alias = fields.pop("status", None)
    if alias:
        preset = HISTORY_STATUS.get(str(alias).lower())
        if preset is None:
            raise ValueError(f"unknown status {alias!r}; use one of {sorted(HISTORY_STATUS)}")
        dated = str(alias).lower() not in ("pending", "sent")
        fields = {
            **preset,
            "sendDate": fmt_datetime() if dated else "",
            "receiveDate": fmt_datetime() if dated else "",
            **fields,
        }
    code = fields.get("statusCode")
    if code and "statusCodeName" not in fields:
        known = {
            p["statusCode"]: p["statusCodeName"] for p in HISTORY_STATUS.values() if p["statusCode"]
        }
        fields["statusCodeName"] = known.get(str(code), "전송 실패")
        fields.setdefault("sendDate", fmt_datetime())
    return fields
