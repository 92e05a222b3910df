"""SOLAPI simulator endpoints: sends, message and group lists, reservations, statistics,
balance and file upload.

Answers carry every field SOLAPI's published SDKs (Python 5.0.3, Node 6.0.1) require; the
work behind each endpoint lives in its own module: authentication in :mod:`.solapi_auth`,
message intake in :mod:`.solapi_messages`, groups in :mod:`.solapi_groups`, list queries in
:mod:`.solapi_filters`, statistics in :mod:`.solapi_statistics`, uploads in
:mod:`.solapi_storage`.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, request

from .common import json_response
from .solapi_auth import check_auth, error
from .solapi_filters import QueryRefused, group_filter, message_filter, page, parse_date
from .solapi_groups import (
    GroupRefused,
    add_results,
    cancel_reservation,
    find_group,
    group_messages,
    group_view,
    list_rows,
    open_group,
)
from .solapi_ids import ACCOUNT_ID, new_message_id
from .solapi_messages import STATUS_ALIASES, STATUS_MESSAGES, register, status_step
from .solapi_statistics import statistics
from .solapi_storage import UploadRefused, store_upload
from .state import SimulatorState, get_state, synchronized

bp = Blueprint("sim_solapi", __name__, url_prefix="/solapi")


@bp.before_request
def _authenticate() -> Response | None:
    return check_auth(get_state())


@bp.errorhandler(QueryRefused)
@bp.errorhandler(UploadRefused)
def _refused(exc: ValueError) -> Response:
    return error("ValidationError", str(exc))


@bp.errorhandler(GroupRefused)
def _group_refused(exc: GroupRefused) -> Response:
    return error(exc.code, str(exc))


# -- sending -------------------------------------------------------------------------------
@bp.post("/messages/v4/send-many/detail")
@synchronized
def send_many_detail() -> Response:
    """SDK v6 ``send``: per-message failures go to ``failedMessageList`` with HTTP 200."""
    state = get_state()
    payload = request.get_json(silent=True)
    messages = payload.get("messages") if isinstance(payload, dict) else None
    if (
        not isinstance(messages, list)
        or not messages
        or not all(isinstance(m, dict) for m in messages)
    ):
        return error("ValidationError", "messages 는 1개 이상의 메시지 객체 배열이어야 합니다.")
    scheduled = _scheduled_date(payload.get("scheduledDate"))
    group = open_group(
        state,
        agent=payload.get("agent"),
        allow_duplicates=bool(payload.get("allowDuplicates")),
        scheduled=scheduled,
    )
    accepted, failed = _register_all(state, messages, group["groupId"], scheduled)
    add_results(state, group, accepted, failed)
    body: dict[str, Any] = {"groupInfo": group_view(state, group), "failedMessageList": failed}
    if payload.get("showMessageList", True) is not False:
        body["messageList"] = [_listed(m) for m in accepted]
    return json_response(body)


@bp.post("/messages/v4/send")
@synchronized
def send_one() -> Response:
    """SDK v5 ``sendOne``: one message, refusal as a 400 ``{errorCode, errorMessage}``."""
    state = get_state()
    payload = request.get_json(silent=True)
    msg = payload.get("message") if isinstance(payload, dict) else None
    if not isinstance(msg, dict):
        return error("ValidationError", "message 객체가 필요합니다.")
    group = open_group(state, agent=payload.get("agent"))
    entry, ok = register(state, msg, group["groupId"])
    add_results(state, group, [entry] if ok else [], [] if ok else [entry])
    if not ok:
        return error(
            "FailedToAddMessage",
            f"{entry['statusMessage']} ({entry['statusCode']})",
            statusCode=entry["statusCode"],
            statusMessage=entry["statusMessage"],
        )
    return json_response({**entry, "groupId": group["groupId"]})


# -- messages -------------------------------------------------------------------------------
@bp.get("/messages/v4/list")
@bp.get("/messages/v4/list-old")
@synchronized
def list_messages() -> Response:
    """Message list (the Node SDK reads ``list``, the Python SDK ``list-old``, same answer).

    ``messageList`` is an object keyed by message id, newest first, as SOLAPI answers.
    """
    matches = message_filter(request.args)
    rows = [m for m in reversed(get_state().current_messages("solapi")) if matches(m)]
    return _message_page(rows)


# -- groups ----------------------------------------------------------------------------------
@bp.get("/messages/v4/groups")
@synchronized
def list_groups() -> Response:
    matches = group_filter(request.args)
    paging, rows = page([g for g in list_rows(get_state()) if matches(g)], request.args, "groupId")
    return json_response({**paging, "groupList": {g["groupId"]: g for g in rows}})


@bp.get("/messages/v4/groups/<group_id>")
@synchronized
def get_group(group_id: str) -> Response:
    state = get_state()
    return json_response(group_view(state, find_group(state, group_id)))


@bp.get("/messages/v4/groups/<group_id>/messages")
@synchronized
def get_group_messages(group_id: str) -> Response:
    state = get_state()
    return _message_page(list(reversed(group_messages(state, find_group(state, group_id)))))


@bp.delete("/messages/v4/groups/<group_id>/schedule")
@synchronized
def cancel_group_reservation(group_id: str) -> Response:
    state = get_state()
    group = find_group(state, group_id)
    cancel_reservation(state, group)
    return json_response(group_view(state, group))


# -- account -----------------------------------------------------------------------------------
@bp.get("/messages/v4/statistics")
@synchronized
def get_statistics() -> Response:
    args = request.args
    start = parse_date(args["startDate"]) if args.get("startDate") else None
    end = parse_date(args["endDate"]) if args.get("endDate") else None
    return json_response(statistics(get_state(), start, end))


@bp.get("/cash/v1/balance")
@synchronized
def balance() -> Response:
    """Cash and point balances, with the low-balance alert as the Node SDK requires it.

    The alert's ``currentBalance`` is a string: the Node SDK's schema requires one, where
    SOLAPI's older sample answer shows ``null``; the SDK is the newer word and checks it.
    """
    state = get_state()
    cash = state.balances["solapi"]
    return json_response(
        {
            "balance": cash,
            "point": state.balances["solapi_point"],
            "deposit": 0,
            "balanceOnly": cash,
            "accountId": ACCOUNT_ID,
            "minimumCash": 0,
            "rechargeTo": 0,
            "rechargeTryCount": 0,
            "autoRecharge": 0,
            "lowBalanceAlert": {
                "notificationBalance": "0",
                "currentBalance": _amount_text(cash),
                "balances": [],
                "channels": [],
                "enabled": False,
            },
        }
    )


@bp.post("/storage/v1/files")
@synchronized
def upload_file() -> Response:
    """File upload: ``{file: base64, type, name?, link?}`` -> the stored file's description."""
    return json_response(store_upload(get_state(), request.get_json(silent=True)))


