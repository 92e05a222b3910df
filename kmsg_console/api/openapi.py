"""The OpenAPI 3 document of ``/api/v1`` — also the schema requests are validated against.

Validating request bodies with the very schemas the document publishes keeps the document
and the behaviour from drifting apart: a field the document does not list is refused.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from jsonschema import Draft202012Validator

MESSAGE_TYPES = ["SMS", "LMS", "MMS", "ALIMTALK", "FRIENDTALK"]
STATUSES = ["PENDING", "SENT", "DELIVERED", "FAILED", "CANCELLED", "UNKNOWN"]

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
        }
    },
}

SEND_MESSAGE_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["to"],
    "properties": {
        "to": {"type": "string", "minLength": 1, "maxLength": 32,
               "description": "Recipient mobile number: 01012345678, 010-1234-5678 or +82 10-1234-5678."},
        "type": {"type": "string", "enum": MESSAGE_TYPES,
                 "description": "Omit it to send SMS, upgraded to LMS above 90 EUC-KR bytes."},
        "text": {"type": "string", "maxLength": 4000, "description": "Body; #{name} placeholders are filled from variables."},
        "subject": {"type": "string", "maxLength": 120, "description": "LMS/MMS subject (40 EUC-KR bytes at most)."},
        "from": {"type": "string", "maxLength": 32, "description": "Registered sender number."},
        "template_code": {"type": "string", "maxLength": 64, "description": "Approved AlimTalk template code."},
        "variables": {"type": "object", "maxProperties": 50,
                      "additionalProperties": {"type": ["string", "number", "boolean", "null"]}},
        "provider": {"type": "string", "maxLength": 40, "description": "Force a provider id (no failover)."},
        "failover": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "enabled": {"type": "boolean"},
                "channel": {"type": "string", "enum": ["sms", "lms"]},
                "content": {"type": "string", "maxLength": 2000},
                "title": {"type": "string", "maxLength": 120},
            },
        },
        "scheduled_at": {"type": "string", "format": "date-time",
                         "description": "ISO 8601 with an offset, e.g. 2026-12-01T09:00:00+09:00."},
    },
}

ATTEMPT = {
    "type": "object",
    "required": ["number", "provider", "trigger", "outcome", "started_at"],
    "properties": {
        "number": {"type": "integer"},
        "provider": {"type": "string"},
        "trigger": {"type": "string", "enum": ["initial", "failover", "retry"]},
        "outcome": {"type": "string", "enum": ["in_flight", "accepted", "failed", "unknown"]},
        "error_code": {"type": ["string", "null"]},
        "vendor_code": {"type": ["string", "null"]},
        "vendor_text": {"type": ["string", "null"]},
        "http_status": {"type": ["integer", "null"]},
        "latency_ms": {"type": ["integer", "null"]},
        "started_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": ["string", "null"], "format": "date-time"},
    },
}

MESSAGE = {
    "type": "object",
    "required": ["id", "status", "type", "to", "created_at", "attempts", "warnings"],
    "properties": {
        "id": {"type": "string"},
        "status": {"type": "string", "enum": STATUSES},
        "type": {"type": "string", "enum": MESSAGE_TYPES},
        "requested_type": {"type": ["string", "null"]},
        "to": {"type": "string", "description": "Masked recipient, e.g. 010-****-5678."},
        "from": {"type": ["string", "null"]},
        "provider": {"type": ["string", "null"]},
        "provider_message_id": {"type": ["string", "null"]},
        "template_code": {"type": ["string", "null"]},
        "byte_count": {"type": ["integer", "null"]},
        "error": {
            "type": ["object", "null"],
            "properties": {
                "code": {"type": "string"},
                "vendor_code": {"type": ["string", "null"]},
                "vendor_text": {"type": ["string", "null"]},
                "http_status": {"type": ["integer", "null"]},
                "retryable": {"type": "boolean"},
            },
        },
        "warnings": {"type": "array", "items": {"type": "object"}},
        "attempts": {"type": "array", "items": ATTEMPT},
        "created_at": {"type": "string", "format": "date-time"},
        "sent_at": {"type": ["string", "null"], "format": "date-time"},
        "delivered_at": {"type": ["string", "null"], "format": "date-time"},
        "failed_at": {"type": ["string", "null"], "format": "date-time"},
    },
}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


COMMON_ERRORS = {
    "400": _error_response("Malformed JSON, wrong types or unknown fields."),
    "401": _error_response("Missing or invalid API key."),
    "403": _error_response("The API key lacks the needed scope."),
}

_paths: dict[str, Any] = {
    "/messages": {
        "post": {
            "operationId": "sendMessage",
            "summary": "Send one message",
            "security": [{"bearer": []}],
            "parameters": [{
                "name": "Idempotency-Key", "in": "header", "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                "description": "Same key and body: the first message is returned and nothing is sent again; "
                               "same key with another body: 409.",
            }],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/SendMessageRequest"}}}},
            "responses": {
                "201": {"description": "The message was logged and handed to the providers; see its status.",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}}},
                "200": {"description": "An earlier message with the same Idempotency-Key and body.",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}}},
                **COMMON_ERRORS,
                "409": _error_response("Idempotency-Key reused with a different body."),
                "413": _error_response("The request body is too large."),
                "422": _error_response("Invalid phone number, text too long, unknown template or no provider for the type."),
                "429": {**_error_response("Throttled by a policy; retry after the given seconds."),
                        "headers": {"Retry-After": {"schema": {"type": "integer"}}}},
            },
        }
    },
    "/messages/{id}": {
        "get": {
            "operationId": "getMessage",
            "summary": "Status and attempts of one message",
            "security": [{"bearer": []}],
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}],
            "responses": {
                "200": {"description": "The message.",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}}},
                "401": COMMON_ERRORS["401"],
                "403": COMMON_ERRORS["403"],
                "404": _error_response("No message with this id for this API key."),
            },
        }
    },
}

_components: dict[str, Any] = {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                   "description": "An API key from the console's API keys page."}},
    "schemas": {"Error": ERROR, "SendMessageRequest": SEND_MESSAGE_REQUEST, "Message": MESSAGE, "Attempt": ATTEMPT},
}


def register_path(path: str, item: dict[str, Any], schemas: dict[str, Any] | None = None) -> None:
    """Add an operation (used by features that extend the API, e.g. OTP verifications)."""
    _paths[path] = item
    _components["schemas"].update(schemas or {})


def document(server_url: str = "/api/v1") -> dict[str, Any]:
    """The OpenAPI document as served at ``/api/v1/openapi.json``."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "kmsg-console API", "version": "1.0.0",
                 "description": "Send SMS/LMS/MMS/AlimTalk messages and run OTP verifications."},
        "servers": [{"url": server_url}],
        "paths": deepcopy(_paths),
        "components": deepcopy(_components),
    }


def validator(schema_name: str) -> Draft202012Validator:
    """A JSON Schema validator for one component schema."""
    schema = dict(_components["schemas"][schema_name])
    schema["$defs"] = _components["schemas"]
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
