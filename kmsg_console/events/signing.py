"""Signing outgoing webhooks exactly as the console checks incoming ones.

``X-Webhook-Timestamp``: epoch seconds. ``X-Webhook-Signature``: ``sha256=<hex HMAC-SHA256 of
"<timestamp>.<body>">`` (:func:`kmsg_console.worker.webhooks.sign`). During the grace period
after a secret is rotated the header carries two signatures, the new secret's first:
``sha256=<new>,sha256=<old>``; a receiver accepts the request when any of them matches the
secret it holds. ``X-Webhook-Id``: the event's id, the same on every retry (for de-duplication).
"""

from __future__ import annotations

from collections.abc import Sequence

from kmsg_console.worker.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

ID_HEADER = "X-Webhook-Id"


def headers(event_id: str, timestamp: int, body: bytes, secrets: Sequence[str]) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "kmsg-console-webhooks/1",
        ID_HEADER: event_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: ",".join(sign(secret, timestamp, body) for secret in secrets),
    }
