"""``/api/v1/webhook-endpoints``: register, list, rotate and delete webhook endpoints (scope
``webhooks``), and the OpenAPI description of the events they receive."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from kmsg_console.api import openapi
from kmsg_console.api.auth import current_api_key, require_api_key
from kmsg_console.api.errors import ApiError
from kmsg_console.api.views import bp, json_body
from kmsg_console.api_keys.models import Scope
from kmsg_console.events import services
from kmsg_console.events.models import WebhookEndpoint
from kmsg_console.events.types import ALL_TYPES, EventType
from kmsg_console.extensions import db

CREATE_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["url", "event_types"],
    "properties": {
        "url": openapi.text(
            minLength=1,
            maxLength=services.URL_MAX,
            description=(
                "https URL receiving the events; hosts resolving to loopback, private, "
                "link-local or metadata addresses are refused (422 invalid_url)."
            ),
            examples=["https://example.com/kmsg-events"],
        ),
        "event_types": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"type": "string", "enum": list(ALL_TYPES)},
        },
        "enabled": {"type": "boolean", "default": True},
        "description": openapi.text(maxLength=services.DESCRIPTION_MAX),
    },
}
ENDPOINT = {
    "type": "object",
    "required": ["id", "url", "event_types", "enabled", "failing", "created_at"],
    "properties": {
        "id": {"type": "string", "examples": ["whe_3f2a9c0b1d4e5f6a7b8c9d0e"]},
        "url": {"type": "string"},
        "description": {"type": "string"},
        "event_types": {"type": "array", "items": {"type": "string", "enum": list(ALL_TYPES)}},
        "enabled": {"type": "boolean"},
        "failing": {
            "type": "boolean",
            "description": "A delivery gave up after 24 hours of retries since the last success.",
        },
        "created_at": {"type": "string", "format": "date-time"},
        "secret": {
            "type": "string",
            "description": "The signing secret: only in the answers to creation and rotation.",
        },
        "previous_secret_valid_until": {"type": ["string", "null"], "format": "date-time"},
    },
}

_STRING_OR_NULL = {"type": ["string", "null"]}


def _event_schema(types: list[EventType], data: dict[str, Any], description: str) -> dict:
    return {
        "type": "object",
        "description": description,
        "required": ["id", "type", "occurred_at", "data"],
        "properties": {
            "id": {
                "type": "string",
                "description": "The event's id, also in X-Webhook-Id: the same on every retry.",
                "examples": ["evt_0f8e1c2d3b4a59687766554433221100"],
            },
            "type": {"type": "string", "enum": [t.value for t in types]},
            "occurred_at": {"type": "string", "format": "date-time"},
            "data": {"type": "object", "properties": data},
        },
    }


EVENT_SCHEMAS = {
    "MessageEvent": _event_schema(
        [
            EventType.MESSAGE_SENT,
            EventType.MESSAGE_DELIVERED,
            EventType.MESSAGE_FAILED,
            EventType.MESSAGE_UNKNOWN,
        ],
        {
            "message_id": {"type": "string"},
            "status": {"type": "string", "enum": openapi.STATUSES},
            "type": {"type": "string", "enum": openapi.MESSAGE_TYPES},
            "source": {"type": "string"},
            "provider": _STRING_OR_NULL,
            "provider_message_id": _STRING_OR_NULL,
            "error_code": {**_STRING_OR_NULL, "description": "The console's normalized code."},
            "vendor_code": {**_STRING_OR_NULL, "description": "The vendor's own code."},
            "vendor_text": _STRING_OR_NULL,
            "to": {"type": "string", "description": "Masked: 010-****-5678."},
            "from": _STRING_OR_NULL,
            "template_code": _STRING_OR_NULL,
        },
        "A message's status changed: accepted by a provider (sent), delivered, failed, or "
        "outcome unknown.",
    ),
    "FallbackSentEvent": _event_schema(
        [EventType.MESSAGE_FALLBACK_SENT],
        {
            "message_id": {"type": "string", "description": "The AlimTalk that failed."},
            "fallback_message_id": {"type": "string"},
            "fallback_type": {"type": "string", "enum": ["SMS", "LMS"]},
            "fallback_status": {"type": "string", "enum": openapi.STATUSES},
            "provider": _STRING_OR_NULL,
            "vendor_code": _STRING_OR_NULL,
            "to": {"type": "string"},
        },
        "An SMS/LMS was sent in place of an AlimTalk the recipient could not get.",
    ),
    "VerificationEvent": _event_schema(
        [
            EventType.VERIFICATION_STARTED,
            EventType.VERIFICATION_APPROVED,
            EventType.VERIFICATION_EXPIRED,
            EventType.VERIFICATION_MAX_ATTEMPTS,
            EventType.VERIFICATION_CANCELED,
        ],
        {
            "verification_id": {"type": "string"},
            "status": {
                "type": "string",
                "enum": ["pending", "approved", "expired", "max_attempts", "canceled"],
            },
            "purpose": _STRING_OR_NULL,
            "channel": {"type": "string", "enum": ["sms", "alimtalk"]},
            "to": {"type": "string", "description": "Masked; the code is never sent."},
            "message_id": _STRING_OR_NULL,
            "expires_at": {"type": "string", "format": "date-time"},
        },
        "An OTP verification started or ended.",
    ),
    "TemplateEvent": _event_schema(
        [EventType.TEMPLATE_APPROVED, EventType.TEMPLATE_REJECTED],
        {
            "template_id": {"type": "integer"},
            "template_code": _STRING_OR_NULL,
            "name": {"type": "string"},
            "provider": _STRING_OR_NULL,
            "status": {"type": "string", "enum": ["approved", "rejected"]},
            "comment": {**_STRING_OR_NULL, "description": "The reviewer's comment (rejected)."},
        },
        "Kakao's review of an AlimTalk template ended.",
    ),
    "ProviderEvent": _event_schema(
        [EventType.PROVIDER_UNHEALTHY, EventType.PROVIDER_RECOVERED],
        {
            "provider": {"type": "string"},
            "vendor": {"type": "string"},
            "healthy": {"type": "boolean"},
            "latency_ms": {"type": ["integer", "null"]},
            "error": _STRING_OR_NULL,
        },
        "A provider's health check failed after a good one, or succeeded after a failure.",
    ),
    "BalanceLowEvent": _event_schema(
        [EventType.PROVIDER_BALANCE_LOW],
        {
            "provider": {"type": "string"},
            "vendor": {"type": "string"},
            "balance": {"type": "string", "description": 'Decimal text, e.g. "4500".'},
            "currency": _STRING_OR_NULL,
            "threshold": {"type": "integer", "description": "The provider's alert amount."},
        },
        "A provider's balance fell below its alert amount (once, until it is back above).",
    ),
    "FailureRateEvent": _event_schema(
        [EventType.ALERT_FAILURE_RATE, EventType.ALERT_FAILURE_RATE_RESOLVED],
        {
            "failed": {"type": "integer"},
            "total": {"type": "integer", "description": "Sent (accepted) plus failed."},
            "rate_percent": {"type": "number"},
            "threshold_percent": {"type": "integer"},
            "window_minutes": {"type": "integer"},
            "min_messages": {"type": "integer"},
            "since": {"type": "string", "format": "date-time"},
        },
        "The share of failed messages over the window reached the console's threshold "
        "(with at least the minimum volume), or no longer does.",
    ),
    "VolumeCapEvent": _event_schema(
        [EventType.ALERT_VOLUME_CAP],
        {
            "period": {"type": "string", "enum": ["day", "month"]},
            "period_key": {
                "type": "string",
                "description": "The KST day (2026-12-07) or month (2026-12).",
            },
            "percent": {"type": "integer", "enum": [70, 100]},
            "sent": {"type": "integer"},
            "cap": {"type": "integer"},
            "used_percent": {"type": "number"},
            "blocks_sending": {
                "type": "boolean",
                "description": "Always false: a cap warns, sending goes on.",
            },
        },
        "Messages sent this KST day or month reached 70 % or 100 % of the cap; each once "
        "per period.",
    ),
    "WorkerEvent": _event_schema(
        [EventType.WORKER_STOPPED, EventType.WORKER_RECOVERED],
        {
            "last_run": {"type": "string", "format": "date-time"},
            "stale_after_seconds": {"type": "integer"},
        },
        "The background worker has not finished a round for a while (seen by the console's "
        "web process on a dashboard view, or by another worker), or runs again.",
    ),
    "CampaignEvent": _event_schema(
        [EventType.CAMPAIGN_COMPLETED],
        {
            "campaign_id": {"type": "string"},
            "name": {"type": "string"},
            "status": {"type": "string", "enum": ["completed"]},
            **{
                count: {"type": "integer"}
                for count in ("total", "sent", "failed", "unknown", "skipped", "cancelled")
            },
        },
        "A campaign sent to every recipient (counts by outcome; no numbers).",
    ),
}
EVENT_MAPPING = {
    event_type: f"#/components/schemas/{name}"
    for name, schema in EVENT_SCHEMAS.items()
    for event_type in schema["properties"]["type"]["enum"]
}
WEBHOOK_EVENT = {
    "oneOf": [{"$ref": f"#/components/schemas/{name}"} for name in EVENT_SCHEMAS],
    "discriminator": {"propertyName": "type", "mapping": EVENT_MAPPING},
}
SIGNATURE_HEADERS = [
    {
        "name": "X-Webhook-Id",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": "The event's id: the same on every retry, for de-duplication.",
    },
    {
        "name": "X-Webhook-Timestamp",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": "Epoch seconds when this attempt was signed.",
    },
    {
        "name": "X-Webhook-Signature",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": (
            'sha256=<hex HMAC-SHA256 of "<timestamp>.<body>"> with the endpoint\'s secret. '
            "For 24 hours after a rotation: sha256=<new>,sha256=<old>; accept the request "
            "when any signature matches."
        ),
    },
]


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


_AUTH_ERRORS = {
    "401": _json("Error", "Missing or invalid API key."),
    "403": _json("Error", "The API key lacks the webhooks scope."),
}
_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "maxLength": 40},
}

openapi.register_path(
    "/webhook-endpoints",
    {
        "post": {
            "operationId": "createWebhookEndpoint",
            "summary": "Register an endpoint; the answer holds its signing secret, shown once",
            "security": [{"bearer": []}],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("CreateWebhookEndpointRequest")}},
            },
            "responses": {
                "201": _json("WebhookEndpoint", "Registered; keep the secret."),
                "400": openapi.COMMON_ERRORS["400"],
                **_AUTH_ERRORS,
                "413": _json("Error", "The request body is too large."),
                "415": openapi.UNSUPPORTED_MEDIA_TYPE,
                "422": _json(
                    "Error", "invalid_url: not https, or the host resolves to a private address."
                ),
            },
        },
        "get": {
            "operationId": "listWebhookEndpoints",
            "summary": "The registered endpoints (without secrets)",
            "security": [{"bearer": []}],
            "responses": {
                "200": _json("WebhookEndpointList", "Every endpoint."),
                **_AUTH_ERRORS,
            },
        },
    },
    {
        "CreateWebhookEndpointRequest": CREATE_REQUEST,
        "WebhookEndpoint": ENDPOINT,
        "WebhookEndpointList": {
            "type": "object",
            "required": ["data"],
            "properties": {"data": {"type": "array", "items": _ref("WebhookEndpoint")}},
        },
        **EVENT_SCHEMAS,
        "WebhookEvent": WEBHOOK_EVENT,
    },
)
openapi.register_path(
    "/webhook-endpoints/{id}",
    {
        "delete": {
            "operationId": "deleteWebhookEndpoint",
            "summary": "Delete an endpoint and its pending deliveries",
            "security": [{"bearer": []}],
            "parameters": [_ID],
            "responses": {
                "204": {"description": "Deleted."},
                **_AUTH_ERRORS,
                "404": _json("Error", "No endpoint with this id."),
            },
        }
    },
)
openapi.register_path(
    "/webhook-endpoints/{id}/rotate-secret",
    {
        "post": {
            "operationId": "rotateWebhookSecret",
            "summary": (
                "A new signing secret (shown once); the old one keeps signing for 24 hours"
            ),
            "security": [{"bearer": []}],
            "parameters": [_ID],
            "responses": {
                "200": _json("WebhookEndpoint", "The endpoint with its new secret."),
                **_AUTH_ERRORS,
                "404": _json("Error", "No endpoint with this id."),
            },
        }
    },
)
openapi.register_webhooks(
    {
        "event": {
            "post": {
                "operationId": "receiveEvent",
                "summary": (
                    "An event, posted to every enabled endpoint subscribed to its type; "
                    "answer 2xx within 5 seconds, or it is retried with backoff for 24 hours"
                ),
                "parameters": SIGNATURE_HEADERS,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("WebhookEvent")}},
                },
                "responses": {"200": {"description": "Any 2xx answer acknowledges the event."}},
            }
        }
    },
    {},
)


def endpoint_json(endpoint: WebhookEndpoint, secret: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": endpoint.public_id,
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": list(endpoint.event_types),
        "enabled": endpoint.enabled,
        "failing": endpoint.failing,
        "created_at": endpoint.created_at.isoformat(),
        "previous_secret_valid_until": endpoint.previous_secret_until.isoformat()
        if endpoint.previous_secret_until
        else None,
    }
    if secret is not None:
        body["secret"] = secret
    return body


def _actor_label() -> str:
    return f"api:{current_api_key().name}"


def _endpoint(endpoint_id: str) -> WebhookEndpoint:
    endpoint = services.find_endpoint(endpoint_id) if len(endpoint_id) <= 40 else None
    if endpoint is None:
        raise ApiError(404, "not_found", "No webhook endpoint with this id.")
    return endpoint


@bp.post("/webhook-endpoints")
@require_api_key(Scope.WEBHOOKS)
def create_webhook_endpoint():
    body = json_body("CreateWebhookEndpointRequest")
    try:
        issued = services.create_endpoint(
            body["url"],
            body["event_types"],
            enabled=body.get("enabled", True),
            description=body.get("description", ""),
            actor_label=_actor_label(),
        )
    except services.EndpointError as exc:
        db.session.rollback()
        code = "invalid_url" if exc.field == "url" else "invalid_request"
        raise ApiError(422, code, str(exc), details=[{"field": exc.field}]) from None
    db.session.commit()
    response = jsonify(endpoint_json(issued.endpoint, issued.secret))
    response.status_code = 201
    return response


@bp.get("/webhook-endpoints")
@require_api_key(Scope.WEBHOOKS)
def list_webhook_endpoints():
    return jsonify({"data": [endpoint_json(e) for e in services.list_endpoints()]})


@bp.delete("/webhook-endpoints/<string:endpoint_id>")
@require_api_key(Scope.WEBHOOKS)
def delete_webhook_endpoint(endpoint_id: str):
    services.delete_endpoint(_endpoint(endpoint_id), actor_label=_actor_label())
    db.session.commit()
    return "", 204


@bp.post("/webhook-endpoints/<string:endpoint_id>/rotate-secret")
@require_api_key(Scope.WEBHOOKS)
def rotate_webhook_secret(endpoint_id: str):
    endpoint = _endpoint(endpoint_id)
    secret = services.rotate_secret(endpoint, actor_label=_actor_label())
    db.session.commit()
    return jsonify(endpoint_json(endpoint, secret))
