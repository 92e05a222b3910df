"""``/api/v1``: the JSON API applications call (messages; verifications are in verifications.py)."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, NoReturn

import sqlalchemy as sa
from flask import Blueprint, jsonify, request
from jsonschema import ValidationError

from kmsg_console import sending
from kmsg_console.api import openapi
from kmsg_console.api.auth import current_api_key, require_api_key
from kmsg_console.api.errors import ApiError
from kmsg_console.api_keys.models import Scope
from kmsg_console.extensions import csrf, db, end_read_transaction
from kmsg_console.sending.models import MessageLog, MessageSource
from kmsg_console.throttle.engine import ThrottleContext, ThrottleUnavailable, check_and_consume
from kmsg_console.web.access import public

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# The API authenticates with bearer keys, never with the session cookie, so a cross-site
# form cannot use it: CSRF tokens do not apply.
csrf.exempt(bp)


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return exc.response()


@bp.errorhandler(ThrottleUnavailable)
def _throttle_unavailable(exc: ThrottleUnavailable):
    # Fail closed, as the throttle is the guard against SMS pumping, and say so (not a bare 500).
    return ApiError(
        503,
        "throttle_unavailable",
        "Rate limits cannot be checked right now; the request was not carried out.",
        headers={"Retry-After": str(THROTTLE_RETRY_AFTER)},
    ).response()


#: Longest validation message echoed back (messages quote the offending value).
MAX_ERROR_MESSAGE = 300
_SURROGATE = re.compile("[\ud800-\udfff]")
_IDEMPOTENCY_KEY = re.compile(openapi.IDEMPOTENCY_KEY_PATTERN)
KST = timezone(timedelta(hours=9))
#: Seconds a client is asked to wait when the throttle store (database or Redis) is unreachable.
THROTTLE_RETRY_AFTER = 5


def _not_json(constant: str) -> NoReturn:
    raise ValueError(f"{constant} is not a JSON value")


def _finite(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError(f"{literal[:20]} is out of range for a number")
    return value


def _has_unpaired_surrogate(value: Any) -> bool:
    """True when a string anywhere in ``value`` holds a lone UTF-16 surrogate.

    ``json`` decodes an escaped pair (``\\ud83d\\ude00``) into one character, so any
    surrogate code point left over is unpaired and cannot be encoded as UTF-8 (nor stored).
    Iterative, so a deeply nested body cannot exhaust the stack.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _message(error: ValidationError) -> str:
    """A validation error in words, short enough to echo back."""
    if error.validator == "pattern" and error.validator_value == openapi.NO_NUL:
        name = ".".join(str(p) for p in error.path) or "A string"
        return f"{name} must not contain the NUL character (U+0000)."
    return _short(error.message)


def _short(message: str) -> str:
    return message if len(message) <= MAX_ERROR_MESSAGE else message[: MAX_ERROR_MESSAGE - 1] + "…"


def json_body(schema_name: str) -> dict[str, Any]:
    """The request's JSON object, validated against the published schema (400 otherwise)."""
    if not request.is_json:
        raise ApiError(
            415 if request.data else 400,
            "invalid_request",
            "Send a JSON body with Content-Type: application/json.",
        )
    try:
        # Strict JSON (RFC 8259): no NaN or Infinity, which Python's parser would let through.
        body = json.loads(
            request.get_data(cache=True), parse_constant=_not_json, parse_float=_finite
        )
    except RecursionError:
        raise ApiError(
            400, "invalid_request", "The body is not valid JSON: it is nested too deeply."
        ) from None
    except ValueError as exc:
        raise ApiError(
            400, "invalid_request", _short(f"The body is not valid JSON: {exc}.")
        ) from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "The body must be a JSON object.")
    if _has_unpaired_surrogate(body):
        raise ApiError(
            400,
            "invalid_request",
            "The body holds an unpaired UTF-16 surrogate "
            "(\\ud800-\\udfff); strings must be valid Unicode text.",
        )
    try:
        errors = sorted(
            openapi.validator(schema_name).iter_errors(body), key=lambda e: [str(p) for p in e.path]
        )
        details = [
            {"field": ".".join(str(p) for p in e.path) or None, "message": _message(e)}
            for e in errors[:20]
        ]
    except RecursionError:
        raise ApiError(400, "invalid_request", "The body is nested too deeply.") from None
    if details:
        raise ApiError(400, "invalid_request", details[0]["message"], details=details)
    return body


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def message_json(log: MessageLog) -> dict[str, Any]:
    """The API's view of a send-log row (recipient masked, body never included)."""
    error = None
    if log.error_code:
        error = {
            "code": log.error_code,
            "vendor_code": log.vendor_code,
            "vendor_text": log.vendor_text,
            "http_status": log.http_status,
            "retryable": log.retryable,
        }
    fallback = sending.find_fallback(log)
    return {
        "id": log.public_id,
        "status": log.status,
        "type": log.type,
        "requested_type": log.requested_type,
        "to": log.to_masked,
        "from": log.from_number,
        "provider": log.provider_code,
        "provider_message_id": log.provider_message_id,
        "template_code": log.template_code,
        "byte_count": log.byte_count,
        "ad": log.is_ad,
        "error": error,
        "warnings": list(log.warnings or []),
        "attempts": sending.attempts_summary(log),
        "fallback": None
        if fallback is None
        else {"message_id": fallback.public_id, "type": fallback.type, "status": fallback.status},
        "created_at": _iso(log.created_at),
        "sent_at": _iso(log.sent_at),
        "delivered_at": _iso(log.delivered_at),
        "failed_at": _iso(log.failed_at),
    }


