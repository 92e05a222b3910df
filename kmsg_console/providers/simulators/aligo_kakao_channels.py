"""Aligo Kakao API simulator: Kakao channels (sender profiles) and their business categories.

Registering a channel takes two calls, as at Aligo: ``/akv10/profile/auth/`` makes Kakao send
the channel admin's phone an auth number (here always ``options.aligo_channel_auth_number``),
then ``/akv10/profile/add/`` with that number and a third-level category code issues the
channel's sender key. The demo channel is registered from the start.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask import Blueprint, Response

from . import aligo_tokens
from .aligo_kakao_api import VENDOR, answer
from .common import digits, fmt_datetime, form_or_json, is_kr_phone
from .state import SimulatorState, get_state, synchronized

bp = Blueprint("sim_aligo_kakao_channels", __name__, url_prefix="/aligo/kakao")
bp.before_request(aligo_tokens.require_token)

_PLUS_ID = re.compile(r"^@[0-9A-Za-z가-힣_.-]{1,30}$")

#: A slice of Kakao's three-level business category tree; channels register with a
#: third-level code (the demo channel's is 00100010001).
CATEGORIES: dict[str, list[dict[str, str]]] = {
    "firstBusinessType": [
        {"parentCode": "", "code": "001", "name": "건강"},
        {"parentCode": "", "code": "002", "name": "교육"},
    ],
    "secondBusinessType": [
        {"parentCode": "001", "code": "0010001", "name": "병원"},
        {"parentCode": "002", "code": "0020001", "name": "학원"},
    ],
    "thirdBusinessType": [
        {"parentCode": "0010001", "code": "00100010001", "name": "종합병원"},
        {"parentCode": "0010001", "code": "00100010002", "name": "치과"},
        {"parentCode": "0020001", "code": "00200010001", "name": "외국어"},
    ],
}


def _channel(plus_id: str, sender_key: str, name: str, category: str) -> dict[str, Any]:
    now = fmt_datetime()
    return {
        "senderKey": sender_key,
        "uuid": plus_id,
        "name": name,
        "status": "A",
        "profileStat": "A",
        "alimUseYn": "Y",
        "catCode": category,
        "cdate": now,
        "udate": now,
    }


def seed(state: SimulatorState) -> None:
    opts = state.options
    state.channels[VENDOR][opts.aligo_plus_id] = _channel(
        opts.aligo_plus_id, opts.aligo_sender_key, "KMSG 데모", "00100010001"
    )


def _registered(state: SimulatorState) -> list[dict[str, Any]]:
    return [c for c in state.channels[VENDOR].values() if c.get("senderKey")]


@bp.post("/akv10/profile/list/")
@synchronized
def list_profiles() -> Response:
    fields = form_or_json()
    rows = _registered(get_state())
    if fields.get("senderkey"):
        rows = [c for c in rows if c["senderKey"] == fields["senderkey"]]
    if fields.get("plusid"):
        rows = [c for c in rows if c["uuid"] == fields["plusid"]]
    return answer(0, "정상적으로 조회되었습니다.", list=rows)


@bp.post("/akv10/category/")
@synchronized
def categories() -> Response:
    return answer(0, "정상적으로 조회되었습니다.", data=CATEGORIES)


@bp.post("/akv10/profile/auth/")
@synchronized
def request_auth_number() -> Response:
    state = get_state()
    fields = form_or_json()
    plus_id, phone = str(fields.get("plusid") or ""), str(fields.get("phonenumber") or "")
    if not plus_id or not phone:
        return answer(506, "plusid, phonenumber 가 필요합니다.")
    if not _PLUS_ID.match(plus_id):
        return answer(509, "카카오채널 아이디는 @로 시작해야 합니다.")
    if not is_kr_phone(phone):
        # Aligo's documented answer when Kakao cannot reach the admin's phone.
        return answer(509, "요청한 번호가 카카오채널 관리자 알림 설정 되어있는지 확인해주세요.")
    existing = state.channels[VENDOR].get(plus_id)
    if existing and existing.get("senderKey"):
        return answer(509, "이미 등록된 카카오채널입니다.")
    state.channels[VENDOR][plus_id] = {
        "uuid": plus_id,
        "phonenumber": digits(phone),
        "authnum": state.options.aligo_channel_auth_number,
    }
    return answer(0, "정상적으로 호출하였습니다.")


@bp.post("/akv10/profile/add/")
@synchronized
def register_channel() -> Response:
    state = get_state()
    fields = form_or_json()
    wanted = ("plusid", "authnum", "phonenumber", "categorycode")
    if not all(fields.get(name) for name in wanted):
        return answer(506, "plusid, authnum, phonenumber, categorycode 가 필요합니다.")
    pending = state.channels[VENDOR].get(str(fields["plusid"]))
    if pending is None or pending.get("senderKey"):
        return answer(509, "인증요청(profile/auth)을 먼저 진행해 주세요.")
    if (
        str(fields["authnum"]) != pending["authnum"]
        or digits(fields["phonenumber"]) != pending["phonenumber"]
    ):
        return answer(509, "인증번호가 올바르지 않습니다.")
    category = str(fields["categorycode"])
    if category not in {c["code"] for c in CATEGORIES["thirdBusinessType"]}:
        return answer(509, "카테고리 코드(thirdBusinessType)가 올바르지 않습니다.")
    plus_id = pending["uuid"]
    channel = _channel(plus_id, secrets.token_hex(20), plus_id.lstrip("@"), category)
    state.channels[VENDOR][plus_id] = channel
    return answer(0, "정상적으로 등록하였습니다.", data=channel)
