"""SOLAPI simulator endpoints: v6/v5 sends, message list, balance, file upload.

Shapes follow the SOLAPI SDK as described in kmsg-facts §2.1; authentication lives in
:mod:`.solapi_auth` and message intake in :mod:`.solapi_messages`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, request

from .common import iso_now, json_response, random_token
from .solapi_auth import check_auth, error
from .solapi_messages import (
    ACCOUNT_ID,
    STATUS_ALIASES,
    STATUS_MESSAGES,
    group_body,
    new_message_id,
    register,
    status_step,
)
from .state import get_state, synchronized

bp = Blueprint("sim_solapi", __name__, url_prefix="/solapi")


@bp.before_request
def _authenticate() -> Response | None:
    return check_auth(get_state())


# -- endpoints -------------------------------------------------------------------
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
    group_id = new_message_id("G4V")
    accepted, failed = [], []
    for msg in messages:
        entry, ok = register(state, msg, group_id)
        (accepted if ok else failed).append(entry)
    return json_response(
        group_body(
            group_id,
            accepted,
            failed,
            payload.get("scheduledDate"),
            state,
            show_list=payload.get("showMessageList", True) is not False,
        )
    )


@bp.post("/messages/v4/send")
@synchronized
def send_one() -> Response:
    """SDK v5 ``sendOne``: one message, refusal as a 400 ``{errorCode, errorMessage}``."""
    state = get_state()
    payload = request.get_json(silent=True)
    msg = payload.get("message") if isinstance(payload, dict) else None
    if not isinstance(msg, dict):
        return error("ValidationError", "message 객체가 필요합니다.")
    entry, ok = register(state, msg, new_message_id("G4V"))
    if not ok:
        return error(
            "FailedToAddMessage",
            f"{entry['statusMessage']} ({entry['statusCode']})",
            statusCode=entry["statusCode"],
            statusMessage=entry["statusMessage"],
        )
    stored = state.find_messages("solapi", entry["messageId"])[0]
    return json_response({**entry, "groupId": stored.fields["groupId"]})


@bp.get("/messages/v4/list")
@synchronized
def list_messages() -> Response:
    """Message list; ``messageList`` is an object keyed by message id, as SOLAPI answers."""
    state = get_state()
    args = request.args
    try:
        limit = max(1, min(int(args.get("limit", 20)), 500))
    except ValueError:
        return error("ValidationError", "limit 은 숫자여야 합니다.")
    rows = state.current_messages("solapi")
    for key in ("messageId", "groupId", "to", "from", "type"):
        if args.get(key):
            rows = [r for r in rows if str(r.get(key)) == args[key]]
    start = args.get("startKey")
    if start:
        ids = [r["messageId"] for r in rows]
        rows = rows[ids.index(start) :] if start in ids else []
    page, rest = rows[:limit], rows[limit:]
    return json_response(
        {
            "limit": limit,
            "startKey": start,
            "nextKey": rest[0]["messageId"] if rest else None,
            "messageList": {r["messageId"]: r for r in page},
        }
    )


@bp.get("/cash/v1/balance")
@synchronized
def balance() -> Response:
    state = get_state()
    return json_response(
        {
            "balance": state.balances["solapi"],
            "point": state.balances["solapi_point"],
            "deposit": 0,
            "lowBalanceAlert": {"enabled": False},
        }
    )


@bp.post("/storage/v1/files")
@synchronized
def upload_file() -> Response:
    """File upload: ``{file: base64, type, name?, link?}`` -> ``{fileId, type, link}``."""
    payload = request.get_json(silent=True) or {}
    if not payload.get("file") or payload.get("type") not in (
        "MMS",
        "KAKAO",
        "RCS",
        "FAX",
        "DOCUMENT",
    ):
        return error("ValidationError", "file(base64)과 type 이 필요합니다.")
    file_id = "ST01FZ" + datetime.now(UTC).strftime("%y%m%d%H%M%S") + random_token(14)
    return json_response(
        {
            "fileId": file_id,
            "type": payload["type"],
            "name": payload.get("name"),
            "link": payload.get("link"),
            "dateCreated": iso_now(),
        }
    )


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
            }
            for m in payload.get("messages") or []
            if isinstance(m, dict)
        ]
        return json_response(
            group_body(new_message_id("G4V"), [], failed, None, state), http_status or 200
        )
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
