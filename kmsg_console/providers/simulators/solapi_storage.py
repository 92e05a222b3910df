"""SOLAPI storage: files uploaded with ``POST /storage/v1/files`` and looked up by message intake.

The answer carries every field SOLAPI's SDKs read: the Python SDK (5.0.3) requires ``fileId``,
``type``, ``name``, ``originalName``, ``url`` and ``accountId``; the Node SDK (6.0.1)
``fileId``, ``type`` and ``link``. SOLAPI names an unnamed upload with a short random stem and
the extension of its content (``hTAgX.png`` in SOLAPI's own sample answer).
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

from .common import iso_now, random_token
from .solapi_ids import ACCOUNT_ID
from .state import SimulatorState

#: Upload types the SDKs offer (Python's ``FileTypeEnum`` and Node's ``fileTypeSchema``).
FILE_TYPES = frozenset(
    "MMS KAKAO RCS FAX DOCUMENT BMS BMS_WIDE BMS_WIDE_MAIN_ITEM_LIST BMS_WIDE_SUB_ITEM_LIST "
    "BMS_CAROUSEL_FEED_LIST BMS_CAROUSEL_COMMERCE_LIST".split()
)
_MAGIC = ((b"\xff\xd8\xff", ".jpg"), (b"\x89PNG", ".png"), (b"GIF8", ".gif"), (b"%PDF", ".pdf"))
_NAME_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: SOLAPI answers with its storage bucket's public address; the simulator hosts no files,
#: so the address is one that can never resolve (RFC 2606 reserves ``.invalid``).
STORAGE_URL = "https://storage.solapi.invalid"


class UploadRefused(ValueError):
    """The upload request is not one SOLAPI would take; the text says why."""


def store_upload(state: SimulatorState, payload: Any) -> dict[str, Any]:
    """Keep an uploaded file and return SOLAPI's description of it."""
    if not isinstance(payload, dict) or not payload.get("file"):
        raise UploadRefused("file(base64)이 필요합니다.")
    if payload.get("type") not in FILE_TYPES:
        raise UploadRefused(f"type 은 {', '.join(sorted(FILE_TYPES))} 중 하나여야 합니다.")
    try:
        content = base64.b64decode(str(payload["file"]), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UploadRefused("file 은 base64 로 인코딩된 파일이어야 합니다.") from exc
    name = str(payload.get("name") or "") or _generated_name(content)
    file_id = "ST01FZ" + datetime.now(UTC).strftime("%y%m%d%H%M%S") + random_token(14)
    now = iso_now()
    record = {
        "fileId": file_id,
        "type": payload["type"],
        "name": name,
        "originalName": name,
        "url": f"{STORAGE_URL}/{ACCOUNT_ID}/{file_id}/{name}",
        "link": payload.get("link"),
        "accountId": ACCOUNT_ID,
        "references": [],
        "dateCreated": now,
        "dateUpdated": now,
    }
    state.files["solapi"][file_id] = record
    return record


def find_file(state: SimulatorState, file_id: Any) -> dict[str, Any] | None:
    return state.files["solapi"].get(str(file_id))


def _generated_name(content: bytes) -> str:
    extension = next((ext for magic, ext in _MAGIC if content.startswith(magic)), "")
    return random_token(5, _NAME_ALPHABET) + extension
