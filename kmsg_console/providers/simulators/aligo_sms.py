"""Aligo SMS API simulator (kmsg-facts §2.3): form/multipart POSTs with ``key`` + ``user_id``.

Success is ``result_code == "1"``. Negative codes follow k-msg's mapping: -100/-101 auth,
-102/-201 balance, -103/-105 invalid request; which invalid case gets which of -103/-105
is the simulator's choice (-103 sender, -105 everything else about the request).

``/send/`` sends one text to up to 1,000 numbers, ``/send_mass/`` up to 500 different texts
(``rec_N``/``msg_N``, ``cnt`` of them). Either may be reserved with ``rdate``/``rtime``
(Korean time), held until then and withdrawn through ``/cancel/``. ``/list/`` shows sends,
``/sms_list/`` the recipients of one, ``/remain/`` what the balance still buys.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, request

from . import aligo_schedule
from .common import as_int, digits, fmt_datetime, form_or_json, is_kr_phone, json_response, kr_bytes
from .state import SimulatorState, StoredMessage, get_state, synchronized

bp = Blueprint("sim_aligo_sms", __name__, url_prefix="/aligo/sms")

VENDOR = "aligo_sms"

CODES: dict[int, str] = {
    1: "success",
    -100: "필수 인증 정보(key, user_id)가 누락되었습니다.",
    -101: "인증오류입니다.",
    -102: "잔여 포인트가 없습니다.",
    -103: "발신번호가 등록되지 않았거나 올바르지 않습니다.",
    -105: "수신번호 또는 메시지 내용이 올바르지 않습니다.",
    -201: "잔액이 부족합니다.",
}
MAX_RECEIVERS = 1000
MAX_MASS = 500
SMS_MAX_BYTES = 90
MAX_BYTES = 2000
IMAGE_FIELDS = ("image", "image1", "image2", "image3")


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


def _reservation(fields: dict[str, Any]) -> datetime | None:
    return aligo_schedule.sms_reservation(
        str(fields.get("rdate") or ""), str(fields.get("rtime") or "")
    )


def _accept(
    state: SimulatorState, fields: dict[str, Any], msg_type: str, texts: list[tuple[str, str]]
) -> Response:
    """Charge, number and keep a checked send: ``texts`` is (receiver, message) per recipient."""
    try:
        when = _reservation(fields)
    except aligo_schedule.BadSchedule:
        return answer(-105, "예약 일시(rdate, rtime) 형식이 올바르지 않습니다.")
    valid = [(phone, text) for phone, text in texts if is_kr_phone(phone)]
    if not valid:
        return answer(-105)
    unit = state.options.price(msg_type)
    test_mode = str(fields.get("testmode_yn") or "N").upper() == "Y"
    if not test_mode and not state.charge("aligo", unit * len(valid)):
        return answer(-201)
    msg_id = state.next_number("aligo_msg", 810000001)
    if not test_mode:  # test mode answers like a real send but delivers (and stores) nothing
        for index, (phone, text) in enumerate(valid):
            stored = StoredMessage(
                VENDOR,
                str(msg_id),
                {
                    "msg_id": str(msg_id),
                    "mdid": str(state.next_number("aligo_mdid", 1270000001)),
                    "receiver": digits(phone),
                    "sender": digits(fields.get("sender")),
                    "msg_type": msg_type,
                    "msg": text,
                    "title": fields.get("title"),
                    "unit": unit,
                    "reg_date": fmt_datetime(),
                    "reserve_date": aligo_schedule.reserve_date(when),
                },
                steps=[],
            )
            state.store_message(stored, key=f"{msg_id}:{index}")
    return answer(
        1,
        success_cnt=len(valid),
        error_cnt=len(texts) - len(valid),
        msg_id=str(msg_id),
        msg_type=msg_type,
    )


def _has_image() -> bool:
    return any(request.files.get(name) for name in IMAGE_FIELDS)


@bp.post("/send/")
@synchronized
def send() -> Response:
    state = get_state()
    fields = form_or_json()
    if not state.options.is_registered_sender(digits(fields.get("sender"))):
        return answer(-103)
    receivers = [r.strip() for r in str(fields.get("receiver") or "").split(",") if r.strip()]
    text = str(fields.get("msg") or "")
    if not receivers or len(receivers) > MAX_RECEIVERS or not text.strip():
        return answer(-105)
    msg_type = str(fields.get("msg_type") or "").upper()
    if _has_image() or msg_type == "MMS":
        msg_type = "MMS"
    elif msg_type != "LMS":
        # Aligo switches to LMS on its own above 90 bytes.
        msg_type = "SMS" if kr_bytes(text) <= SMS_MAX_BYTES else "LMS"
    if kr_bytes(text) > MAX_BYTES:
        return answer(-105, "메시지 내용은 2,000바이트를 넘을 수 없습니다.")
    return _accept(state, fields, msg_type, [(phone, text) for phone in receivers])


@bp.post("/send_mass/")
@synchronized
def send_mass() -> Response:
    state = get_state()
    fields = form_or_json()
    if not state.options.is_registered_sender(digits(fields.get("sender"))):
        return answer(-103)
    msg_type = str(fields.get("msg_type") or "").upper()
    if msg_type not in ("SMS", "LMS", "MMS"):
        return answer(-105, "msg_type(SMS, LMS, MMS)은 필수입니다.")
    if _has_image():
        msg_type = "MMS"
    count = as_int(fields.get("cnt"), 0)
    if not 1 <= count <= MAX_MASS:
        return answer(-105, "cnt 는 1 ~ 500 사이여야 합니다.")
    texts = [
        (str(fields.get(f"rec_{i}") or "").strip(), str(fields.get(f"msg_{i}") or ""))
        for i in range(1, count + 1)
    ]
    limit = SMS_MAX_BYTES if msg_type == "SMS" else MAX_BYTES
    for i, (phone, text) in enumerate(texts, start=1):
        if not phone or not text.strip():
            return answer(-105, f"rec_{i}, msg_{i} 가 필요합니다.")
        if kr_bytes(text) > limit:
            return answer(-105, f"msg_{i} 가 {msg_type} 길이({limit:,}바이트)를 넘습니다.")
    return _accept(state, fields, msg_type, texts)


# -- reading back -------------------------------------------------------------------------
def _sends(state: SimulatorState) -> dict[str, list[dict[str, Any]]]:
    """Stored recipients grouped by ``msg_id`` (Aligo's ``mid``), newest send first."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for message in state.messages[VENDOR].values():
        groups.setdefault(message.message_id, []).append(message.fields)
    return dict(sorted(groups.items(), key=lambda item: int(item[0]), reverse=True))


def _page(fields: dict[str, Any], rows: list[Any]) -> tuple[list[Any], str]:
    """One page of ``rows`` (``page_size`` 30 to 500, default 30) and ``next_yn``."""
    page = max(as_int(fields.get("page"), 1), 1)
    size = min(max(as_int(fields.get("page_size"), 30), 30), 500)
    return rows[(page - 1) * size : page * size], "Y" if len(rows) > page * size else "N"


def _within_days(fields: dict[str, Any], reg_date: str) -> bool:
    """``start_date`` (YYYYMMDD) is the first day shown and ``limit_day`` how many days from it
    (the simulator's reading of Aligo's terse "조회시작일자"/"조회마감일자")."""
    start = str(fields.get("start_date") or "")
    if not start:
        return True
    try:
        first = datetime.strptime(start, "%Y%m%d")
    except ValueError:
        return True
    days = as_int(fields.get("limit_day"), 0)
    day = datetime.strptime(reg_date[:10], "%Y-%m-%d")
    return day >= first and (days <= 0 or day < first + timedelta(days=days))


@bp.post("/list/")
@synchronized
def list_sends() -> Response:
    fields = form_or_json()
    rows = []
    for mid, recipients in _sends(get_state()).items():
        first = recipients[0]
        if not _within_days(fields, first["reg_date"]):
            continue
        # Only a reservation has a reservation state; an immediate send shows "".
        reserve_state = (
            aligo_schedule.RESERVE_STATE_TEXT[aligo_schedule.state_of(first)]
            if first["reserve_date"]
            else ""
        )
        rows.append(
            {
                "mid": mid,
                "type": first["msg_type"],
                "sender": first["sender"],
                "sms_count": str(len(recipients)),
                "reserve_state": reserve_state,
                "msg": first["msg"],
                "fail_count": "0",
                "reg_date": first["reg_date"],
                "reserve": first["reserve_date"],
            }
        )
    page, next_yn = _page(fields, rows)
    return answer(1, list=page, next_yn=next_yn)


@bp.post("/sms_list/")
@synchronized
def list_recipients() -> Response:
    fields = form_or_json()
    if not fields.get("mid"):
        return answer(-105, "mid 가 필요합니다.")
    recipients = _sends(get_state()).get(str(fields["mid"]), [])
    rows = [
        {
            "mdid": item["mdid"],
            "type": item["msg_type"],
            "sender": item["sender"],
            "receiver": item["receiver"],
            "sms_state": aligo_schedule.RESERVE_STATE_TEXT[aligo_schedule.state_of(item)],
            "reg_date": item["reg_date"],
            "send_date": aligo_schedule.send_date(item),
            "reserve_date": item["reserve_date"],
        }
        for item in recipients
    ]
    page, next_yn = _page(fields, rows)
    return answer(1, list=page, next_yn=next_yn)


@bp.post("/remain/")
@synchronized
def remain() -> Response:
    state = get_state()
    point = state.balances["aligo"]
    counts = {f"{t}_CNT": int(point // state.options.price(t)) for t in ("SMS", "LMS", "MMS")}
    return answer(1, "", **counts)


@bp.post("/cancel/")
@synchronized
def cancel() -> Response:
    state = get_state()
    fields = form_or_json()
    if not fields.get("mid"):
        return answer(-105, "mid 가 필요합니다.")
    recipients = _sends(state).get(str(fields["mid"]))
    if not recipients:
        return answer(-105, "존재하지 않는 메시지(mid)입니다.")
    if aligo_schedule.state_of(recipients[0]) != aligo_schedule.RESERVED:
        return answer(-105, "예약 대기중인 문자만 취소할 수 있습니다.")
    cancelled_at = fmt_datetime()
    for item in recipients:
        item["cancel_date"] = cancelled_at
    state.balances["aligo"] += sum(item["unit"] for item in recipients)
    return answer(1, cancel_date=cancelled_at)


def vendor_error(code: str, message: str | None, http_status: int | None) -> Response:
    """Injected vendor error with Aligo's body shape."""
    try:
        number = int(code)
    except ValueError:
        number = -105
    return answer(number, message, http_status)
