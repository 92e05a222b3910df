"""``/api/v1/campaigns``: one text or AlimTalk template to many recipients, sent by the worker.

A campaign created here starts at once (or at ``scheduled_at``): there is no preview step in
the API, so a list with an invalid number or a missing variable is refused whole (422, each
row named by its index) and nothing is sent. Duplicates are sent once; recipients opted out
of advertising are skipped. Numbers are never echoed in clear.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify

from kmsg_console.api import openapi
from kmsg_console.api.auth import current_api_key, require_api_key
from kmsg_console.api.errors import ApiError
from kmsg_console.api.opt_outs import api_key_label
from kmsg_console.api.views import _scheduled_at, bp, json_body
from kmsg_console.api_keys.models import Scope
from kmsg_console.campaigns import services, upload
from kmsg_console.campaigns.models import Campaign, CampaignStatus
from kmsg_console.extensions import db
from kmsg_console.sending.request import resolve_template

#: Recipients per request (SOLAPI takes 10,000 messages a request; so do we).
MAX_RECIPIENTS = 10_000
#: Invalid rows named in a 422 answer.
DETAILS_LISTED = 100

_VARIABLES = openapi.SEND_MESSAGE_REQUEST["properties"]["variables"]
CREATE_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "recipients"],
    "properties": {
        "name": openapi.text(minLength=1, maxLength=services.NAME_MAX),
        "text": openapi.text(
            maxLength=4000, description="Body; #{name} placeholders are filled from variables."
        ),
        "template_code": openapi.text(
            maxLength=64, description="Approved AlimTalk template code (instead of text)."
        ),
        "subject": openapi.text(maxLength=120, description="LMS subject."),
        "from": openapi.text(maxLength=32, description="A registered sender number."),
        "variables": {**_VARIABLES, "description": "Values common to every recipient."},
        "recipients": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_RECIPIENTS,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["to"],
                "properties": {
                    "to": openapi.phone("A mobile number (010, 011, 016-019)."),
                    "variables": {**_VARIABLES, "description": "This recipient's own values."},
                },
            },
        },
        "scheduled_at": {
            "type": "string",
            "format": "date-time",
            "description": "Start time with a UTC offset; omitted or past: at once.",
        },
        "rate": {
            "type": "integer",
            "minimum": 1,
            "maximum": 10_000,
            "description": (
                f"Messages per second (default {services.DEFAULT_RATE}); above the enabled "
                "providers' cap it is refused with 422 invalid_rate."
            ),
        },
        "ad": {"type": "boolean", "description": "An advertising campaign (광고)."},
    },
}
ACCEPTED = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {
        "id": {"type": "string"},
        "status": {"type": "string", "enum": [s.value for s in CampaignStatus]},
    },
}
_COUNT = {"type": "integer", "minimum": 0}
CAMPAIGN = {
    "type": "object",
    "required": ["id", "status", "total", "sent", "failed", "unknown", "skipped", "pending"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "status": {"type": "string", "enum": [s.value for s in CampaignStatus]},
        "total": {**_COUNT, "description": "Recipients (duplicates and opt-outs included)."},
        "sent": {**_COUNT, "description": "Accepted by a provider."},
        "failed": _COUNT,
        "unknown": {**_COUNT, "description": "Outcome unknown; never resent automatically."},
        "skipped": {**_COUNT, "description": "Duplicates and opted-out recipients."},
        "cancelled": _COUNT,
        "pending": {**_COUNT, "description": "Not sent yet."},
        "rate": {"type": "integer"},
        "scheduled_at": {"type": ["string", "null"], "format": "date-time"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}


def _json(name: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
    }


_NOT_FOUND = _json("Error", "No campaign with this id was created with this API key.")
openapi.register_path(
    "/campaigns",
    {
        "post": {
            "operationId": "createCampaign",
            "summary": "Send one text or AlimTalk template to many recipients, at a rate",
            "security": [{"bearer": []}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/CreateCampaignRequest"},
                        "examples": {
                            "notice": {
                                "summary": "A notice with a name per recipient",
                                "value": {
                                    "name": "12월 점검 안내",
                                    "text": "#{이름}님, 12월 10일 02:00-04:00 점검이 있습니다.",
                                    "recipients": [
                                        {"to": "010-1234-5678", "variables": {"이름": "김민수"}},
                                        {"to": "010-2345-6789", "variables": {"이름": "이영희"}},
                                    ],
                                    "rate": 20,
                                },
                            }
                        },
                    }
                },
            },
            "responses": {
                "202": _json("CampaignAccepted", "Accepted; the worker sends it."),
                "400": openapi.COMMON_ERRORS["400"],
                "401": openapi.COMMON_ERRORS["401"],
                "403": _json("Error", "The API key lacks the send scope."),
                "413": _json("Error", "The request body is too large."),
                "415": openapi.UNSUPPORTED_MEDIA_TYPE,
                "422": _json(
                    "Error",
                    "invalid_recipients (details name each row by index), invalid_campaign "
                    "(text and template_code both or neither, a name of spaces, a sender that is "
                    "not a number), "
                    "invalid_rate, unknown_template.",
                ),
            },
        }
    },
    {"CreateCampaignRequest": CREATE_REQUEST, "CampaignAccepted": ACCEPTED, "Campaign": CAMPAIGN},
)
openapi.register_path(
    "/campaigns/{id}",
    {
        "get": {
            "operationId": "getCampaign",
            "summary": "A campaign's status and counts",
            "security": [{"bearer": []}],
            "parameters": [openapi.ID_PARAMETER],
            "responses": {
                "200": _json("Campaign", "The campaign."),
                "401": openapi.COMMON_ERRORS["401"],
                "403": openapi.COMMON_ERRORS["403"],
                "404": _NOT_FOUND,
            },
        }
    },
)
openapi.register_path(
    "/campaigns/{id}/cancel",
    {
        "post": {
            "operationId": "cancelCampaign",
            "summary": "Cancel a campaign: what has left stays sent, the rest is cancelled",
            "security": [{"bearer": []}],
            "parameters": [openapi.ID_PARAMETER],
            "responses": {
                "200": _json("Campaign", "Cancelled, or already finished (its status says)."),
                "401": openapi.COMMON_ERRORS["401"],
                "403": openapi.COMMON_ERRORS["403"],
                "404": _NOT_FOUND,
            },
        }
    },
)


def campaign_json(campaign: Campaign) -> dict[str, Any]:
    progress = services.progress(campaign)
    return {
        "id": campaign.public_id,
        "name": campaign.name,
        "status": campaign.status,
        **progress.as_dict(),
        "rate": campaign.rate,
        "scheduled_at": campaign.scheduled_at.isoformat() if campaign.scheduled_at else None,
        "created_at": campaign.created_at.isoformat(),
    }


def _invalid_rows(preview: upload.Preview) -> ApiError:
    details = [
        {
            "field": f"recipients[{item['row'] - 1}]",
            "message": item["reason"] % item["params"] if item["params"] else item["reason"],
        }
        for item in preview.invalid[:DETAILS_LISTED]
    ]
    return ApiError(
        422,
        "invalid_recipients",
        f"{preview.invalid_count} recipient(s) cannot be sent to; nothing was created.",
        details=details,
    )


@bp.post("/campaigns")
@require_api_key(Scope.SEND)
def create_campaign():
    body = json_body("CreateCampaignRequest")
    scheduled_at = _scheduled_at(body.get("scheduled_at"))
    template_code = (body.get("template_code") or "").strip()
    if template_code and not body.get("text") and resolve_template(template_code) is None:
        raise ApiError(
            422,
            "unknown_template",
            "No approved AlimTalk template has this code.",
            details=[{"field": "template_code", "message": "unknown template"}],
        )
    try:
        campaign = services.create_draft(
            name=body["name"],
            text=body.get("text"),
            template_code=template_code,
            subject=body.get("subject"),
            from_number=body.get("from"),
            variables=body.get("variables"),
            ad=bool(body.get("ad")),
            rate=body.get("rate"),
            scheduled_at=scheduled_at,
            rows=upload.rows_from_list(body["recipients"]),
            actor_label=api_key_label(),
            api_key_id=current_api_key().id,
        )
    except services.CampaignError as exc:
        db.session.rollback()
        code = "invalid_rate" if exc.field == "rate" else "invalid_campaign"
        field = {"from_number": "from"}.get(exc.field, exc.field)
        raise ApiError(
            422, code, str(exc), details=[{"field": field, "message": str(exc)}]
        ) from None
    preview = services.preview_of(campaign)
    if preview.invalid_count:
        db.session.rollback()
        raise _invalid_rows(preview)
    services.confirm(campaign, actor_label=api_key_label())
    db.session.commit()
    response = jsonify({"id": campaign.public_id, "status": campaign.status})
    response.status_code = 202
    return response


def _own(campaign_id: str) -> Campaign:
    campaign = services.get(campaign_id)
    if campaign is None or campaign.api_key_id != current_api_key().id:
        raise ApiError(404, "not_found", "No such campaign.")
    return campaign


@bp.get("/campaigns/<string:campaign_id>")
@require_api_key(Scope.SEND)
def get_campaign(campaign_id: str):
    return jsonify(campaign_json(_own(campaign_id)))


@bp.post("/campaigns/<string:campaign_id>/cancel")
@require_api_key(Scope.SEND)
def cancel_campaign(campaign_id: str):
    campaign = _own(campaign_id)
    services.cancel(campaign, actor_label=api_key_label())
    db.session.commit()
    return jsonify(campaign_json(campaign))
