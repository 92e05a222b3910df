"""SOLAPI message intake: per-message validation, charging and storage.

Status codes 2000/3000/4000, 1030, 1034, 1062, 3101-3107 are SOLAPI's documented ones
(anchors A3 and SOLAPI's message status code table); the 1020-1026 validation codes are
simulator stand-ins inside SOLAPI's documented "rejected at intake" range (1xxx).
"""

from __future__ import annotations

import re
from typing import Any

from .common import is_kr_phone, iso_now, kr_bytes, render_template
from .solapi_ids import ACCOUNT_ID, new_message_id
from .solapi_senders import is_active
from .solapi_storage import find_file
from .state import SimulatorState, StoredMessage

__all__ = [
    "ACCOUNT_ID",
    "STATUS_ALIASES",
    "STATUS_MESSAGES",
    "is_final",
    "new_message_id",
    "register",
    "status_step",
    "template_variable_names",
]

STATUS_MESSAGES: dict[str, str] = {
    "1010": "필수 파라미터가 누락되었습니다.",
    "1020": "수신번호 형식이 올바르지 않습니다.",
    "1021": "발신번호 형식이 올바르지 않습니다.",
    "1022": "지원하지 않는 메시지 타입입니다.",
    "1023": "SMS 본문은 90바이트를 넘을 수 없습니다.",
    "1024": "LMS/MMS 본문은 2,000바이트를 넘을 수 없습니다.",
    "1025": "알림톡/친구톡 본문은 1,000자를 넘을 수 없습니다.",
    "1026": "제목은 40바이트를 넘을 수 없습니다.",
    "1030": "잔액이 부족합니다.",
    "1034": "imageId가 존재하지 않습니다.",
    "1062": "등록되지 않은 발신번호입니다.",
    "2000": "정상 접수(이통사로 접수 예정) ",
    "3000": "이통사로 접수 완료(결과 대기)",
    "3040": "전송 시간 초과",
    "3101": "발신프로필 키가 유효하지 않습니다.",
    "3103": "메시지가 템플릿과 일치하지 않습니다.",
    "3104": "카카오톡 미사용자",
    "3105": "등록되지 않은 템플릿입니다.",
    "3107": "72시간 이내 카카오톡 미사용 또는 알림톡 차단 사용자",
    "4000": "수신 완료",
}

#: Control-API shortcuts -> SOLAPI statusCode.
STATUS_ALIASES = {
    "pending": "2000",
    "sent": "3000",
    "delivered": "4000",
    "failed": "3040",
    "non_kakao_user": "3104",
}

_RCS = "RCS_SMS RCS_LMS RCS_MMS RCS_TPL RCS_ITPL RCS_LTPL"
KNOWN_TYPES = frozenset(f"SMS LMS MMS ATA CTA CTI NSA VOICE FAX {_RCS}".split())
#: Types for which SOLAPI requires a sender number.
FROM_REQUIRED = frozenset(f"SMS LMS MMS VOICE FAX {_RCS}".split())
#: Codes of a message still on its way: accepted (2000) or handed to the carrier (3000).
IN_FLIGHT = frozenset({"2000", "3000"})


def is_final(code: str | None) -> bool:
    """True once a message's status will not change any more (delivered or failed)."""
    return code not in IN_FLIGHT


def _detect_type(msg: dict[str, Any]) -> str:
    """SOLAPI auto type detection when ``type`` is omitted."""
    if (msg.get("kakaoOptions") or {}).get("templateId"):
        return "ATA"
    if msg.get("imageId"):
        return "MMS"
    return "SMS" if kr_bytes(str(msg.get("text") or "")) <= 90 else "LMS"


def _validate(state: SimulatorState, msg: dict[str, Any], mtype: str) -> str | None:
    """Return a failure statusCode for one message, or None when it can be accepted."""
    opts = state.options
    to, sender = str(msg.get("to") or ""), str(msg.get("from") or "")
    if mtype not in KNOWN_TYPES:
        return "1022"
    if not to or (mtype in FROM_REQUIRED and not sender):
        return "1010"
    if str(msg.get("country") or "82") == "82" and not is_kr_phone(to):
        return "1020"
    if sender and not re.fullmatch(r"\d{7,12}", sender.replace("-", "")):
        return "1021"
    if sender and not is_active(state, sender):
        return "1062"
    text = str(msg.get("text") or "")
    if mtype in ("SMS", "LMS", "MMS") and not text:
        return "1010"
    if mtype == "SMS" and kr_bytes(text) > 90:
        return "1023"
    if mtype in ("LMS", "MMS") and kr_bytes(text) > 2000:
        return "1024"
    if msg.get("subject") and kr_bytes(str(msg["subject"])) > 40:
        return "1026"
    # SOLAPI refuses a message naming a file that was never uploaded as a per-message
    # failure (its status code table: 1034 "imageId가 존재하지 않습니다."), not as a request
    # error: the other messages of the same request are still taken, and a request whose
    # every message is refused is what the SDKs turn into MessageNotReceivedError.
    if msg.get("imageId") and find_file(state, msg["imageId"]) is None:
        return "1034"
    if mtype in ("CTA", "CTI"):
        if (msg.get("kakaoOptions") or {}).get("pfId") != opts.solapi_pf_id:
            return "3101"
        if len(text) > 1000:
            return "1025"
    if mtype == "ATA":
        return _validate_alimtalk(state, msg)
    return None


