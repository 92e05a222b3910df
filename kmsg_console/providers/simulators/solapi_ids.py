"""Identifiers of the simulated SOLAPI account: the account id and message/group ids."""

from __future__ import annotations

from datetime import UTC, datetime

from .common import random_token

ACCOUNT_ID = "26010100000000"


def new_message_id(prefix: str = "M4V") -> str:
    """SOLAPI-looking id: prefix + UTC timestamp + random tail (32 chars); groups use G4V."""
    return prefix + datetime.now(UTC).strftime("%Y%m%d%H%M%S") + random_token(15)
