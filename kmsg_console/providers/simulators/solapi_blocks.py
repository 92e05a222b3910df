"""SOLAPI's block lists (수신 거부): ``GET /iam/v1/block/groups`` and ``/iam/v1/block/numbers``.

As SOLAPI's Node SDK (6.0.1, ``IamService.getBlockGroups`` / ``getBlockNumbers``) calls them:
a query string of optional filters plus ``startKey``/``limit`` paging (default 20, at most
500), answered as ``{startKey, limit, nextKey, blockGroups|blockNumbers}``. A block group
(``blockGroupId, accountId, status ACTIVE|INACTIVE, name, useAll, senderNumbers, dates``)
says which of the account's sender numbers its numbers refuse (``useAll``: every one); a
block number (``blockNumberId, accountId, memo, phoneNumber, blockGroupIds, dates``) is a
recipient who refused them. The SDK sends ``name`` and ``memo`` as ``name[like]`` /
``memo[like]``. Same HMAC auth as the message API. Tests seed both lists through the control
API (``POST /_control/blocks/solapi/groups`` and ``.../numbers``); the ids are simulator
stand-ins of SOLAPI's shape.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, request

from .common import digits, iso_now, json_response, random_token
from .solapi_auth import check_auth, error
from .solapi_ids import ACCOUNT_ID
from .solapi_kakao_queries import FLAG, TEXT, QueryError, conditions, matches, page
from .state import SimulatorState, get_state, synchronized

bp = Blueprint("sim_solapi_blocks", __name__, url_prefix="/solapi/iam/v1/block")

GROUP_FILTERS = {"blockGroupId": TEXT, "useAll": FLAG, "name": TEXT, "status": TEXT}
NUMBER_FILTERS = {"blockNumberId": TEXT, "phoneNumber": TEXT, "memo": TEXT}


@bp.before_request
def _authenticate() -> Response | None:
    return check_auth(get_state())


def _new_id(prefix: str) -> str:
    return prefix + datetime.now(UTC).strftime("%y%m%d%H%M%S%f")[:15] + random_token(11)


def add_group(
    state: SimulatorState,
    *,
    name: str | None = None,
    use_all: bool = False,
    sender_numbers: list[str] | None = None,
    status: str = "ACTIVE",
) -> dict[str, Any]:
    """Store a block group (control API)."""
    if status not in ("ACTIVE", "INACTIVE"):
        raise ValueError("status must be ACTIVE or INACTIVE")
    now = iso_now()
    group = {
        "blockGroupId": _new_id("BG01"),
        "accountId": ACCOUNT_ID,
        "status": status,
        "name": name,
        "useAll": bool(use_all),
        "senderNumbers": [digits(n) for n in sender_numbers or []],
        "dateCreated": now,
        "dateUpdated": now,
    }
    state.block_groups[group["blockGroupId"]] = group
    return group


def add_number(
    state: SimulatorState, phone: str, *, group_ids: list[str] | None = None, memo: str = ""
) -> dict[str, Any]:
    """Store a blocked recipient (control API); the groups must exist."""
    unknown = [g for g in group_ids or [] if g not in state.block_groups]
    if unknown:
        raise KeyError(unknown[0])
    if not digits(phone):
        raise ValueError("phoneNumber is required")
    now = iso_now()
    number = {
        "blockNumberId": _new_id("BN01"),
        "accountId": ACCOUNT_ID,
        "memo": memo or "",
        "phoneNumber": digits(phone),
        "blockGroupIds": list(group_ids or []),
        "dateCreated": now,
        "dateUpdated": now,
    }
    state.block_numbers[number["blockNumberId"]] = number
    return number


@bp.get("/groups")
@synchronized
def list_groups() -> Response:
    try:
        found = conditions(request.args, GROUP_FILTERS)
    except QueryError as exc:
        return error("ValidationError", str(exc))
    sender = digits(request.args.get("senderNumber"))
    rows = [
        g
        for g in get_state().block_groups.values()
        if matches(g, found) and (not sender or sender in g["senderNumbers"])
    ]
    return json_response(page(rows, request.args, "blockGroupId", "blockGroups"))


@bp.get("/numbers")
@synchronized
def list_numbers() -> Response:
    try:
        found = conditions(request.args, NUMBER_FILTERS)
    except QueryError as exc:
        return error("ValidationError", str(exc))
    group = request.args.get("blockGroupId")
    rows = [
        n
        for n in get_state().block_numbers.values()
        if matches(n, found) and (not group or group in n["blockGroupIds"])
    ]
    return json_response(page(rows, request.args, "blockNumberId", "blockNumbers"))
