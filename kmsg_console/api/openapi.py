"""The OpenAPI 3 document of ``/api/v1`` — also the schema requests are validated against.

Validating request bodies with the very schemas the document publishes keeps the document
and the behaviour from drifting apart: a field the document does not list is refused.
"""

from __future__ import annotations

import functools
from copy import deepcopy
from typing import Any

from jsonschema import Draft202012Validator

from kmsg_console.messaging.types import SCHEDULE_HORIZON

MESSAGE_TYPES = ["SMS", "LMS", "MMS", "ALIMTALK", "FRIENDTALK"]
STATUSES = ["PENDING", "SENT", "DELIVERED", "FAILED", "CANCELLED", "UNKNOWN"]
#: Request strings may hold any Unicode text except U+0000, which PostgreSQL cannot store
#: and no carrier delivers; a body with one is refused with 400 like any other schema error.
NO_NUL = "^[^\\u0000]*$"
#: An Idempotency-Key: 1 to 255 characters, none of them a control character.
IDEMPOTENCY_KEY_PATTERN = "^[^\\u0000-\\u001f\\u007f]{1,255}$"
#: Spellings of one mobile number the API accepts (all normalize to 01012345678).
PHONE_EXAMPLES = ["01012345678", "010-1234-5678", "+82 10-1234-5678", "+821012345678"]


def text(**keywords: Any) -> dict[str, Any]:
    """A request string property: no U+0000, plus ``keywords`` (maxLength, description…)."""
    return {"type": "string", "pattern": NO_NUL, **keywords}


def phone(description: str) -> dict[str, Any]:
    """A phone number property; the server normalizes it (422 ``invalid_phone`` otherwise)."""
    return text(minLength=1, maxLength=32, description=description, examples=PHONE_EXAMPLES)


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
                "details": {
                    "description": "For invalid requests and refusals: the issues, each "
                    "{field, code?, message}, naming the field to fix."
                },
                "message_id": {
                    "type": "string",
                    "description": "Set when a Korean sending rule refused the message "
                    "(ad_rules, ad_quiet_hours, recipient_opted_out, ...): the refused message "
                    "is in the send log as FAILED with this error code; GET /messages/{id} "
                    "reads it.",
                },
            },
        }
    },
}

SEND_MESSAGE_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["to"],
    "properties": {
        "to": phone(
            "Recipient mobile number (010, 011, 016-019): 01012345678, 010-1234-5678 or "
            "+82 10-1234-5678; anything else is refused with 422 invalid_phone."
        ),
        "type": {
            "type": "string",
            "enum": MESSAGE_TYPES,
            "description": "Omit it to send SMS, upgraded to LMS above 90 EUC-KR bytes.",
        },
        "text": text(
            maxLength=4000, description="Body; #{name} placeholders are filled from variables."
        ),
        "subject": text(maxLength=120, description="LMS/MMS subject (40 EUC-KR bytes at most)."),
        "from": text(
            maxLength=32,
            description=(
                "Sender number (SMS/LMS/MMS): a verified sender number of the provider, as "
                "registered under Sender numbers; without it each provider's default sender."
            ),
        ),
        "template_code": text(
            maxLength=64,
            description=(
                'Approved AlimTalk template code, with "type": "ALIMTALK" (the type is not '
                "inferred from it: without a type this is refused with 422)."
            ),
        ),
        "variables": {
            "type": "object",
            "maxProperties": 50,
            "propertyNames": {"pattern": NO_NUL},
            "additionalProperties": {
                "type": ["string", "number", "boolean", "null"],
                "pattern": NO_NUL,
            },
            "description": "Values of the #{name} placeholders of text or of the template.",
        },
        "provider": text(maxLength=40, description="Force a provider id (no failover)."),
        "failover": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "enabled": {"type": "boolean"},
                "channel": {"type": "string", "enum": ["sms", "lms"]},
                "content": text(maxLength=2000),
                "title": text(maxLength=120),
            },
        },
        "scheduled_at": {
            "type": "string",
            "format": "date-time",
            "description": "RFC 3339 date-time with an offset, e.g. 2026-12-01T09:00:00+09:00; "
            f"later than now and at most {SCHEDULE_HORIZON.days} days ahead.",
        },
        "kakao": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "profile_id": text(
                    maxLength=64,
                    description=(
                        "Kakao sender profile (발신프로필) key: SOLAPI pfId or Aligo senderKey. "
                        "Default: the template's profile, else the provider's configured "
                        "channel. A profile registered in the console as blocked, dormant or "
                        "deleted is refused with 422 kakao_profile_unusable."
                    ),
                ),
            },
        },
        "ad": {
            "type": "boolean",
            "default": False,
            "description": "An advertising message (정보통신망법 제50조). Its text must begin "
            "with (광고) followed by the sender's name on the same line and carry a free "
            "opt-out line with an 080 number (무료거부 or 무료수신거부 080-123-4567), else 422 "
            "ad_rules; it is not sent 21:00-08:00 KST (FRIENDTALK 20:00-08:00) unless "
            "scheduled_at lies outside those hours, else 422 ad_quiet_hours; a recipient on "
            "the opt-out list (globally or for the 080 line named) is refused with 422 "
            "recipient_opted_out. ALIMTALK cannot be advertising (422 ad_rules). A FRIENDTALK "
            "carries the vendor's advertising flag. Transactional messages (false) are "
            "never affected.",
        },
    },
}