def _scheduled_at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        # RFC 3339 allows a lower-case "t" and "z"; fromisoformat does not.
        moment = datetime.fromisoformat(value.upper())
    except ValueError:
        raise ApiError(
            400,
            "invalid_request",
            "scheduled_at is not an ISO 8601 date-time.",
            details=[{"field": "scheduled_at", "message": "not a date-time"}],
        ) from None
    if moment.tzinfo is None:
        raise ApiError(
            400,
            "invalid_request",
            "scheduled_at needs a UTC offset, e.g. +09:00.",
            details=[{"field": "scheduled_at", "message": "missing UTC offset"}],
        )
    try:
        # Stored in UTC and handed to vendors in Korea time: both must exist (year 1 to 9999).
        moment.astimezone(UTC)
        moment.astimezone(KST)
    except OverflowError:
        raise ApiError(
            400,
            "invalid_request",
            "scheduled_at is out of range.",
            details=[{"field": "scheduled_at", "message": "out of range"}],
        ) from None
    return moment


def plausible_id(value: str) -> bool:
    """False for path ids no row can have: too long, or holding U+0000 (PostgreSQL refuses it)."""
    return len(value) <= 64 and "\x00" not in value


def refused(exc: sending.SendRefused) -> ApiError:
    """The API error of a refused send; a refusal the send log recorded names the message."""
    extra = {"message_id": exc.log.public_id} if exc.log is not None else None
    return ApiError(exc.status, exc.code, exc.message, details=exc.issues or None, extra=extra)


def _throttle_send(send_request: sending.SendRequest, idempotency_key: str | None) -> None:
    """Count a send on the ``api_send`` throttle policies; 429 when one refuses.

    Only sends that would go out are counted: a replay of an earlier Idempotency-Key sends
    nothing, and an invalid request is refused (422) before it spends any quota.
    """
    api_key = current_api_key()
    if idempotency_key is not None:
        earlier = sa.select(MessageLog.id).where(
            MessageLog.api_key_id == api_key.id, MessageLog.idempotency_key == idempotency_key
        )
        if db.session.scalar(earlier) is not None:
            return
    recipient = sending.prepare(send_request).message.to
    context = ThrottleContext(phone=recipient, api_key_id=api_key.id)
    end_read_transaction()  # no connection idle in transaction while the throttle decides
    decision = check_and_consume("api_send", context)
    if not decision.allowed:
        raise ApiError(
            429,
            "throttled",
            "Too many messages; try again later.",
            headers={"Retry-After": str(decision.retry_after_seconds or 60)},
        )


@bp.post("/messages")
@require_api_key(Scope.SEND)
def send_message():
    """Send one message; honours ``Idempotency-Key``."""
    body = json_body("SendMessageRequest")
    idempotency_key = request.headers.get("Idempotency-Key")
    if idempotency_key is not None and not _IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise ApiError(
            400,
            "invalid_request",
            "Idempotency-Key must be 1 to 255 characters, none of them a control character.",
            details=[
                {
                    "field": "Idempotency-Key",
                    "message": "1 to 255 characters, no control characters",
                }
            ],
        )
    send_request = sending.SendRequest(
        to=body["to"],
        text=body.get("text"),
        type=body.get("type"),
        from_=body.get("from"),
        subject=body.get("subject"),
        template_code=body.get("template_code"),
        variables=body.get("variables") or {},
        provider=body.get("provider"),
        failover=body.get("failover"),
        scheduled_at=_scheduled_at(body.get("scheduled_at")),
        kakao=body.get("kakao"),
        ad=body.get("ad", False),
    )
    try:
        _throttle_send(send_request, idempotency_key)
        result = sending.send(
            send_request,
            source=MessageSource.API,
            api_key_id=current_api_key().id,
            idempotency_key=idempotency_key,
        )
    except sending.SendRefused as exc:
        raise refused(exc) from None
    response = jsonify(message_json(result.log))
    response.status_code = 201 if result.created else 200
    return response


@bp.get("/messages/<string:message_id>")
@require_api_key(Scope.SEND)
def get_message(message_id: str):
    """Status and attempts of a message sent with this API key."""
    log = sending.find_by_public_id(message_id) if plausible_id(message_id) else None
    if log is None or log.api_key_id != current_api_key().id:
        raise ApiError(404, "not_found", "No message with this id for this API key.")
    return jsonify(message_json(log))


@bp.get("/openapi.json")
@public
def openapi_document():
    """The OpenAPI 3 document of this API."""
    return jsonify(openapi.document(request.url_root.rstrip("/") + "/api/v1"))
