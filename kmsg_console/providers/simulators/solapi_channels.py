"""SOLAPI Kakao channel API (``/kakao/v2/channels``, kmsg-facts §4.4), same HMAC auth as messages.

A channel is linked in two calls, as SOLAPI's Node SDK documents ("getKakaoChannelCategories,
requestKakaoChannelToken 메소드를 선행적으로 호출해야 합니다"): ``POST /channels/token`` has Kakao
send a token to the channel admin's phone, and ``POST /channels`` links the channel with it and a
channel category. Here the admin's phone always receives ``options.solapi_channel_token``; a token
links one channel. Unlinking (``DELETE``) keeps the channel's templates, as SOLAPI only drops the
link. The channel object has the fields the Node SDK requires (``kakaoChannelSchema``:
``channelId, searchId, accountId, sharedAccountIds``; ``phoneNumber`` and the dates optional) plus
``categoryCode``, which the list filters on. ``InvalidToken`` and ``AlreadyExists`` are simulator
stand-ins; SOLAPI does not publish its codes for these refusals.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, request

from .common import digits, is_kr_phone, iso_now, json_response, random_token
from .solapi_auth import check_auth, error
from .solapi_kakao_queries import DATE, TEXT, QueryError, conditions, matches, page
from .solapi_messages import ACCOUNT_ID
from .state import SimulatorState, get_state, synchronized

bp = Blueprint("sim_solapi_channels", __name__, url_prefix="/solapi/kakao/v2/channels")

VENDOR = "solapi"
#: Kakao's business categories are a three-level tree (3 + 4 + 4 digits); a channel is filed
#: under a leaf, so the leaves are listed with their full path.
CATEGORIES = [
    {"code": "00100010001", "name": "건강 > 병원 > 종합병원"},
    {"code": "00100010002", "name": "건강 > 병원 > 치과"},
    {"code": "00200010001", "name": "교육 > 학원 > 어학"},
    {"code": "00300010001", "name": "쇼핑 > 종합몰 > 오픈마켓"},
    {"code": "00400010001", "name": "금융 > 은행 > 시중은행"},
]
#: Fields the list filters on, with SOLAPI's operators per kind (see solapi_kakao_queries).
FILTERS = {
    "channelId": TEXT,
    "searchId": TEXT,
    "phoneNumber": TEXT,
    "categoryCode": TEXT,
    "dateCreated": DATE,
    "dateUpdated": DATE,
}


@bp.before_request
def _authenticate() -> Response | None:
    return check_auth(get_state())


def new_channel_id() -> str:
    """SOLAPI's 32-character shape: ``KA01PF`` + UTC time to the millisecond + random tail."""
    return "KA01PF" + datetime.now(UTC).strftime("%y%m%d%H%M%S%f")[:15] + random_token(11)


def store_channel(
    state: SimulatorState,
    channel_id: str,
    search_id: str,
    phone: str | None,
    category: str,
) -> dict[str, Any]:
    now = iso_now()
    channel = {
        "channelId": channel_id,
        "searchId": search_id,
        "accountId": ACCOUNT_ID,
        "phoneNumber": phone,
        "sharedAccountIds": [],
        "categoryCode": category,
        "dateCreated": now,
        "dateUpdated": now,
    }
    state.channels[VENDOR][channel_id] = channel
    return channel


def seed(state: SimulatorState) -> None:
    """The demo channel every demo template and ALIMTALK send uses."""
    opts = state.options
    store_channel(
        state,
        opts.solapi_pf_id,
        opts.aligo_plus_id.lstrip("@"),
        opts.sender_numbers[0] if opts.sender_numbers else None,
        CATEGORIES[0]["code"],
    )


def linked_channel(state: SimulatorState, channel_id: Any) -> dict[str, Any] | None:
    return state.channels[VENDOR].get(str(channel_id or ""))


def _not_found(channel_id: str) -> Response:
    return error("NotFound", f"카카오 채널을 찾을 수 없습니다: {channel_id}", 404)


def _json_body() -> dict[str, Any] | None:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else None


def _missing(data: dict[str, Any], names: tuple[str, ...]) -> Response | None:
    missing = [name for name in names if not data.get(name)]
    if missing:
        return error("ValidationError", f"필수 항목이 누락되었습니다: {', '.join(missing)}")
    if not is_kr_phone(data["phoneNumber"]):
        return error("ValidationError", "phoneNumber 는 채널 관리자의 휴대폰 번호여야 합니다.")
    return None


@bp.get("/categories")
def categories() -> Response:
    return json_response(CATEGORIES)


@bp.get("")
@synchronized
def list_channels() -> Response:
    try:
        found = conditions(request.args, FILTERS)
    except QueryError as exc:
        return error("ValidationError", str(exc))
    rows = [c for c in get_state().channels[VENDOR].values() if matches(c, found)]
    # isMine=true leaves out the channels other accounts share with this one.
    if request.args.get("isMine", "").lower() == "true":
        rows = [c for c in rows if c["accountId"] == ACCOUNT_ID]
    return json_response(page(rows, request.args, "channelId", "channelList"))


@bp.get("/<channel_id>")
@synchronized
def get_channel(channel_id: str) -> Response:
    channel = linked_channel(get_state(), channel_id)
    return json_response(channel) if channel else _not_found(channel_id)


@bp.post("/token")
@synchronized
def request_token() -> Response:
    state = get_state()
    data = _json_body()
    if data is None:
        return error("ValidationError", "JSON 본문이 필요합니다.")
    problem = _missing(data, ("searchId", "phoneNumber"))
    if problem:
        return problem
    key = (VENDOR, str(data["searchId"]), digits(data["phoneNumber"]))
    state.channel_tokens[key] = state.options.solapi_channel_token
    return json_response({"success": True})


@bp.post("")
@synchronized
def link_channel() -> Response:
    state = get_state()
    data = _json_body()
    if data is None:
        return error("ValidationError", "JSON 본문이 필요합니다.")
    problem = _missing(data, ("searchId", "phoneNumber", "categoryCode", "token"))
    if problem:
        return problem
    search_id, phone = str(data["searchId"]), digits(data["phoneNumber"])
    if data["categoryCode"] not in {c["code"] for c in CATEGORIES}:
        return error("ValidationError", f"존재하지 않는 카테고리입니다: {data['categoryCode']}")
    sent = state.channel_tokens.get((VENDOR, search_id, phone))
    if sent is None or str(data["token"]) != sent:
        return error("InvalidToken", "인증 토큰이 올바르지 않습니다. 토큰을 다시 요청하세요.")
    if any(c["searchId"] == search_id for c in state.channels[VENDOR].values()):
        return error("AlreadyExists", f"이미 연동된 카카오 채널입니다: {search_id}")
    del state.channel_tokens[(VENDOR, search_id, phone)]
    channel = store_channel(state, new_channel_id(), search_id, phone, data["categoryCode"])
    return json_response(channel)


@bp.delete("/<channel_id>")
@synchronized
def unlink_channel(channel_id: str) -> Response:
    channel = get_state().channels[VENDOR].pop(channel_id, None)
    return json_response(channel) if channel else _not_found(channel_id)
