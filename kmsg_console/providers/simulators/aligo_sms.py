"""Aligo SMS API simulator (kmsg-facts §2.3): form/multipart POSTs with ``key`` + ``user_id``.

Success is ``result_code == "1"``. Negative codes follow k-msg's mapping: -100/-101 auth,
-102/-201 balance, -103/-105 invalid request; which invalid case gets which of -103/-105
is the simulator's choice (-103 sender, -105 recipients/content).
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, request

from .common import digits, fmt_datetime, form_or_json, is_kr_phone, json_response, kr_bytes
from .state import StoredMessage, get_state, synchronized

bp = Blueprint("sim_aligo_sms", __name__, url_prefix="/aligo/sms")

CODES: dict[int, str] = {
    1: "success",
    -100: "필수 인증 정보(key, user_id)가 누락되었습니다.",
    -101: "인증오류입니다.",
    -102: "잔여 포인트가 없습니다.",
    -103: "발신번호가 등록되지 않았거나 올바르지 않습니다.",
    -105: "수신번호 또는 메시지 내용이 올바르지 않습니다.",
    -201: "잔액이 부족합니다.",
}


def answer(
    code: int, message: str | None = None, http_status: int | None = None, **extra: Any
) -> Response:
    """Aligo SMS JSON answer; ``result_code`` travels as a string like the vendor's."""
    return json_response(
        {"result_code": str(code), "message": message or CODES.get(code, "error"), **extra},
        http_status or 200,
    )


@bp.before_request
def _authenticate() -> Response | None:
    opts = get_state().options
    fields = form_or_json()
    key, user_id = str(fields.get("key") or ""), str(fields.get("user_id") or "")
    if not key or not user_id:
        return answer(-100)
    key_ok = hmac.compare_digest(key.encode(), opts.aligo_api_key.encode())
    if not (key_ok and hmac.compare_digest(user_id.encode(), opts.aligo_user_id.encode())):
        return answer(-101)
    return None


def _schedule_ok(rdate: str, rtime: str) -> bool:
    """``rdate`` YYYYMMDD and ``rtime`` HHmm (KST); both or neither."""
    if not rdate and not rtime:
        return True
    try:
        datetime.strptime(rdate + rtime, "%Y%m%d%H%M")
        return True
    except ValueError:
        return False


@bp.post("/send/")
@synchronized
def send() -> Response:
    state = get_state()
    fields = form_or_json()
    sender = digits(fields.get("sender"))
    if not state.options.is_registered_sender(sender):
        return answer(-103)
    receivers = [r.strip() for r in str(fields.get("receiver") or "").split(",") if r.strip()]
    text = str(fields.get("msg") or "")
    if not receivers or len(receivers) > 1000 or not text.strip():
        return answer(-105)
    if not _schedule_ok(str(fields.get("rdate") or ""), str(fields.get("rtime") or "")):
        return answer(-105, "예약 일시(rdate, rtime) 형식이 올바르지 않습니다.")
    has_image = any(request.files.get(name) for name in ("image", "image1", "image2", "image3"))
    msg_type = str(fields.get("msg_type") or "").upper()
    if has_image or msg_type == "MMS":
        msg_type = "MMS"
    elif msg_type != "LMS":
        # Aligo switches to LMS on its own above 90 bytes.
        msg_type = "SMS" if kr_bytes(text) <= 90 else "LMS"
    if kr_bytes(text) > 2000:
        return answer(-105, "메시지 내용은 2,000바이트를 넘을 수 없습니다.")
    valid = [r for r in receivers if is_kr_phone(r)]
    test_mode = str(fields.get("testmode_yn") or "N").upper() == "Y"
    if not valid:
        return answer(-105)
    if not test_mode and not state.charge("aligo", state.options.price(msg_type) * len(valid)):
        return answer(-201)
    msg_id = state.next_number("aligo_msg", 810000001)
    if not test_mode:  # test mode answers like a real send but delivers (and stores) nothing
        for index, phone in enumerate(valid):
            stored = StoredMessage(
                "aligo_sms",
                str(msg_id),
                {
                    "msg_id": str(msg_id),
                    "receiver": digits(phone),
                    "sender": sender,
                    "msg_type": msg_type,
                    "msg": text,
                    "title": fields.get("title"),
                    "reg_date": fmt_datetime(),
                },
                steps=[],
            )
            state.store_message(stored, key=f"{msg_id}:{index}")
    return answer(
        1,
        success_cnt=len(valid),
        error_cnt=len(receivers) - len(valid),
        msg_id=str(msg_id),
        msg_type=msg_type,
    )


@bp.post("/remain/")
@synchronized
def remain() -> Response:
    state = get_state()
    point = state.balances["aligo"]
    counts = {f"{t}_CNT": int(point // state.options.price(t)) for t in ("SMS", "LMS", "MMS")}
    return answer(1, "", **counts)


def vendor_error(code: str, message: str | None, http_status: int | None) -> Response:
    """Injected vendor error with Aligo's body shape."""
    try:
        number = int(code)
    except ValueError:
        number = -105
    return answer(number, message, http_status)
