"""Aligo Kakao API simulator: AlimTalk and FriendTalk sends, their history, reservations and
the sendable counts (kmsg-facts §2.3).

A send numbers its recipients ``receiver_1`` ... ``receiver_500`` with matching
``subject_N``/``message_N``/``button_N``/``fsubject_N``/``fmessage_N``. AlimTalk is refused
unless ``message_N`` is the approved template text with only the ``#{...}`` parts filled in,
because Kakao (and so Aligo) rejects anything else. ``senddate`` (YYYYMMDDHHMMSS, Korean time)
holds a send until then; ``/akv10/cancel/`` withdraws it before it goes out and refunds it.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, Response, request

from . import aligo_schedule, aligo_tokens
from .aligo_kakao_api import VENDOR, answer, sender_key_problem
from .common import as_int, digits, fmt_datetime, form_or_json, is_kr_phone, matches_template
from .state import SimulatorState, StoredMessage, get_state, synchronized

bp = Blueprint("sim_aligo_kakao_messages", __name__, url_prefix="/aligo/kakao")
bp.before_request(aligo_tokens.require_token)

MAX_RECIPIENTS = 500
#: FriendTalk text limits (Kakao): 1,000 characters, 400 with an image.
FRIENDTALK_MAX_CHARS = 1000
FRIENDTALK_IMAGE_MAX_CHARS = 400
#: Unit price key per Kakao message type in ``SimulatorOptions.unit_prices``.
PRICE_KEYS = {"AT": "ATA", "FT": "CTA"}


def _sender_problem(fields: dict[str, Any]) -> Response | None:
    sender = digits(fields.get("sender"))
    if not sender:
        return answer(506, "sender 가 필요합니다.")
    if not get_state().options.is_registered_sender(sender):
        return answer(508)
    return None


def _recipient_slots(fields: dict[str, Any]) -> list[int]:
    return [i for i in range(1, MAX_RECIPIENTS + 1) if fields.get(f"receiver_{i}")]


@bp.post("/akv10/alimtalk/send/")
@synchronized
def send_alimtalk() -> Response:
    state = get_state()
    fields = form_or_json()
    problem = sender_key_problem(fields)
    if problem:
        return problem
    template = state.templates[VENDOR].get(str(fields.get("tpl_code") or ""))
    if (
        template is None
        or template["inspStatus"] != "APR"
        or template["senderKey"] != fields["senderkey"]
    ):
        return answer(-501)
    problem = _sender_problem(fields)
    if problem:
        return problem
    slots = _recipient_slots(fields)
    if not slots:
        return answer(506, "receiver_1 이 필요합니다.")
    for i in slots:
        if not matches_template(template["templtContent"], str(fields.get(f"message_{i}") or "")):
            return answer(509)
    return _accept(state, fields, "AT", slots, {"tpl_code": template["templtCode"]})


@bp.post("/akv10/friend/send/")
@synchronized
def send_friendtalk() -> Response:
    state = get_state()
    fields = form_or_json()
    problem = sender_key_problem(fields) or _sender_problem(fields)
    if problem:
        return problem
    slots = _recipient_slots(fields)
    if not slots:
        return answer(506, "receiver_1 이 필요합니다.")
    image = request.files.get("image")
    limit = FRIENDTALK_IMAGE_MAX_CHARS if image else FRIENDTALK_MAX_CHARS
    for i in slots:
        text = str(fields.get(f"message_{i}") or "")
        if not text.strip():
            return answer(506, f"message_{i} 이 필요합니다.")
        if len(text) > limit:
            return answer(509, f"친구톡 내용은 {limit:,}자를 넘을 수 없습니다.")
    extra = {
        "advert": str(fields.get("advert") or "N"),
        "image": image.filename if image else "",
        "image_url": str(fields.get("image_url") or ""),
    }
    return _accept(state, fields, "FT", slots, extra)


def _accept(
    state: SimulatorState,
    fields: dict[str, Any],
    kind: str,
    slots: list[int],
    extra: dict[str, Any],
) -> Response:
    """Charge, number and keep a checked send (AlimTalk or FriendTalk)."""
    try:
        when = aligo_schedule.kakao_reservation(str(fields.get("senddate") or ""))
    except aligo_schedule.BadSchedule:
        return answer(509, "senddate 는 YYYYMMDDHHMMSS 형식이어야 합니다.")
    valid = [i for i in slots if is_kr_phone(fields[f"receiver_{i}"])]
    unit = state.options.price(PRICE_KEYS[kind])
    test_mode = str(fields.get("testMode") or "N").upper() == "Y"
    if valid and not test_mode and not state.charge("aligo", unit * len(valid)):
        return answer(-201)
    mid = state.next_number("aligo_mid", 420000001)
    if not test_mode:  # test mode answers like a real send but keeps (and delivers) nothing
        for i in valid:
            stored = StoredMessage(
                VENDOR,
                str(mid),
                {
                    "mid": mid,
                    "msgid": state.next_number("aligo_kakao_msgid", 880000001),
                    "type": kind,
                    "senderKey": fields["senderkey"],
                    "receiver": digits(fields[f"receiver_{i}"]),
                    "sender": digits(fields["sender"]),
                    "subject": str(fields.get(f"subject_{i}") or ""),
                    "message": str(fields.get(f"message_{i}") or ""),
                    "button": str(fields.get(f"button_{i}") or ""),
                    "failover": str(fields.get("failover") or "N"),
                    "tpl_code": "",
                    **extra,
                    "unit": unit,
                    "reg_date": fmt_datetime(),
                    "reserve_date": aligo_schedule.reserve_date(when),
                },
                steps=[],
            )
            state.store_message(stored, key=f"{mid}:{i}")
    info = {
        "type": kind,
        "mid": mid,
        "current": state.balances["aligo"],
        "unit": unit,
        "total": unit * len(valid),
        "scnt": len(valid),
        "fcnt": len(slots) - len(valid),
    }
    return answer(0, "성공적으로 전송요청 하였습니다.", info=info)


# -- history ------------------------------------------------------------------------------
def _sends(state: SimulatorState) -> dict[str, list[dict[str, Any]]]:
    """Stored recipients grouped by ``mid``, newest send first."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for message in state.messages[VENDOR].values():
        groups.setdefault(message.message_id, []).append(message.fields)
    return dict(sorted(groups.items(), key=lambda item: int(item[0]), reverse=True))