# -- helpers -----------------------------------------------------------------------------------
def _scheduled_date(value: Any) -> datetime | None:
    """The reservation date of a send; a date already past sends at once, as SOLAPI does."""
    if not value:
        return None
    scheduled = parse_date(str(value))
    return scheduled if scheduled.timestamp() > time.time() else None


def _register_all(
    state: SimulatorState,
    messages: list[dict[str, Any]],
    group_id: str,
    scheduled: datetime | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    held_until = scheduled.timestamp() if scheduled else None
    accepted, failed = [], []
    for msg in messages:
        entry, ok = register(state, msg, group_id, held_until)
        (accepted if ok else failed).append(entry)
    return accepted, failed


def _listed(entry: dict[str, Any]) -> dict[str, Any]:
    """A send answer's ``messageList`` item: what the SDKs declare it holds (no number, so a
    client matches a batch's answers by the custom fields it sent)."""
    keys = ("messageId", "statusCode", "statusMessage")
    item = {key: entry[key] for key in keys}
    if "customFields" in entry:
        item["customFields"] = entry["customFields"]
    return item


def _message_page(rows: list[dict[str, Any]]) -> Response:
    paging, on_page = page(rows, request.args, "messageId")
    return json_response({**paging, "messageList": {m["messageId"]: m for m in on_page}})


def _amount_text(amount: float) -> str:
    return str(int(amount)) if float(amount).is_integer() else str(amount)


# -- hooks used by the app factory and the control API ---------------------------------
def vendor_error(code: str, message: str | None, http_status: int | None) -> Response:
    """Injected vendor error. A 4-digit statusCode fails every message of a send request
    the way SOLAPI does; anything else is answered as an ``{errorCode, errorMessage}`` body.
    """
    state = get_state()
    text = message or STATUS_MESSAGES.get(code, code)
    payload = request.get_json(silent=True) if request.is_json else None
    if code.isdigit() and request.path.endswith("/send-many/detail") and isinstance(payload, dict):
        failed = [
            {
                "messageId": new_message_id(),
                "to": str(m.get("to") or ""),
                "from": str(m.get("from") or ""),
                "type": str(m.get("type") or "SMS"),
                "country": "82",
                "accountId": ACCOUNT_ID,
                "statusCode": code,
                "statusMessage": text,
                # SOLAPI echoes a message's custom fields in its failed entry too.
                **({"customFields": m["customFields"]} if m.get("customFields") else {}),
            }
            for m in payload.get("messages") or []
            if isinstance(m, dict)
        ]
        with state.lock:
            group = open_group(state, agent=payload.get("agent"))
            add_results(state, group, [], failed)
            body = {"groupInfo": group_view(state, group), "failedMessageList": failed}
        return json_response(body, http_status or 200)
    if code.isdigit():
        return error(
            "FailedToAddMessage",
            f"{text} ({code})",
            http_status,
            statusCode=code,
            statusMessage=text,
        )
    return error(code or "InternalError", text, http_status)


def status_update(fields: dict[str, Any]) -> dict[str, Any]:
    """Control API: normalise ``{"status": "delivered"}`` or ``{"statusCode": "3104"}``."""
    fields = dict(fields)
    alias = fields.pop("status", None)
    if alias:
        fields.setdefault("statusCode", STATUS_ALIASES.get(str(alias).lower(), str(alias)))
    if "statusCode" in fields:
        code = str(fields["statusCode"])
        return {**status_step(code), **fields, "statusCode": code}
    return fields
