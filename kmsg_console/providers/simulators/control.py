"""Control API under ``/_control/``: inspect recorded requests, arm faults, drive state.

Meant for tests on the same machine, so it refuses non-loopback callers. All bodies are
JSON; errors are ``{"error": "..."}`` with 400/403/404.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request

from . import (
    aligo_kakao,
    aligo_tokens,
    iwinv_alimtalk,
    iwinv_sms,
    iwinv_templates,
    solapi,
    solapi_blocks,
    solapi_kakao,
    solapi_senders,
)
from .common import json_response
from .options import STATUS_VENDORS, TEMPLATE_VENDORS, VENDOR_PREFIXES, normalize_vendor
from .state import FAULT_MODE_HELP, FAULT_MODES, SimulatorState, get_state

bp = Blueprint("sim_control", __name__, url_prefix="/_control")

#: vendor -> function turning control input into vendor-native status fields
STATUS_UPDATERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "solapi": solapi.status_update,
    "iwinv_alimtalk": iwinv_alimtalk.status_update,
    "iwinv_sms": iwinv_sms.status_update,
}
#: vendor -> template review function (state, code, action, comment)
REVIEWERS: dict[str, Callable[[SimulatorState, str, str, str | None], dict[str, Any]]] = {
    "solapi": solapi_kakao.review,
    "iwinv_alimtalk": iwinv_templates.review,
    "aligo_kakao": aligo_kakao.review,
}
BALANCE_ACCOUNTS = ("solapi", "solapi_point", "iwinv_alimtalk", "iwinv_sms", "aligo")
_FAULT_FIELDS = {
    "path": str,
    "method": str,
    "status": int,
    "code": str,
    "ms": int,
    "message": str,
    "http_status": int,
    "retry_after": int,
    "body": str,
    "content_type": str,
}

ENDPOINTS = [
    "GET    /_control/requests[/<vendor>]?path=      recorded requests (oldest first)",
    "DELETE /_control/requests[/<vendor>]             forget recorded requests",
    "POST   /_control/clear                           reset requests, faults, messages, templates",
    "GET    /_control/faults                          armed faults",
    "POST   /_control/faults                          arm a fault {vendor, mode, path?, count?}",
    "DELETE /_control/faults[?vendor=]                disarm faults",
    "GET    /_control/messages/<vendor>               stored messages with their current status",
    "POST   /_control/messages/<vendor>/<id>/status   set delivery status {status|fields, phone?}",
    "GET    /_control/templates/<vendor>              stored templates",
    "POST   /_control/templates/<vendor>/<code>/<inspect|approve|reject>   review {comment?}",
    "GET    /_control/balances                        balances per account",
    "POST   /_control/balances/<account>              set a balance {amount}",
    "POST   /_control/tokens/<vendor>/expire          end every API token (aligo_kakao) now",
    "GET    /_control/blocks/solapi                   SOLAPI block groups and blocked numbers",
    "POST   /_control/blocks/solapi/groups            add a block group "
    "{name?, useAll?, senderNumbers?, status?}",
    "POST   /_control/blocks/solapi/numbers           add a blocked number "
    "{phoneNumber, blockGroupIds?, memo?}",
    "GET    /_control/sender-numbers/solapi           the sender numbers SOLAPI lists",
    "PUT    /_control/sender-numbers/solapi           replace them {numbers: [number | "
    "{phoneNumber, status}]}",
]


def describe_control_api() -> str:
    """The control API in plain text: its endpoints and the fault modes a test can arm."""
    modes = [f"  {mode:<15} {effect}" for mode, effect in FAULT_MODE_HELP.items()]
    return "\n".join(
        [
            "Control API (loopback callers only; JSON bodies):",
            *(f"  {line}" for line in ENDPOINTS),
            "",
            "A fault {vendor: solapi|iwinv_alimtalk|iwinv_sms|aligo_sms|aligo_kakao|*, mode,",
            "path?: vendor-relative path, a trailing * matches a prefix, method?, count?: how many",
            "requests it hits (default 1, null for every one), retry_after?} is one of:",
            *modes,
        ]
    )


def _fail(message: str, status: int = 400) -> Response:
    return json_response({"error": message}, status)


def _vendor(value: str, allowed: tuple[str, ...] | None = None) -> str:
    vendor = normalize_vendor(value)
    if allowed is not None and vendor not in allowed:
        raise KeyError(value)
    return vendor


@bp.before_request
def _loopback_only() -> Response | None:
    try:
        loopback = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        loopback = False
    if not loopback and get_state().options.control_loopback_only:
        return _fail("the control API only answers loopback callers", 403)
    return None


@bp.errorhandler(KeyError)
def _unknown(exc: KeyError) -> Response:
    return _fail(f"not found: {exc.args[0] if exc.args else exc}", 404)


@bp.errorhandler(ValueError)
def _invalid(exc: ValueError) -> Response:
    return _fail(str(exc), 400)


@bp.get("/")
def index() -> Response:
    return json_response(
        {
            "vendors": VENDOR_PREFIXES,
            "fault_modes": FAULT_MODE_HELP,
            "endpoints": ENDPOINTS,
        }
    )


@bp.get("/requests")
@bp.get("/requests/<vendor>")
def list_requests(vendor: str | None = None) -> Response:
    vendor_id = (
        _vendor(vendor or request.args["vendor"]) if vendor or request.args.get("vendor") else None
    )
    rows = get_state().list_requests(vendor_id, request.args.get("path"))
    return json_response({"requests": rows, "count": len(rows)})


@bp.delete("/requests")
@bp.delete("/requests/<vendor>")
def clear_requests(vendor: str | None = None) -> Response:
    get_state().clear_requests(_vendor(vendor) if vendor else None)
    return json_response({"cleared": True})


@bp.post("/clear")
def clear() -> Response:
    get_state().reset()
    return json_response({"cleared": True})


@bp.get("/faults")
def list_faults() -> Response:
    state = get_state()
    with state.lock:
        return json_response({"faults": [f.to_dict() for f in state.faults]})


@bp.post("/faults")
def add_fault() -> Response:
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not data.get("vendor") or not data.get("mode"):
        return _fail(f"expected JSON {{vendor, mode}}; modes: {', '.join(FAULT_MODES)}")
    vendor = "*" if data["vendor"] == "*" else _vendor(str(data["vendor"]))
    count = data.get("count", 1)
    kwargs: dict[str, Any] = {
        "vendor": vendor,
        "mode": str(data["mode"]),
        "remaining": None if count is None else int(count),
        "process": bool(data.get("process", False)),
    }
    for name, cast in _FAULT_FIELDS.items():
        if data.get(name) is not None:
            kwargs[name] = cast(data[name])
    if kwargs["mode"] == "status_5xx" and not 500 <= kwargs.get("status", 503) <= 599:
        return _fail("status_5xx needs a status between 500 and 599")
    if kwargs["mode"] == "body" and (
        kwargs.get("body") is None or not 100 <= kwargs.get("status", 200) <= 599
    ):
        return _fail("body needs the raw answer in 'body' (and an HTTP status in 'status')")
    if kwargs["mode"] == "vendor_error" and not kwargs.get("code"):
        return _fail("vendor_error needs the vendor error code in 'code'")
    fault = get_state().add_fault(**kwargs)
    return json_response({"fault": fault.to_dict()}, 201)


@bp.delete("/faults")
def clear_faults() -> Response:
    vendor = request.args.get("vendor")
    get_state().clear_faults(_vendor(vendor) if vendor else None)
    return json_response({"cleared": True})


@bp.get("/messages/<vendor>")
def list_messages(vendor: str) -> Response:
    return json_response({"messages": get_state().current_messages(_vendor(vendor))})


@bp.post("/messages/<vendor>/<message_id>/status")
def set_status(vendor: str, message_id: str) -> Response:
    vendor_id = _vendor(vendor, STATUS_VENDORS)
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not data:
        return _fail(
            'expected a JSON object such as {"status": "delivered"} or vendor status fields'
        )
    phone = data.pop("phone", None)
    fields = STATUS_UPDATERS[vendor_id](data)
    state = get_state()
    with state.lock:
        found = [
            m
            for m in state.find_messages(vendor_id, message_id)
            if phone is None or _phone_of(m.fields) == str(phone)
        ]
        if not found:
            raise KeyError(message_id)
        for message in found:
            message.override = {**(message.override or {}), **fields}
        step = state.options.delivery_step_seconds
        return json_response({"messages": [m.current(step) for m in found]})


def _phone_of(fields: dict[str, Any]) -> str:
    return str(fields.get("to") or fields.get("phone") or fields.get("receiver") or "")


@bp.get("/templates/<vendor>")
def list_templates(vendor: str) -> Response:
    state = get_state()
    with state.lock:
        return json_response(
            {"templates": list(state.templates[_vendor(vendor, TEMPLATE_VENDORS)].values())}
        )


@bp.post("/templates/<vendor>/<code>/<action>")
def review_template(vendor: str, code: str, action: str) -> Response:
    vendor_id = _vendor(vendor, TEMPLATE_VENDORS)
    if action not in ("inspect", "approve", "reject"):
        return _fail("action must be inspect, approve or reject")
    comment = (request.get_json(silent=True) or {}).get("comment")
    if action == "reject" and not comment:
        return _fail("reject needs a 'comment' (the reviewer's reason)")
    state = get_state()
    with state.lock:
        return json_response({"template": REVIEWERS[vendor_id](state, code, action, comment)})


@bp.post("/tokens/<vendor>/expire")
def expire_tokens(vendor: str) -> Response:
    _vendor(vendor, ("aligo_kakao",))
    return json_response({"expired": aligo_tokens.expire_all(get_state())})


@bp.get("/sender-numbers/<vendor>")
def list_sender_numbers(vendor: str) -> Response:
    vendor_id = _vendor(vendor, ("solapi",))
    state = get_state()
    with state.lock:
        return json_response({"senderIds": list(state.sender_ids[vendor_id].values())})


@bp.put("/sender-numbers/<vendor>")
def set_sender_numbers(vendor: str) -> Response:
    """Replace the numbers the vendor lists (SOLAPI sends only from the ACTIVE ones)."""
    _vendor(vendor, ("solapi",))
    numbers = (request.get_json(silent=True) or {}).get("numbers")
    if not isinstance(numbers, list):
        return _fail('expected {"numbers": ["0212345678", {"phoneNumber": ..., "status": ...}]}')
    state = get_state()
    with state.lock:
        return json_response({"senderIds": solapi_senders.set_numbers(state, numbers)})


@bp.get("/balances")
def balances() -> Response:
    state = get_state()
    with state.lock:
        return json_response({"balances": dict(state.balances)})


@bp.post("/balances/<account>")
def set_balance(account: str) -> Response:
    if account not in BALANCE_ACCOUNTS:
        raise KeyError(account)
    amount = (request.get_json(silent=True) or {}).get("amount")
    if not isinstance(amount, (int, float)):
        return _fail('expected {"amount": <number>}')
    state = get_state()
    with state.lock:
        state.balances[account] = float(amount)
        return json_response({"balances": dict(state.balances)})


@bp.get("/blocks/<vendor>")
def list_blocks(vendor: str) -> Response:
    _vendor(vendor, ("solapi",))
    state = get_state()
    with state.lock:
        return json_response(
            {
                "blockGroups": list(state.block_groups.values()),
                "blockNumbers": list(state.block_numbers.values()),
            }
        )


@bp.post("/blocks/<vendor>/groups")
def add_block_group(vendor: str) -> Response:
    _vendor(vendor, ("solapi",))
    data = request.get_json(silent=True) or {}
    senders = data.get("senderNumbers") or []
    if not isinstance(senders, list):
        return _fail("senderNumbers must be a list of numbers")
    state = get_state()
    with state.lock:
        group = solapi_blocks.add_group(
            state,
            name=data.get("name"),
            use_all=bool(data.get("useAll", False)),
            sender_numbers=[str(n) for n in senders],
            status=str(data.get("status") or "ACTIVE"),
        )
    return json_response({"blockGroup": group})


@bp.post("/blocks/<vendor>/numbers")
def add_block_number(vendor: str) -> Response:
    _vendor(vendor, ("solapi",))
    data = request.get_json(silent=True) or {}
    groups = data.get("blockGroupIds") or []
    if not isinstance(groups, list):
        return _fail("blockGroupIds must be a list of group ids")
    state = get_state()
    with state.lock:
        number = solapi_blocks.add_number(
            state,
            str(data.get("phoneNumber") or ""),
            group_ids=[str(g) for g in groups],
            memo=str(data.get("memo") or ""),
        )
    return json_response({"blockNumber": number})
