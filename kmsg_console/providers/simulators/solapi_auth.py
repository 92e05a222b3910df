"""SOLAPI account authentication: HMAC-SHA256 signatures with replay protection.

Rules from anchors A3: ``signature = hex(HMAC-SHA256(apiSecret, date + salt))``; the
``date`` must lie within +-15 minutes of the server clock (``RequestTimeTooSkewed``) and a
salt may not be reused inside that window (``DuplicatedSignature``, 403). Error bodies are
``{errorCode, errorMessage}``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime
from typing import Any

from flask import Response, request

from .common import json_response
from .state import SimulatorState

#: HTTP status for errorCode bodies (auth codes per anchors A3; others simulator choices).
ERROR_HTTP_STATUS = {
    "InvalidAuthorizationHeader": 401,
    "InvalidAPIKey": 401,
    "SignatureDoesNotMatch": 401,
    "RequestTimeTooSkewed": 403,
    "DuplicatedSignature": 403,
    "NotFound": 404,
    "TooManyRequests": 429,
    "InternalError": 500,
    "ServiceUnavailable": 503,
}

_AUTH_PAIR = re.compile(r"(\w+)=([^,\s]+)")


def error(code: str, message: str, status: int | None = None, **extra: Any) -> Response:
    """SOLAPI error body ``{errorCode, errorMessage}``."""
    return json_response(
        {"errorCode": code, "errorMessage": message, **extra},
        status or ERROR_HTTP_STATUS.get(code, 400),
    )


def check_auth(state: SimulatorState) -> Response | None:
    """Validate ``Authorization: HMAC-SHA256 apiKey=, date=, salt=, signature=``.

    Order matters: the salt is remembered only after the signature verified, so a
    forged request cannot burn a legitimate client's salt.
    """
    opts = state.options
    scheme, _, rest = request.headers.get("Authorization", "").strip().partition(" ")
    # Names are compared without case: SOLAPI's Python SDK (5.0.3) writes ``ApiKey=`` and
    # ``Date=`` where the Node SDK and the facts file write ``apiKey=``/``date=``, and the real
    # service takes both (that SDK is what SOLAPI publishes for its own API).
    pairs = {name.lower(): value for name, value in _AUTH_PAIR.findall(rest)}
    if scheme.upper() != "HMAC-SHA256" or not all(
        pairs.get(k) for k in ("apikey", "date", "salt", "signature")
    ):
        return error(
            "InvalidAuthorizationHeader",
            "Authorization 헤더 형식: 'HMAC-SHA256 apiKey=, date=, salt=, signature='",
        )
    api_key, date_text, salt, signature = (
        pairs["apikey"],
        pairs["date"],
        pairs["salt"],
        pairs["signature"],
    )
    if not hmac.compare_digest(api_key, opts.solapi_api_key):
        return error("InvalidAPIKey", "유효하지 않은 API Key 입니다.")
    if not 12 <= len(salt) <= 64:
        return error("InvalidAuthorizationHeader", "salt 는 12~64자여야 합니다.")
    signed_at = _parse_date(date_text)
    now = datetime.now(UTC)
    if signed_at is None or abs((now - signed_at).total_seconds()) > opts.solapi_skew_seconds:
        return error(
            "RequestTimeTooSkewed",
            f"요청 시각(date)과 서버 시각의 차이가 {opts.solapi_skew_seconds // 60}분을 넘습니다.",
        )
    expected = hmac.new(
        opts.solapi_api_secret.encode(), (date_text + salt).encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        return error("SignatureDoesNotMatch", "서명(signature)이 일치하지 않습니다.")
    now_ts = now.timestamp()
    with state.lock:
        # Forget salts outside the window so memory stays bounded. They are kept in the
        # order they were first seen, so the expired ones are at the front: a sweep of every
        # remembered salt per request made each request slower than the one before.
        salts = state.solapi_salts
        while salts and now_ts - next(iter(salts.values())) > opts.solapi_skew_seconds:
            salts.popitem(last=False)
        if (api_key, salt) in salts:
            return error(
                "DuplicatedSignature",
                "이미 사용된 서명(salt)입니다. 15분 이내에 재사용할 수 없습니다.",
            )
        salts[(api_key, salt)] = now_ts
    return None


def _parse_date(text: str) -> datetime | None:
    """ISO-8601 with ``Z`` or an offset; a naive value is read as UTC."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
