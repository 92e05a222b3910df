"""SOLAPI message groups: every send request opens one, and the group is what SOLAPI answers.

A group keeps what was decided when it was sent (its messages, refusals, schedule, agent,
charges); everything that changes with delivery (counts, status, completion) is worked out
from its messages whenever it is shown, so it always agrees with the message list.

The group object carries the union of the fields SOLAPI's SDKs require of it: the Python SDK
(5.0.3, ``GroupMessageResponse``) and the Node SDK (6.0.1, ``groupMessageResponseSchema`` for a
send or one group, ``groupSchema`` for the group list), plus the remaining fields of SOLAPI's
own sample answers (``serviceMethod``, ``flagUpdated``, ``prepaid``, ``strict``...).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from .common import iso_now
from .solapi_ids import ACCOUNT_ID, new_message_id
from .solapi_messages import is_final
from .state import SimulatorState

#: Per-type keys of ``countForCharge``, ``app.profit`` and the statistics, in SOLAPI's order;
#: the SDKs require the first eleven.
TYPE_KEYS = (
    "sms lms mms ata cta cti nsa rcs_sms rcs_lms rcs_mms rcs_tpl rcs_itpl rcs_ltpl fax voice"
).split()
#: How SOLAPI's group log names each type ("국가코드(82)의 단문문자(SMS) 1 건이 추가되었습니다.").
TYPE_NAMES = {
    "SMS": "단문문자",
    "LMS": "장문문자",
    "MMS": "사진문자",
    "ATA": "알림톡",
    "CTA": "친구톡",
    "CTI": "친구톡 이미지",
}


class GroupRefused(ValueError):
    """A group call SOLAPI would refuse; ``code`` is the answer's ``errorCode``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def open_group(
    state: SimulatorState,
    *,
    agent: Any = None,
    allow_duplicates: bool = False,
    scheduled: datetime | None = None,
) -> dict[str, Any]:
    """Store a new group for one send request (its messages are added with ``add_results``)."""
    agent = agent if isinstance(agent, dict) else {}
    now = iso_now()
    group = {
        "groupId": new_message_id("G4V"),
        "sdkVersion": agent.get("sdkVersion"),
        "osPlatform": agent.get("osPlatform"),
        "appId": agent.get("appId"),
        "allowDuplicates": bool(allow_duplicates),
        "scheduledDate": _iso(scheduled) if scheduled else None,
        "scheduledAt": scheduled.timestamp() if scheduled else None,
        "cancelled": False,
        "refund": 0.0,
        "messageIds": [],
        "failed": [],
        "dateCreated": now,
        "dateUpdated": now,
        "log": [_log("메시지 그룹이 생성되었습니다.")],
    }
    state.groups["solapi"][group["groupId"]] = group
    return group


def add_results(
    state: SimulatorState,
    group: dict[str, Any],
    accepted: list[dict[str, Any]],
    failed: list[dict[str, Any]],
) -> None:
    """Record a send's accepted and refused messages in its group, and log the send."""
    group["messageIds"].extend(m["messageId"] for m in accepted)
    group["failed"].extend(failed)
    for (country, mtype), count in Counter((m["country"], m["type"]) for m in accepted).items():
        name = TYPE_NAMES.get(mtype, mtype)
        group["log"].append(
            _log(f"국가코드({country})의 {name}({mtype}) {count} 건이 추가되었습니다.")
        )
    if not accepted:
        return
    spent = sum(state.options.price(m["type"]) for m in accepted)
    balance = state.balances["solapi"]
    if group["scheduledAt"] is not None:
        group["log"].append(
            _log("메시지 예약을 설정했습니다.", scheduledDate=group["scheduledDate"])
        )
    else:
        group["log"].append(
            _log(
                "메시지를 발송했습니다.",
                oldBalance=balance + spent,
                newBalance=balance,
                totalPrice=spent,
            )
        )


def find_group(state: SimulatorState, group_id: str) -> dict[str, Any]:
    group = state.groups["solapi"].get(group_id)
    if group is None:
        raise GroupRefused("NotFound", f"해당 그룹이 없습니다: {group_id}")
    return group


def group_messages(state: SimulatorState, group: dict[str, Any]) -> list[dict[str, Any]]:
    """The current view of the group's accepted messages, in the order they were sent."""
    step = state.options.delivery_step_seconds
    stored = state.messages["solapi"]
    return [stored[i].current(step) for i in group["messageIds"] if i in stored]


