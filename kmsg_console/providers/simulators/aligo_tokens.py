"""Aligo Kakao API tokens: ``POST /akv10/token/create/{time}/{unit}/`` issues one, and every
other Kakao call must carry a live one as ``token``.

``unit`` is one of y, m, d, h, i, s (years, months, days, hours, minutes, seconds), as Aligo's
API page and its ``aligoapi`` client describe it; ``/30/i`` is a token good for 30 minutes.
The answer is ``{code: 0, message, token, urlencode}``; Aligo documents -99 as the only failure
code of this call. A Kakao call without a token, or with an unknown or expired one, is refused
with -99 as well (the code Aligo uses for refused credentials); the messages tell the three
cases apart, which is the simulator's wording.
"""

from __future__ import annotations

import base64
import secrets
import time
from urllib.parse import quote, unquote

from flask import Blueprint, Response

from .aligo_kakao_api import VENDOR, account_problem, answer
from .common import form_or_json
from .state import SimulatorState, get_state, synchronized

bp = Blueprint("sim_aligo_tokens", __name__, url_prefix="/aligo/kakao")

UNIT_SECONDS = {"y": 365 * 86_400, "m": 30 * 86_400, "d": 86_400, "h": 3_600, "i": 60, "s": 1}

MISSING = "토큰(token)이 필요합니다. /akv10/token/create/ 로 발급받아 주세요."
UNKNOWN = "유효하지 않은 토큰입니다."
EXPIRED = "토큰의 유효시간이 만료되었습니다."


def lifetime_seconds(amount: str, unit: str) -> int | None:
    """Seconds meant by ``/{amount}/{unit}``; None when either part is unusable."""
    if not amount.isdigit() or int(amount) < 1 or unit not in UNIT_SECONDS:
        return None
    return int(amount) * UNIT_SECONDS[unit]


def issue(state: SimulatorState, seconds: int) -> str:
    """A new token that stays valid for ``seconds``."""
    # Aligo's tokens are base64 text, so "+", "/" and "=" occur: that is why it also hands
    # out the URL-encoded form.
    token = base64.b64encode(secrets.token_bytes(48)).decode()
    with state.lock:
        state.tokens[VENDOR][token] = time.time() + seconds
    return token


def token_problem(state: SimulatorState, token: str) -> str | None:
    """Why ``token`` cannot be used (None when it can)."""
    if not token:
        return MISSING
    with state.lock:
        known = state.tokens[VENDOR]
        # Clients that paste the ``urlencode`` form into a form body send it percent-encoded.
        expiry = known.get(token, known.get(unquote(token)))
    if expiry is None:
        return UNKNOWN
    return EXPIRED if time.time() >= expiry else None


def expire_all(state: SimulatorState) -> int:
    """End every issued token now (control API); returns how many were live."""
    now = time.time()
    with state.lock:
        tokens = state.tokens[VENDOR]
        live = sum(1 for expiry in tokens.values() if expiry > now)
        for token in tokens:
            tokens[token] = min(tokens[token], now)
        return live


def require_token() -> Response | None:
    """Gate of every Kakao call but token creation: the account first, then the token."""
    fields = form_or_json()
    problem = account_problem(fields)
    if problem is not None:
        return problem
    reason = token_problem(get_state(), str(fields.get("token") or ""))
    return None if reason is None else answer(-99, reason)


@bp.before_request
def _authenticate() -> Response | None:
    return account_problem(form_or_json())


@bp.post("/akv10/token/create/<amount>/<unit>/")
@synchronized
def create(amount: str, unit: str) -> Response:
    seconds = lifetime_seconds(amount, unit)
    if seconds is None:
        return answer(-99, "토큰 유효시간은 숫자와 단위(y, m, d, h, i, s)로 지정해 주세요.")
    token = issue(get_state(), seconds)
    return answer(0, "정상적으로 생성하였습니다.", token=token, urlencode=quote(token, safe=""))
