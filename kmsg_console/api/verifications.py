"""``/api/v1/verifications``: start an OTP verification and check its code."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from kmsg_console.api import openapi
from kmsg_console.api.auth import current_api_key, require_api_key
from kmsg_console.api.errors import ApiError
from kmsg_console.api.views import bp, json_body, plausible_id
from kmsg_console.api_keys.models import Scope
from kmsg_console.otp import services
from kmsg_console.otp.models import Verification

START_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["phone", "purpose"],
    "properties": {
        "phone": openapi.phone(
            "The end user's mobile number (010, 011, 016-019), e.g. 010-1234-5678 or "
            "+82 10-1234-5678; anything else is refused with 422 invalid_phone."
        ),
        "purpose": openapi.text(
            minLength=1,
            maxLength=40,
            examples=["login", "signup", "password_reset", "payment"],
            description="A verification purpose configured in the console, e.g. login.",
        ),
        "client_ip": openapi.text(
            maxLength=45, description="The end user's IP address, for per-IP throttle rules."
        ),
        "user_ref": openapi.text(
            maxLength=128, description="Your own user or session id, for per-user throttle rules."
        ),
    },
}
START_EXAMPLES = {
    "login": {
        "summary": "A login code for a user",
        "value": {
            "phone": "010-1234-5678",
            "purpose": "login",
            "client_ip": "203.0.113.7",
            "user_ref": "user-42",
        },
    },
    "signup": {
        "summary": "A sign-up code, number in international form",
        "value": {"phone": "+82 10-2345-6789", "purpose": "signup"},
    },
}
CHECK_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["code"],
    "properties": {
        "code": openapi.text(minLength=1, maxLength=20, examples=["123456"]),
        "client_ip": openapi.text(maxLength=45),
    },
}
VERIFICATION = {
    "type": "object",
    "required": ["id", "status", "expires_at", "channel", "purpose"],
    "properties": {
        "id": {"type": "string"},
        "status": {
            "type": "string",
            "enum": ["pending", "approved", "expired", "max_attempts", "canceled"],
        },
        "purpose": {"type": "string"},
        "channel": {"type": "string", "enum": ["sms", "alimtalk"]},
        "expires_at": {"type": "string", "format": "date-time"},
        "attempts_left": {"type": "integer", "minimum": 0},
    },
}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


openapi.register_path(
    "/verifications",
    {
        "post": {
            "operationId": "startVerification",
            "summary": (
                "Start an OTP verification: a fresh code is sent; "
                "an earlier pending one stops working"
            ),
            "security": [{"bearer": []}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": _ref("StartVerificationRequest"),
                        "examples": START_EXAMPLES,
                    }
                },
            },
            "responses": {
                "201": {
                    **_json("Verification", "The code was handed to a provider."),
                    "links": {
                        "CheckVerification": {
                            "operationId": "checkVerification",
                            "parameters": {"id": "$response.body#/id"},
                            "description": "Check the code the user received.",
                        }
                    },
                },
                "400": openapi.COMMON_ERRORS["400"],
                "401": _json("Error", "Missing or invalid API key."),
                "403": _json("Error", "The API key lacks the otp scope."),
                "413": _json("Error", "The request body is too large."),
                "415": openapi.UNSUPPORTED_MEDIA_TYPE,
                "422": _json("Error", "Invalid phone number or unknown purpose."),
                "429": openapi.throttled(
                    "Throttled by a policy or within the resend cooldown; nothing was sent."
                ),
                "502": _json(
                    "Error", "The provider refused the message; the verification was canceled."
                ),
                "503": openapi.THROTTLE_UNAVAILABLE,
            },
        }
    },
    {
        "StartVerificationRequest": START_REQUEST,
        "Verification": VERIFICATION,
        "CheckVerificationRequest": CHECK_REQUEST,
    },
)

openapi.register_path(
    "/verifications/{id}/check",
    {
        "post": {
            "operationId": "checkVerification",
            "summary": (
                "Check a code; returns approved, pending (with attempts left), "
                "expired, max_attempts or canceled"
            ),
            "security": [{"bearer": []}],
            "parameters": [openapi.ID_PARAMETER],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("CheckVerificationRequest")}},
            },
            "responses": {
                "200": _json("Verification", "The verification's status after this check."),
                "400": openapi.COMMON_ERRORS["400"],
                "401": _json("Error", "Missing or invalid API key."),
                "403": _json("Error", "The API key lacks the otp scope."),
                "404": _json("Error", "No verification with this id for this API key."),
                "409": _json("Error", "Already approved: a code is accepted only once."),
                "413": _json("Error", "The request body is too large."),
                "415": openapi.UNSUPPORTED_MEDIA_TYPE,
                "422": _json(
                    "Error",
                    "invalid_code: not the purpose's number of digits (details.code_length); "
                    "not checked, and no attempt was used.",
                ),
                "429": openapi.throttled("Too many wrong codes for this number or IP."),
                "503": openapi.THROTTLE_UNAVAILABLE,
            },
        }
    },
)


def verification_json(
    verification: Verification, attempts_left: int | None = None, *, purpose_code: str | None = None
) -> dict[str, Any]:
    """The API's view of a verification; ``purpose_code`` when the caller knows it already (a
    start read its purpose's settings, not the purpose row)."""
    body = {
        "id": verification.public_id,
        "status": verification.status,
        "purpose": purpose_code or verification.purpose.code,
        "channel": verification.channel,
        "expires_at": verification.expires_at.isoformat(),
    }
    if attempts_left is not None:
        body["attempts_left"] = attempts_left
    return body


def _api_error(exc: services.OtpRefused) -> ApiError:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    return ApiError(exc.status, exc.code, exc.message, details=exc.details, headers=headers)


@bp.post("/verifications")
@require_api_key(Scope.OTP)
def start_verification():
    """Start a verification and send its code."""
    body = json_body("StartVerificationRequest")
    try:
        verification = services.start(
            phone=body["phone"],
            purpose_code=body["purpose"],
            client_ip=body.get("client_ip"),
            user_ref=body.get("user_ref"),
            api_key_id=current_api_key().id,
        )
    except services.OtpRefused as exc:
        raise _api_error(exc) from None
    # The purpose the start was for is the one asked for: it was looked up by this code.
    response = jsonify(verification_json(verification, purpose_code=body["purpose"]))
    response.status_code = 201
    return response


@bp.post("/verifications/<string:verification_id>/check")
@require_api_key(Scope.OTP)
def check_verification(verification_id: str):
    """Check a code against a verification."""
    body = json_body("CheckVerificationRequest")
    if not plausible_id(verification_id):
        raise ApiError(404, "not_found", "No verification with this id.")
    try:
        result = services.check(
            verification_id,
            body["code"],
            client_ip=body.get("client_ip"),
            api_key_id=current_api_key().id,
        )
    except services.OtpRefused as exc:
        raise _api_error(exc) from None
    return jsonify(verification_json(result.verification, result.attempts_left))
