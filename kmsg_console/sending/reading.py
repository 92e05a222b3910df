"""Reading the send log: a message by id, a number's lookup hash, bodies, the sandbox inbox."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import current_app

from kmsg_console.extensions import db
from kmsg_console.messaging.phone import (
    PHONE_HASH_PURPOSE,
    InvalidPhoneNumber,
    normalize_recipient,
)
from kmsg_console.sending.models import MessageLog, SandboxDelivery


def find_by_public_id(public_id: str) -> MessageLog | None:
    return db.session.scalar(sa.select(MessageLog).where(MessageLog.public_id == public_id))


def find_fallback(log: MessageLog) -> MessageLog | None:
    """The SMS/LMS the console sent in place of the AlimTalk ``log`` (a unique index: one)."""
    return db.session.scalar(sa.select(MessageLog).where(MessageLog.fallback_of_id == log.id))


def phone_hash(raw_phone: str) -> str | None:
    """The lookup hash of any accepted format of a number, or None when it is not a number."""
    try:
        digits = normalize_recipient(raw_phone)
    except InvalidPhoneNumber:
        return None
    return current_app.config["KEYRING"].lookup_hash(digits, PHONE_HASH_PURPOSE)


def decrypt_body(log: MessageLog) -> str | None:
    if log.body_enc is None:
        return None
    return current_app.config["KEYRING"].decrypt(log.body_enc, f"message:{log.public_id}:body")


def sandbox_inbox(raw_phone: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """Recent sandbox deliveries (decrypted), optionally for one number."""
    keyring = current_app.config["KEYRING"]
    query = sa.select(SandboxDelivery).order_by(SandboxDelivery.id.desc()).limit(limit)
    if raw_phone:
        digest = phone_hash(raw_phone)
        if digest is None:
            return []
        query = query.where(SandboxDelivery.to_hash == digest)
    return [
        {
            "at": d.created_at,
            "to": d.to_masked,
            "type": d.type,
            "message_id": d.message_public_id,
            "text": keyring.decrypt(d.body_enc, f"sandbox:{d.message_public_id}"),
        }
        for d in db.session.scalars(query)
    ]


def attempts_summary(log: MessageLog) -> list[Mapping[str, Any]]:
    return [
        {
            "number": a.number,
            "provider": a.provider_code,
            "trigger": a.trigger,
            "outcome": a.outcome,
            "error_code": a.error_code,
            "vendor_code": a.vendor_code,
            "vendor_text": a.vendor_text,
            "http_status": a.http_status,
            "latency_ms": a.latency_ms,
            "started_at": a.started_at.isoformat(),
            "finished_at": a.finished_at.isoformat() if a.finished_at else None,
        }
        for a in log.attempts
    ]