SEND_MESSAGE_EXAMPLES = {
    "sms": {
        "summary": "An SMS (LMS when the filled-in text is over 90 bytes)",
        "value": {
            "to": "010-1234-5678",
            "text": "[샵] #{name}님, 주문이 접수되었습니다.",
            "variables": {"name": "김민수"},
        },
    },
    "lms": {
        "summary": "An LMS with a subject",
        "value": {
            "to": "+82 10-2345-6789",
            "type": "LMS",
            "subject": "배송 안내",
            "text": "주문하신 상품이 오늘 출발합니다.",
        },
    },
    "advertising": {
        "summary": "An advertising SMS/LMS: label, sender name and free 080 opt-out line",
        "value": {
            "to": "010-1234-5678",
            "ad": True,
            "text": "(광고) 케이샵\n겨울 세일 30%\n무료수신거부 080-123-4567",
        },
    },
    "international_spelling": {
        "summary": "The recipient in international form",
        "value": {"to": "+821034567890", "text": "Your order has shipped."},
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
        "ad": {"type": "boolean", "description": "Sent as an advertising message."},
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
        "fallback": {
            "type": ["object", "null"],
            "description": "The SMS/LMS the console sent in place of this AlimTalk when the "
            "recipient could not get KakaoTalk messages (get it by its message_id); null when "
            "none was sent, also when the vendor sent its own substitute SMS.",
            "required": ["message_id", "type", "status"],
            "properties": {
                "message_id": {"type": "string"},
                "type": {"type": "string", "enum": ["SMS", "LMS"]},
                "status": {"type": "string", "enum": STATUSES},
            },
        },
        "created_at": {"type": "string", "format": "date-time"},
        "sent_at": {"type": ["string", "null"], "format": "date-time"},
        "delivered_at": {"type": ["string", "null"], "format": "date-time"},
        "failed_at": {"type": ["string", "null"], "format": "date-time"},
    },
}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


COMMON_ERRORS = {
    "400": _error_response(
        "Malformed JSON (NaN and Infinity included), wrong types, unknown fields, or strings "
        "holding U+0000 or unpaired surrogates."
    ),
    "401": _error_response("Missing or invalid API key."),
    "403": _error_response("The API key lacks the needed scope."),
}
RETRY_AFTER = {
    "Retry-After": {
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
        "description": "Seconds to wait before trying again.",
    }
}


def throttled(description: str) -> dict[str, Any]:
    """A 429 answer: the error body and the seconds to wait in ``Retry-After``."""
    return {**_error_response(description), "headers": RETRY_AFTER}


UNSUPPORTED_MEDIA_TYPE = _error_response("The body is not sent as application/json.")
THROTTLE_UNAVAILABLE = {
    **_error_response(
        "The rate-limit store (database or Redis) cannot be reached; "
        "the request was not carried out."
    ),
    "headers": RETRY_AFTER,
}
#: Path ids of messages and verifications (UUIDs); anything else is simply not found.
ID_PARAMETER = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "maxLength": 64},
}

