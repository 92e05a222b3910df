"""SOLAPI sender numbers (``GET /senderid/v1/numbers``), same HMAC auth as messages.

The answer is SOLAPI's documented shape (api-reference/senderid/getSenderIdInfo):
``{limit, accountId, senderIds: [{phoneNumber, status, handleKey, method, expireAt, log,
approvalDocuments, unlockDuplicate, dateCreated, dateUpdated}], limitationDocuments, ...}``.
SOLAPI sends only from ``ACTIVE`` numbers, so the send intake checks this list; it is seeded
from ``options.sender_numbers`` (all ``ACTIVE``) and tests replace it through the control API
(``PUT /_control/sender-numbers/solapi``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from .common import digits, iso_now, json_response, random_token
from .solapi_auth import check_auth
from .solapi_ids import ACCOUNT_ID
from .state import SimulatorState, get_state, synchronized

bp = Blueprint("sim_solapi_senders", __name__, url_prefix="/solapi/senderid/v1")

VENDOR = "solapi"
#: SOLAPI's default cap on an account's sender numbers (raised on request with documents).
LIMIT = 5
STATUSES = ("ACTIVE", "PENDING", "EXPIRED", "INACTIVE")


@bp.before_request
def _authenticate() -> Response | None:
    return check_auth(get_state())


def _entry(number: str, status: str) -> dict[str, Any]:
    now = iso_now()
    return {
        "phoneNumber": number,
        "status": status,
        "handleKey": "SED" + random_token(29).upper(),
        "method": "SELF-CERT" if status == "ACTIVE" else None,
        "expireAt": None,
        "log": [],
        "approvalDocuments": [],
        "unlockDuplicate": {
            "duplicateId": None,
            "reason": None,
            "reasonForRequested": None,
            "name": None,
            "status": None,
            "dateCreated": None,
            "dateUpdated": None,
        },
        "dateCreated": now,
        "dateUpdated": now,
    }


def set_numbers(state: SimulatorState, entries: list[Any]) -> list[dict[str, Any]]:
    """Replace the account's list: each entry a number (``ACTIVE``) or
    ``{"phoneNumber": ..., "status": ...}``. The caller holds the state lock."""
    listed: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if isinstance(entry, dict):
            number, status = digits(entry.get("phoneNumber")), str(entry.get("status") or "ACTIVE")
        else:
            number, status = digits(entry), "ACTIVE"
        if not number:
            raise ValueError("each entry needs a phoneNumber")
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        listed[number] = _entry(number, status)
    state.sender_ids[VENDOR] = listed
    return list(listed.values())


def seed(state: SimulatorState) -> None:
    """The registered demo senders, all usable."""
    set_numbers(state, list(state.options.sender_numbers))


def is_active(state: SimulatorState, number: str) -> bool:
    entry = state.sender_ids[VENDOR].get(digits(number))
    return entry is not None and entry["status"] == "ACTIVE"


@bp.get("/numbers")
@synchronized
def numbers() -> Response:
    state = get_state()
    return json_response(
        {
            "limit": max(LIMIT, len(state.sender_ids[VENDOR])),
            "accountId": ACCOUNT_ID,
            "senderIds": list(state.sender_ids[VENDOR].values()),
            "limitationDocuments": [],
            "dateCreated": iso_now(),
            "dateUpdated": iso_now(),
        }
    )
