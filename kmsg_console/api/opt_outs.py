"""``/api/v1/opt-outs``: add a number to the opt-out list (수신거부) and check a number.

Both need the ``send`` scope: an application that sends advertising records the opt-outs
its own channels receive (a reply, a web form) and checks a number before a campaign. There
is no DELETE: taking a number off the list means the recipient consented again, which an
operator records in the console (audited under their name); a sending key that could lift
opt-outs could undo the very rule that restrains it. Numbers are never echoed in clear.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from kmsg_console.api import openapi
from kmsg_console.api.auth import current_api_key, require_api_key
from kmsg_console.api.errors import ApiError
from kmsg_console.api.views import bp, json_body
from kmsg_console.api_keys.models import Scope
from kmsg_console.extensions import db
from kmsg_console.opt_outs import services
from kmsg_console.opt_outs.models import OptOut, OptOutSource

SCOPE_DESCRIPTION = (
    '"global" (all advertising; the default) or the free 080 opt-out line the recipient '
    "called, e.g. 080-123-4567."
)
ADD_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["phone"],
    "properties": {
        "phone": openapi.phone(
            "The mobile number that opted out (010, 011, 016-019), in any usual spelling; "
            "anything else is refused with 422 invalid_phone."
        ),
        "scope": openapi.text(
            maxLength=32, examples=["global", "080-123-4567"], description=SCOPE_DESCRIPTION
        ),
        "note": openapi.text(
            maxLength=services.NOTE_MAX, description="Why or how, for the operators."
        ),
    },
}
ADD_EXAMPLES = {
    "global": {
        "summary": "Opted out of all advertising",
        "value": {"phone": "010-1234-5678", "note": "replied 거부 to a campaign"},
    },
    "one_line": {
        "summary": "Opted out by calling one 080 line",
        "value": {"phone": "+82 10-2345-6789", "scope": "080-123-4567"},
    },
}
OPT_OUT = {
    "type": "object",
    "required": ["phone", "scope", "source", "created_at"],
    "properties": {
        "phone": {"type": "string", "description": "Masked number, e.g. 010-****-5678."},
        "scope": {"type": "string", "description": SCOPE_DESCRIPTION},
        "source": {"type": "string", "enum": [s.value for s in OptOutSource]},
        "note": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
OPT_OUT_CHECK = {
    "type": "object",
    "required": ["phone", "listed", "scopes"],
    "properties": {
        "phone": {"type": "string", "description": "Masked number, e.g. 010-****-5678."},
        "listed": {"type": "boolean", "description": "On the list for at least one scope."},
        "scopes": {
            "type": "array",
            "items": {"type": "string"},
            "description": '"global" and/or the 080 lines the number opted out of.',
        },
    },
}


def _json(name: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
    }


openapi.register_path(
    "/opt-outs",
    {
        "post": {
            "operationId": "addOptOut",
            "summary": "Add a number to the opt-out list (수신거부), globally or for one 080 line",
            "security": [{"bearer": []}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/AddOptOutRequest"},
                        "examples": ADD_EXAMPLES,
                    }
                },
            },
            "responses": {
                "201": _json("OptOut", "Added."),
                "200": _json("OptOut", "Already on the list for this scope; nothing changed."),
                "400": openapi.COMMON_ERRORS["400"],
                "401": openapi.COMMON_ERRORS["401"],
                "403": _json("Error", "The API key lacks the send scope."),
                "413": _json("Error", "The request body is too large."),
                "415": openapi.UNSUPPORTED_MEDIA_TYPE,
                "422": _json(
                    "Error",
                    "invalid_phone: not a mobile number; invalid_scope: not a free 080 line. "
                    "details lists the field.",
                ),
            },
        },
        "get": {
            "operationId": "checkOptOut",
            "summary": "Whether a number is on the opt-out list, and for which scopes",
            "security": [{"bearer": []}],
            "parameters": [
                {
                    "name": "phone",
                    "in": "query",
                    "required": True,
                    "schema": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 32,
                        "pattern": openapi.NO_NUL,
                        "examples": openapi.PHONE_EXAMPLES,
                    },
                    "description": "The mobile number to check, in any usual spelling.",
                }
            ],
            "responses": {
                "200": _json("OptOutCheck", "Whether the number is listed."),
                "400": _json("Error", "The phone parameter is missing, empty or too long."),
                "401": openapi.COMMON_ERRORS["401"],
                "403": _json("Error", "The API key lacks the send scope."),
                "422": _json("Error", "invalid_phone: not a mobile number."),
            },
        },
    },
    {"AddOptOutRequest": ADD_REQUEST, "OptOut": OPT_OUT, "OptOutCheck": OPT_OUT_CHECK},
)


def opt_out_json(opt_out: OptOut) -> dict[str, Any]:
    return {
        "phone": opt_out.phone_masked,
        "scope": services.scope_display(opt_out.scope),
        "source": opt_out.source,
        "note": opt_out.note,
        "created_at": opt_out.created_at.isoformat(),
    }


def _refused(exc: services.OptOutError) -> ApiError:
    code = {"phone": "invalid_phone", "scope": "invalid_scope"}.get(exc.field, "invalid_request")
    message = str(exc)  # numbers in reasons are masked as typed
    return ApiError(422, code, message, details=[{"field": exc.field, "message": message}])


def api_key_label() -> str:
    """Who an audit row names when an API key acted."""
    key = current_api_key()
    return f"API key {key.name} ({key.key_id})"[:254]


@bp.post("/opt-outs")
@require_api_key(Scope.SEND)
def add_opt_out():
    """Add a number (201), or find it already listed for that scope (200)."""
    body = json_body("AddOptOutRequest")
    try:
        result = services.add_opt_out(
            body["phone"],
            body.get("scope"),
            body.get("note") or "",
            source=OptOutSource.API,
            actor_label=api_key_label(),
        )
    except services.OptOutError as exc:
        raise _refused(exc) from None
    db.session.commit()
    response = jsonify(opt_out_json(result.opt_out))
    response.status_code = 201 if result.created else 200
    return response


@bp.get("/opt-outs")
@require_api_key(Scope.SEND)
def check_opt_out():
    """Whether ``?phone=`` is listed, and for which scopes."""
    phone = request.args.get("phone", "")
    if not phone or len(phone) > 32 or "\x00" in phone:
        raise ApiError(
            400,
            "invalid_request",
            "Give the number to check as ?phone= (1 to 32 characters).",
            details=[{"field": "phone", "message": "1 to 32 characters, no U+0000"}],
        )
    try:
        masked, entries = services.entries_for(phone)
    except services.OptOutError as exc:
        raise _refused(exc) from None
    scopes = [services.scope_display(entry.scope) for entry in entries]
    return jsonify({"phone": masked, "listed": bool(scopes), "scopes": scopes})