def cancel_reservation(state: SimulatorState, group: dict[str, Any]) -> None:
    """Cancel a scheduled group: it goes back to PENDING, never sends, and is refunded.

    SOLAPI documents the cancelled group as PENDING with no ``scheduledDate`` ("예약 취소된
    그룹은 다시 예약하거나 발송 요청하지 않는 한 발송 처리되지 않습니다").
    """
    if group_status(state, group) != "SCHEDULED":
        raise GroupRefused("InvalidGroupStatus", "예약 상태의 그룹만 예약을 취소할 수 있습니다.")
    spent = _spent(state, group)
    for message_id in group["messageIds"]:
        state.messages["solapi"][message_id].held_until = math.inf
    state.balances["solapi"] += spent
    group.update(
        cancelled=True,
        refund=spent,
        scheduledDate=None,
        scheduledAt=None,
        dateUpdated=iso_now(),
    )
    group["log"].append(_log("메시지 예약이 성공적으로 취소됐습니다."))


def group_status(state: SimulatorState, group: dict[str, Any]) -> str:
    """PENDING, SCHEDULED, SENDING, COMPLETE or FAILED, from the group and its messages."""
    if not group["messageIds"]:
        return "FAILED" if group["failed"] else "PENDING"
    if group["cancelled"]:
        return "PENDING"
    if group["scheduledAt"] is not None and time.time() < group["scheduledAt"]:
        return "SCHEDULED"
    if all(is_final(m.get("statusCode")) for m in group_messages(state, group)):
        return "COMPLETE"
    return "SENDING"


def group_view(state: SimulatorState, group: dict[str, Any]) -> dict[str, Any]:
    """The group as SOLAPI answers it (send answers, group list, one group, cancellation)."""
    messages = group_messages(state, group)
    status = group_status(state, group)
    held = status in ("SCHEDULED", "PENDING")
    codes = [m.get("statusCode") for m in messages]
    succeeded = codes.count("4000")
    failed = sum(1 for code in codes if is_final(code) and code != "4000")
    pending = 0 if held else len(codes) - succeeded - failed
    spent = _spent(state, group)
    completed = max((m.get("dateReported") or "" for m in messages), default="") or None
    sent = group["scheduledDate"] or group["dateCreated"]
    return {
        "_id": group["groupId"],
        "groupId": group["groupId"],
        "accountId": ACCOUNT_ID,
        "masterAccountId": None,
        "apiVersion": "4",
        "status": status,
        "serviceMethod": "MT",
        "count": {
            "total": len(messages) + len(group["failed"]),
            "sentTotal": succeeded + failed + pending,
            "sentFailed": failed,
            "sentSuccess": succeeded,
            "sentPending": pending,
            "sentReplacement": 0,
            "refund": len(messages) if group["cancelled"] else 0,
            "registeredFailed": len(group["failed"]),
            "registeredSuccess": len(messages),
        },
        "countForCharge": _count_for_charge(messages),
        "balance": _cash(spent, group["refund"]),
        "point": _cash(0, 0),
        "app": {
            "profit": dict.fromkeys(TYPE_KEYS, 0),
            "appId": group["appId"],
            "version": None,
        },
        "sdkVersion": group["sdkVersion"],
        "osPlatform": group["osPlatform"],
        "log": list(group["log"]),
        "allowDuplicates": group["allowDuplicates"],
        "isRefunded": group["refund"] > 0,
        "flagUpdated": False,
        "prepaid": True,
        "strict": False,
        "customFields": {},
        "hint": None,
        "price": {"82": {key: state.options.price(key.upper()) for key in TYPE_KEYS}},
        "scheduledDate": group["scheduledDate"],
        "dateSent": None if held or not messages else sent,
        "dateCompleted": completed if status == "COMPLETE" else None,
        "dateCreated": group["dateCreated"],
        "dateUpdated": max(group["dateUpdated"], completed or ""),
    }


def list_rows(state: SimulatorState) -> list[dict[str, Any]]:
    """Every group as shown in the group list, newest first (SOLAPI's own order)."""
    return [group_view(state, g) for g in reversed(state.groups["solapi"].values())]


def _spent(state: SimulatorState, group: dict[str, Any]) -> float:
    stored = state.messages["solapi"]
    return sum(
        state.options.price(stored[i].fields["type"]) for i in group["messageIds"] if i in stored
    )


def _count_for_charge(messages: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    charged: dict[str, dict[str, int]] = {key: {} for key in TYPE_KEYS}
    for message in messages:
        per_country = charged.setdefault(str(message["type"]).lower(), {})
        per_country[message["country"]] = per_country.get(message["country"], 0) + 1
    return charged


def _cash(requested: float, refund: float) -> dict[str, float]:
    return {"requested": requested, "replacement": 0, "refund": refund, "sum": requested - refund}


def _iso(moment: datetime) -> str:
    """A date the way SOLAPI writes all of its dates: UTC with milliseconds."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _log(message: str, **details: Any) -> dict[str, Any]:
    return {"createAt": iso_now(), "message": message, **details}
