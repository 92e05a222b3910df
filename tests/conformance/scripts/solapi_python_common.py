"""Shared set-up of the SOLAPI Python SDK scripts: the SDK's service pointed at the simulator.

Run with the SDK's own interpreter; the test passes the simulator's SOLAPI base URL and the
demo credentials as ``SOLAPI_BASE_URL``, ``SOLAPI_API_KEY`` and ``SOLAPI_API_SECRET``. Each
script prints one JSON document as its last line of output.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from solapi import SolapiMessageService


def service() -> SolapiMessageService:
    """The SDK's message service, talking to the simulator instead of api.solapi.com."""
    sdk = SolapiMessageService(os.environ["SOLAPI_API_KEY"], os.environ["SOLAPI_API_SECRET"])
    sdk.base_url = os.environ["SOLAPI_BASE_URL"]
    return sdk


def dump(model: Any) -> Any:
    """A parsed SDK model as JSON, with the API's own (camelCase) field names."""
    return model.model_dump(mode="json", by_alias=True)


def emit(document: Any) -> None:
    print(json.dumps(document, ensure_ascii=False))


def fail(reason: str) -> None:
    """End the script with a non-zero exit so the test shows why."""
    print(reason, file=sys.stderr)
    raise SystemExit(1)
