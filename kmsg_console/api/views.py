"""``/api/v1``: the JSON API applications call (messages; OTP verifications join later)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, jsonify, request

from kmsg_console.api import openapi
from kmsg_console.api.auth import current_api_key, require_api_key
from kmsg_console.api.errors import ApiError
from kmsg_console.api_keys.models import Scope
from kmsg_console.extensions import csrf
from kmsg_console.send_logs import pipeline
from kmsg_console.send_logs.models import MessageLog, MessageSource
from kmsg_console.web.access import public

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# The API authenticates with bearer keys, never with the session cookie, so a cross-site
# form cannot use it: CSRF tokens do not apply.
csrf.exempt(bp)


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return exc.response()


def json_body(schema_name: str) -> dict[str, Any]:
    """The request's JSON object, validated against the published schema (400 otherwise)."""
    if not request.is_json:
        raise ApiError(415 if request.data else 400, "invalid_request", "Send a JSON body with Content-Type: application/json.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "The body must be a JSON object.")
    errors = sorted(openapi.validator(schema_name).iter_errors(body), key=lambda e: list(e.path))
    if errors:
        details = [{"field": ".".join(str(p) for p in e.path) or None, "message": e.message} for e in errors[:20]]
        raise ApiError(400, "invalid_request", details[0]["message"], details=details)
    return body


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def message_json(log: MessageLog) -> dict[str, Any]:
    """The API's view of a send-log row (recipient masked, body never included)."""
    error = None
    if log.error_code:
        error = {"code": log.error_code, "vendor_code": log.vendor_code, "vendor_text": log.vendor_text,
                 "http_status": log.http_status, "retryable": log.retryable}
    return {
        "id": log.public_id, "status": log.status, "type": log.type, "requested_type": log.requested_type,
        "to": log.to_masked, "from": log.from_number, "provider": log.provider_code,
        "provider_message_id": log.provider_message_id, "template_code": log.template_code,
        "byte_count": log.byte_count, "error": error, "warnings": list(log.warnings or []),
        "attempts": pipeline.attempts_summary(log),
        "created_at": _iso(log.created_at), "sent_at": _iso(log.sent_at),
        "delivered_at": _iso(log.delivered_at), "failed_at": _iso(log.failed_at),
    }


def _scheduled_at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(400, "invalid_request", "scheduled_at is not an ISO 8601 date-time.",
                       details=[{"field": "scheduled_at", "message": "not a date-time"}]) from None
    if moment.tzinfo is None:
        raise ApiError(400, "invalid_request", "scheduled_at needs a UTC offset, e.g. +09:00.",
                       details=[{"field": "scheduled_at", "message": "missing UTC offset"}])
    return moment


def refused(exc: pipeline.SendRefused) -> ApiError:
    return ApiError(exc.status, exc.code, exc.message, details=exc.issues or None)


@bp.post("/messages")
@require_api_key(Scope.SEND)
def send_message():
    """Send one message; honours ``Idempotency-Key``."""
    body = json_body("SendMessageRequest")
    idempotency_key = request.headers.get("Idempotency-Key")
    if idempotency_key is not None and not 0 < len(idempotency_key) <= 255:
        raise ApiError(400, "invalid_request", "Idempotency-Key must be 1 to 255 characters.")
    send_request = pipeline.SendRequest(
        to=body["to"], text=body.get("text"), type=body.get("type"), from_=body.get("from"),
        subject=body.get("subject"), template_code=body.get("template_code"),
        variables=body.get("variables") or {}, provider=body.get("provider"),
        failover=body.get("failover"), scheduled_at=_scheduled_at(body.get("scheduled_at")),
    )
    try:
        result = pipeline.send(send_request, source=MessageSource.API, api_key_id=current_api_key().id,
                               idempotency_key=idempotency_key)
    except pipeline.SendRefused as exc:
        raise refused(exc) from None
    response = jsonify(message_json(result.log))
    response.status_code = 201 if result.created else 200
    return response


@bp.get("/messages/<string:message_id>")
@require_api_key(Scope.SEND)
def get_message(message_id: str):
    """Status and attempts of a message sent with this API key."""
    log = pipeline.find_by_public_id(message_id)
    if log is None or log.api_key_id != current_api_key().id:
        raise ApiError(404, "not_found", "No message with this id for this API key.")
    return jsonify(message_json(log))


@bp.get("/openapi.json")
@public
def openapi_document():
    """The OpenAPI 3 document of this API."""
    return jsonify(openapi.document(request.url_root.rstrip("/") + "/api/v1"))
