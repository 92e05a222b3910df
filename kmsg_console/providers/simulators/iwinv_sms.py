"""IWINV SMS v2 API simulator (kmsg-facts §2.2 B): header ``secret: base64(key & auth)``.

Answers ``{resultCode, message, ...}``; ``resultCode == 0`` is success. The result codes
and their meanings are the ones k-msg documents (13 sender, 14 auth, 15 IP, 21/23 length,
31/32 image, 41-44 recipients/date, 50 balance, 202 permission, 206 IP).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, request

from .common import (
    KST,
    as_int,
    client_ip,
    digits,
    fmt_datetime,
    is_kr_phone,
    json_response,
    kr_bytes,
    now_kst,
)
from .iwinv_alimtalk import ip_allowed
from .state import StoredMessage, get_state, synchronized

bp = Blueprint("sim_iwinv_sms", __name__, url_prefix="/iwinv/sms")

CONTENT_TYPE = "application/json;charset=UTF-8"
CODES: dict[int, str] = {
    0: "전송 성공",
    1: "전송 실패",
    11: "서비스가 활성화되어 있지 않습니다.",
    12: "요금제 충전 중입니다.",
    13: "등록되지 않은 발신번호입니다.",
    14: "인증 요청이 올바르지 않습니다.",
    15: "등록되지 않은 IP 입니다.",
    21: "LMS 본문은 2,000바이트를 넘을 수 없습니다.",
    22: "제목에 허용되지 않는 문자가 있습니다.",
    23: "제목은 40바이트를 넘을 수 없습니다.",
    31: "파일 크기는 100KB를 넘을 수 없습니다.",
    32: "허용되지 않는 파일 확장자입니다.",
    33: "이미지 업로드에 실패하였습니다.",
    41: "수신번호가 없거나 올바르지 않습니다.",
    42: "예약 가능한 시간이 아닙니다.",
    43: "날짜 형식이 올바르지 않습니다.",
    44: "수신번호는 1,000건을 넘을 수 없습니다.",
    50: "SMS 자동충전 한도를 초과하였습니다.",
    202: "SMS API 인증에 실패했거나 권한이 없습니다.",
    206: "등록되지 않은 IP 입니다.",
}
#: History send-status presets. "06"/"전송 성공" = delivered and "00"/"01" = pending are
#: what k-msg reads; the failure code is a simulator choice.
SEND_STATUS: dict[str, dict[str, str]] = {
    "pending": {"sendStatusCode": "00", "sendStatusMsg": "대기"},
    "sent": {"sendStatusCode": "01", "sendStatusMsg": "처리중"},
    "delivered": {"sendStatusCode": "06", "sendStatusMsg": "전송 성공"},
    "failed": {"sendStatusCode": "07", "sendStatusMsg": "전송 실패(수신 불가)"},
}
IMAGE_EXTENSIONS = {"jpg", "jpeg", "png", "gif"}


def answer(
    code: int, message: str | None = None, http_status: int | None = None, **extra: Any
) -> Response:
    """IWINV SMS JSON answer."""
    return json_response(
        {"resultCode": code, "message": message or CODES.get(code, "오류"), **extra},
        http_status or 200,
        content_type=CONTENT_TYPE,
    )


@bp.before_request
def _authenticate() -> Response | None:
    state = get_state()
    opts = state.options
    expected = f"{opts.iwinv_sms_api_key}&{opts.iwinv_sms_auth_key}".encode()
    try:
        given = base64.b64decode(request.headers.get("secret", "").strip(), validate=True)
    except (binascii.Error, ValueError):
        given = b""
    if not given or not hmac.compare_digest(given, expected):
        return answer(14)
    if not ip_allowed(state):
        return answer(15, f"{CODES[15]} ({client_ip()})")
    return None


def _fields() -> dict[str, Any]:
    """JSON body, or the form fields of the multipart MMS variant."""
    if request.form:
        return request.form.to_dict(flat=True)
    data = request.get_json(silent=True, force=True)
    return data if isinstance(data, dict) else {}


def _recipients(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value if str(v).strip()]
    return [v.strip() for v in str(value or "").split(",") if v.strip()]


def _check_date(value: Any) -> int | None:
    """Reservation date ``yyyy-MM-dd HH:mm:ss`` (KST); 43 bad format, 42 in the past."""
    try:
        when = datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=KST)
    except ValueError:
        return 43
    return 42 if when < now_kst() - timedelta(minutes=1) else None


@bp.post("/api/v2/send/")
@synchronized
def send() -> Response:
    state = get_state()
    data = _fields()
    recipients = _recipients(data.get("to"))
    if not recipients or not all(is_kr_phone(r) for r in recipients):
        return answer(41)
    if len(recipients) > 1000:
        return answer(44)
    sender = digits(data.get("from"))
    if not state.options.is_registered_sender(sender):
        return answer(13)
    text, title = str(data.get("text") or ""), str(data.get("title") or "")
    if not text.strip():
        return answer(1, "본문(text)이 비어 있습니다.")
    image = request.files.get("image")
    if image is not None:
        msg_type = "MMS"
        payload = image.read()
        if len(payload) > 100 * 1024:
            return answer(31)
        if (image.filename or "").rsplit(".", 1)[-1].lower() not in IMAGE_EXTENSIONS:
            return answer(32)
    elif str(data.get("msgType") or "").upper() in ("SMS", "GSMS") and kr_bytes(text) <= 90:
        msg_type = str(data["msgType"]).upper()
    else:
        # No msgType means LMS, and an over-long SMS is sent as LMS with a derived title.
        msg_type, title = "LMS", title or text[:20]
    if msg_type in ("LMS", "MMS") and kr_bytes(text) > 2000:
        return answer(21)
    if kr_bytes(title) > 40:
        return answer(23)
    if data.get("date"):
        problem = _check_date(data["date"])
        if problem:
            return answer(problem)
    price = state.options.price("SMS" if msg_type == "GSMS" else msg_type)
    if not state.charge("iwinv_sms", price * len(recipients)):
        return answer(50)
    request_no = state.next_number("iwinv_sms_request", 7000001)
    for index, phone in enumerate(recipients):
        fields = {
            "requestNo": request_no,
            "companyid": state.options.iwinv_sms_company_id,
            "msgType": msg_type,
            "phone": digits(phone),
            "callback": sender,
            "title": title,
            "text": text,
            "requestDate": fmt_datetime(),
            "reserveDate": data.get("date") or "",
        }
        steps = [
            {**SEND_STATUS["pending"], "sendDate": ""},
            {**SEND_STATUS["sent"], "sendDate": fmt_datetime()},
            {**SEND_STATUS["delivered"], "sendDate": fmt_datetime()},
        ]
        state.store_message(
            StoredMessage("iwinv_sms", str(request_no), fields, steps), key=f"{request_no}:{index}"
        )
    return answer(0, requestNo=request_no, msgType=msg_type)


@bp.post("/api/history/")
@synchronized
def history() -> Response:
    state = get_state()
    data = _fields()
    if str(data.get("companyid") or "") != state.options.iwinv_sms_company_id:
        return answer(202, "companyid 가 올바르지 않거나 조회 권한이 없습니다.")
    try:
        start = datetime.strptime(str(data.get("startDate")), "%Y-%m-%d")
        end = datetime.strptime(str(data.get("endDate")), "%Y-%m-%d")
    except ValueError:
        return answer(43)
    if end < start or (end - start).days > 90:
        return answer(43, "조회 기간은 90일을 넘을 수 없습니다.")
    rows = state.current_messages("iwinv_sms")
    if data.get("requestNo") not in (None, ""):
        rows = [r for r in rows if str(r["requestNo"]) == str(data["requestNo"])]
    if data.get("phone"):
        rows = [r for r in rows if r["phone"] == digits(data["phone"])]
    page, size = (
        max(1, as_int(data.get("pageNum"), 1)),
        max(1, min(as_int(data.get("pageSize"), 15), 1000)),
    )
    return answer(0, "조회 성공", totalCount=len(rows), list=rows[(page - 1) * size : page * size])


@bp.post("/api/charge/")
@synchronized
def charge() -> Response:
    return answer(0, "조회 성공", charge=get_state().balances["iwinv_sms"])


def vendor_error(code: str, message: str | None, http_status: int | None) -> Response:
    """Injected vendor error with the vendor's body shape."""
    return answer(as_int(code, 1), message, http_status)


def status_update(fields: dict[str, Any]) -> dict[str, Any]:
    """Control API: ``{"status": "delivered"}`` or raw fields such as ``sendStatusCode``."""
    fields = dict(fields)
    alias = fields.pop("status", None)
    if alias:
        preset = SEND_STATUS.get(str(alias).lower())
        if preset is None:
            raise ValueError(f"unknown status {alias!r}; use one of {sorted(SEND_STATUS)}")
        fields = {**preset, "sendDate": "" if alias == "pending" else fmt_datetime(), **fields}
    code = fields.get("sendStatusCode")
    if code is not None and "sendStatusMsg" not in fields:
        # A bare code gets the matching message, so history stays self-consistent.
        known = {p["sendStatusCode"]: p["sendStatusMsg"] for p in SEND_STATUS.values()}
        fields["sendStatusMsg"] = known.get(str(code), "전송 실패")
    return fields
