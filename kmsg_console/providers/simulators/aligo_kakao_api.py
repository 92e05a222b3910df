"""What every call of the Aligo Kakao API simulator shares (kmsg-facts §2.3).

Calls are form posts carrying ``apikey``/``userid`` (and, except for the token call, ``token``)
and answer ``{code, message, ...}`` with ``code == 0`` for success. -99 (account or token
refused) and 509 (request refused; Aligo's own channel-auth example uses it) are Aligo's codes;
-501 (template missing or not approved) and -201 (balance) reuse Aligo's SMS meanings;
506/507/508/510 are simulator stand-ins for cases Aligo documents no code for.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Response

from .common import json_response
from .state import SimulatorState, get_state

VENDOR = "aligo_kakao"

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


def answer(
    code: int, message: str | None = None, http_status: int | None = None, **extra: Any
) -> Response:
    """Aligo Kakao JSON answer."""
    return json_response(
        {"code": code, "message": message or CODES.get(code, "오류"), **extra}, http_status or 200
    )


def account_problem(fields: dict[str, Any]) -> Response | None:
    """-99 unless ``apikey`` and ``userid`` are the account's."""
    opts = get_state().options
    key, user = str(fields.get("apikey") or ""), str(fields.get("userid") or "")
    if hmac.compare_digest(key.encode(), opts.aligo_api_key.encode()) and hmac.compare_digest(
        user.encode(), opts.aligo_user_id.encode()
    ):
        return None
    return answer(-99)


def channel_by_sender_key(state: SimulatorState, sender_key: str) -> dict[str, Any] | None:
    """The registered channel whose sender key is ``sender_key``."""
    return next(
        (
            c
            for c in state.channels[VENDOR].values()
            if c.get("senderKey") and c["senderKey"] == sender_key
        ),
        None,
    )


def sender_key_problem(fields: dict[str, Any]) -> Response | None:
    """506 without ``senderkey``, 507 when no registered channel has it."""
    if not fields.get("senderkey"):
        return answer(506, "senderkey 가 필요합니다.")
    if channel_by_sender_key(get_state(), str(fields["senderkey"])) is None:
        return answer(507)
    return None


def vendor_error(code: str, message: str | None, http_status: int | None) -> Response:
    """Injected vendor error with Aligo Kakao's body shape."""
    try:
        number = int(code)
    except ValueError:
        number = 509
    return answer(number, message, http_status)