def _page(fields: dict[str, Any], rows: list[Any]) -> tuple[list[Any], dict[str, str]]:
    """One page of ``rows`` and Aligo's paging fields (strings, as Aligo sends them)."""
    page = max(as_int(fields.get("page"), 1), 1)
    limit = min(max(as_int(fields.get("limit"), 50), 1), 500)
    paging = {
        "currentPage": str(page),
        "totalPage": str(max(math.ceil(len(rows) / limit), 1)),
        "totalCount": str(len(rows)),
    }
    return rows[(page - 1) * limit : page * limit], paging


def _within_dates(fields: dict[str, Any], reg_date: str) -> bool:
    # Aligo's README spells the start "start_date", its API page "startdate": accept both.
    start = str(fields.get("startdate") or fields.get("start_date") or "")
    end = str(fields.get("enddate") or "")
    day = reg_date[:10].replace("-", "")
    return (not start or day >= start) and (not end or day <= end)


@bp.post("/akv10/history/list/")
@synchronized
def history() -> Response:
    fields = form_or_json()
    rows = []
    for mid, recipients in _sends(get_state()).items():
        first = recipients[0]
        if not _within_dates(fields, first["reg_date"]):
            continue
        rows.append(
            {
                "mid": mid,
                "type": first["type"],
                "sender": first["sender"],
                "msg_count": str(len(recipients)),
                "mbody": first["message"],
                "reserve_date": first["reserve_date"],
                "reserve_state": aligo_schedule.RESERVE_STATE_TEXT[aligo_schedule.state_of(first)],
                "reg_date": first["reg_date"],
            }
        )
    page, paging = _page(fields, rows)
    return answer(0, "정상적으로 조회되었습니다.", list=page, **paging)


@bp.post("/akv10/history/detail/")
@synchronized
def history_detail() -> Response:
    fields = form_or_json()
    if not fields.get("mid"):
        return answer(506, "mid 가 필요합니다.")
    recipients = _sends(get_state()).get(str(fields["mid"]), [])
    rows = []
    for item in recipients:
        state = aligo_schedule.state_of(item)
        sent_at = aligo_schedule.send_date(item)
        rows.append(
            {
                "msgid": str(item["msgid"]),
                "type": item["type"],
                "sender": item["sender"],
                "phone": item["receiver"],
                "status": aligo_schedule.RESERVE_STATE_TEXT[state],
                "reqdate": item["reserve_date"] or item["reg_date"],
                "sentdate": sent_at,
                "rsltdate": sent_at,
                "reportdate": sent_at,
                "rslt": "0" if state == aligo_schedule.SENT else "",
                "rslt_message": "성공" if state == aligo_schedule.SENT else "",
                "message": item["message"],
                "button_json": item["button"],
                "tpl_code": item["tpl_code"],
                "senderKey": item["senderKey"],
                "smid": "",
            }
        )
    page, paging = _page(fields, rows)
    return answer(0, "정상적으로 조회되었습니다.", list=page, **paging)


@bp.post("/akv10/heartinfo/")
@synchronized
def sendable_counts() -> Response:
    state = get_state()
    point = state.balances["aligo"]
    price = state.options.price
    counts = {f"{t}_CNT": int(point // price(t)) for t in ("SMS", "LMS", "MMS")}
    counts["ALT_CNT"] = int(point // price("ATA"))
    # The simulator charges one FriendTalk price whatever its layout (text, image, wide).
    for layout in ("FTS", "FTM", "FTW"):
        counts[f"{layout}_CNT"] = int(point // price("CTA"))
    return answer(0, "정상적으로 조회되었습니다.", list=counts)


@bp.post("/akv10/cancel/")
@synchronized
def cancel() -> Response:
    state = get_state()
    fields = form_or_json()
    if not fields.get("mid"):
        return answer(506, "mid 가 필요합니다.")
    recipients = _sends(state).get(str(fields["mid"]))
    if not recipients:
        return answer(509, "존재하지 않는 메시지(mid)입니다.")
    if aligo_schedule.state_of(recipients[0]) != aligo_schedule.RESERVED:
        return answer(509, "예약 대기중인 메시지만 취소할 수 있습니다.")
    cancelled_at = fmt_datetime()
    for item in recipients:
        item["cancel_date"] = cancelled_at
    state.balances["aligo"] += sum(item["unit"] for item in recipients)
    return answer(0, "예약 발송이 취소되었습니다.")