def _validate_alimtalk(state: SimulatorState, msg: dict[str, Any]) -> str | None:
    kakao = msg.get("kakaoOptions") or {}
    if kakao.get("pfId") != state.options.solapi_pf_id:
        return "3101"
    template = state.templates["solapi"].get(str(kakao.get("templateId") or ""))
    if template is None or template["status"] != "APPROVED":
        return "3105"
    variables = {str(k).strip("#{} "): v for k, v in (kakao.get("variables") or {}).items()}
    if any(name not in variables for name in template_variable_names(template)):
        return "1010"
    if len(render_template(template["content"], variables)) > 1000:
        return "1025"
    return None


def template_variable_names(template: dict[str, Any]) -> list[str]:
    """Names of the template's ``#{...}`` variables (stored as ``[{name: "#{x}"}]``)."""
    return [str(v["name"]).strip("#{} ") for v in template.get("variables", [])]


def status_step(code: str) -> dict[str, Any]:
    """Status fields for ``code``; dates are stamped when the step is built (send or control)."""
    fields: dict[str, Any] = {"statusCode": code, "statusMessage": STATUS_MESSAGES.get(code, "")}
    if code != "2000":
        now = iso_now()
        fields.update(dateUpdated=now, dateProcessed=now, networkName="SKT", networkCode="011")
    if code not in IN_FLIGHT:
        fields.update(
            dateReported=iso_now(),
            dateReceived=iso_now() if code == "4000" else None,
            reason=None if code == "4000" else STATUS_MESSAGES.get(code),
        )
    return fields


def _stored_kakao_options(kakao: Any) -> dict[str, Any] | None:
    """Kakao options the way SOLAPI keeps them: every option present, flags as booleans."""
    if not isinstance(kakao, dict):
        return None
    return {
        "pfId": kakao.get("pfId"),
        "templateId": kakao.get("templateId"),
        "variables": {str(k): str(v) for k, v in (kakao.get("variables") or {}).items()},
        "disableSms": bool(kakao.get("disableSms")),
        "adFlag": bool(kakao.get("adFlag")),
        "imageId": kakao.get("imageId"),
        "buttons": kakao.get("buttons") or [],
    }


def register(
    state: SimulatorState,
    msg: dict[str, Any],
    group_id: str,
    held_until: float | None = None,
) -> tuple[dict[str, Any], bool]:
    """Validate, charge and store one message. Returns (list entry, accepted?).

    ``held_until`` (epoch seconds) keeps a scheduled message waiting for its date.
    """
    mtype = str(msg.get("type") or _detect_type(msg)).upper()
    message_id = new_message_id()
    entry: dict[str, Any] = {
        "messageId": message_id,
        "to": str(msg.get("to") or "").replace("-", ""),
        "from": str(msg.get("from") or "").replace("-", ""),
        "type": mtype,
        "country": str(msg.get("country") or "82"),
        "accountId": ACCOUNT_ID,
    }
    if msg.get("customFields"):
        entry["customFields"] = msg["customFields"]
    code = _validate(state, msg, mtype)
    if code is None and not state.charge("solapi", state.options.price(mtype)):
        code = "1030"
    if code is not None:
        return {**entry, "statusCode": code, "statusMessage": STATUS_MESSAGES[code]}, False
    final = "3104" if mtype == "ATA" and entry["to"] in state.options.non_kakao_users else "4000"
    now = iso_now()
    stored = StoredMessage(
        vendor="solapi",
        message_id=message_id,
        fields={
            **entry,
            "_id": message_id,
            "groupId": group_id,
            "text": msg.get("text"),
            "subject": msg.get("subject"),
            "imageId": msg.get("imageId"),
            "kakaoOptions": _stored_kakao_options(msg.get("kakaoOptions")),
            "customFields": msg.get("customFields") or {},
            "replacement": False,
            "autoTypeDetect": bool(msg.get("autoTypeDetect", not msg.get("type"))),
            "resendCount": 0,
            "log": [],
            "dateCreated": now,
            "dateUpdated": now,
            "dateProcessed": None,
            "dateReported": None,
            "dateReceived": None,
            "reason": None,
            "networkName": None,
            "networkCode": None,
        },
        steps=[status_step("2000"), status_step("3000"), status_step(final)],
        held_until=held_until,
    )
    state.store_message(stored)
    return {**entry, "statusCode": "2000", "statusMessage": STATUS_MESSAGES["2000"]}, True