_paths: dict[str, Any] = {
    "/messages": {
        "post": {
            "operationId": "sendMessage",
            "summary": "Send one message",
            "security": [{"bearer": []}],
            "parameters": [
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 255,
                        "pattern": IDEMPOTENCY_KEY_PATTERN,
                    },
                    "description": "Same key and body: the first message is returned and nothing "
                    "is sent again; "
                    "same key with another body: 409.",
                }
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/SendMessageRequest"},
                        "examples": SEND_MESSAGE_EXAMPLES,
                    }
                },
            },
            "responses": {
                "201": {
                    "description": (
                        "The message was logged and handed to the providers; see its status."
                    ),
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Message"}}
                    },
                    "links": {
                        "GetMessage": {
                            "operationId": "getMessage",
                            "parameters": {"id": "$response.body#/id"},
                            "description": "The message's status and attempts.",
                        }
                    },
                },
                "200": {
                    "description": "An earlier message with the same Idempotency-Key and body.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Message"}}
                    },
                },
                **COMMON_ERRORS,
                "400": _error_response(
                    "Malformed JSON (NaN and Infinity included), wrong types, unknown fields, "
                    "strings holding U+0000 or unpaired surrogates, a scheduled_at out of range, "
                    "or an Idempotency-Key that is empty, too long or holds control characters."
                ),
                "409": _error_response(
                    "Idempotency-Key reused with a different body (idempotency_conflict), or "
                    "duplicate_message: the same type, sender, subject and text went to this "
                    "number within the duplicate-send window an admin set (off by default); "
                    "the message names the earlier message. A replay with the same "
                    "Idempotency-Key returns the original instead."
                ),
                "413": _error_response("The request body is too large."),
                "415": UNSUPPORTED_MEDIA_TYPE,
                "422": _error_response(
                    "Invalid phone number, text too long, unknown template, no provider for the "
                    "type, or a scheduled_at that has passed or is more than "
                    f"{SCHEDULE_HORIZON.days} days ahead. A Korean sending rule's refusal "
                    "(ad_rules, ad_quiet_hours, recipient_opted_out, sender_not_registered, "
                    "kakao_profile_unusable) is written to the send log first: the error "
                    "carries its message_id, and details names the field to fix. "
                    "`sender_not_registered` (발신번호 사전등록제): for SMS/LMS/MMS, the sender "
                    "(`from`, or without it each provider's default sender) is not a verified "
                    "sender number of any provider that could send it; nothing was sent. "
                    '`details`: `[{"field": "from", "code": "sender_not_registered", '
                    '"message": ..., "params": {"number": "02-9999-8888", "providers": '
                    '["solapi-main"]}}]` (`number` is null when there is no sender at all). '
                    "Providers the sender is not registered with are left out of failover."
                ),
                "429": throttled("Throttled by a policy; retry after the given seconds."),
                "503": THROTTLE_UNAVAILABLE,
            },
        }
    },
    "/messages/{id}": {
        "get": {
            "operationId": "getMessage",
            "summary": "Status and attempts of one message",
            "security": [{"bearer": []}],
            "parameters": [ID_PARAMETER],
            "responses": {
                "200": {
                    "description": "The message.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Message"}}
                    },
                },
                "401": COMMON_ERRORS["401"],
                "403": COMMON_ERRORS["403"],
                "404": _error_response("No message with this id for this API key."),
            },
        }
    },
}

_components: dict[str, Any] = {
    "securitySchemes": {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from the console's API keys page.",
        }
    },
    "schemas": {
        "Error": ERROR,
        "SendMessageRequest": SEND_MESSAGE_REQUEST,
        "Message": MESSAGE,
        "Attempt": ATTEMPT,
    },
}


def register_path(path: str, item: dict[str, Any], schemas: dict[str, Any] | None = None) -> None:
    """Add an operation (used by features that extend the API, e.g. OTP verifications)."""
    _paths[path] = item
    _components["schemas"].update(schemas or {})


#: OpenAPI 3.1 ``webhooks``: what the console posts to integrators' endpoints.
_webhooks: dict[str, Any] = {}


def register_webhooks(items: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Describe outgoing webhooks (the events integrators receive) and their payloads."""
    _webhooks.update(items)
    _components["schemas"].update(schemas)


def document(server_url: str = "/api/v1") -> dict[str, Any]:
    """The OpenAPI document as served at ``/api/v1/openapi.json``."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "kmsg-console API",
            "version": "1.0.0",
            "description": "Send SMS/LMS/MMS/AlimTalk messages and run OTP verifications.",
        },
        "servers": [{"url": server_url}],
        "paths": deepcopy(_paths),
        "webhooks": deepcopy(_webhooks),
        "components": deepcopy(_components),
    }


@functools.cache
def validator(schema_name: str) -> Draft202012Validator:
    """A JSON Schema validator for one component schema (built once per process).

    Schemas are registered when the API's modules are imported, before any request; the
    validator reads ``$defs`` from the shared components, and validating does not change it,
    so one instance serves every thread.
    """
    schema = dict(_components["schemas"][schema_name])
    schema["$defs"] = _components["schemas"]
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
