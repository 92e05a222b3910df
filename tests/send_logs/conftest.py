"""Factories for send-log tests: rows written directly (exact times and codes) or sent for real.

``add_log`` writes a ``message_log`` row the way the send engine stores one (recipient encrypted,
hashed and masked), so list, filter, export and report tests control every column and the
creation time. ``sandbox`` sends through the real send engine and the sandbox provider, whose
scripted outcomes (``script_sandbox``) produce failures, timeouts and slow sends on demand.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from kmsg_console import sending
from kmsg_console.extensions import db
from kmsg_console.messaging.phone import mask_phone, normalize_recipient
from kmsg_console.orm import utcnow
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.sandbox import sandbox_clear, script_sandbox
from kmsg_console.providers.models import Provider
from kmsg_console.sending.models import MessageAttempt, MessageEvent, MessageLog, MessageSource

PHONE = "010-2468-1357"
OTHER_PHONE = "010-9876-5432"


def _keyring(app):
    return app.config["KEYRING"]


@pytest.fixture
def add_log(app):
    """``add_log(status="FAILED", error_code=..., created_at=..., attempts=[{...}])`` -> public id."""

    def add(
        *,
        phone: str = PHONE,
        created_at: datetime | None = None,
        attempts=(),
        body: str | None = "안녕하세요",
        **columns,
    ) -> str:
        public_id = str(uuid.uuid4())
        digits = normalize_recipient(phone)
        with app.app_context():
            keyring = _keyring(app)
            values = dict(
                status="SENT",
                source="api",
                type="SMS",
                provider_code="sandbox",
                attempt_count=len(attempts),
            )
            values.update(columns)
            log = MessageLog(
                public_id=public_id,
                created_at=created_at or utcnow(),
                to_hash=keyring.lookup_hash(digits, sending.PHONE_HASH_PURPOSE),
                to_enc=keyring.encrypt(digits, f"message:{public_id}:to"),
                to_masked=mask_phone(digits),
                body_enc=keyring.encrypt(body, f"message:{public_id}:body")
                if body is not None
                else None,
                **values,
            )
            for number, attempt in enumerate(attempts, start=1):
                data = {
                    "trigger": "initial",
                    "provider_code": log.provider_code,
                    "outcome": "failed",
                    "started_at": log.created_at,
                    "finished_at": log.created_at + timedelta(milliseconds=120),
                    "latency_ms": 120,
                    **attempt,
                }
                log.attempts.append(MessageAttempt(number=number, **data))
            log.events.append(
                MessageEvent(at=log.created_at, kind="status", status=log.status, detail="seeded")
            )
            db.session.add(log)
            db.session.commit()
        return public_id

    return add


@pytest.fixture
def add_provider(app):
    def add(code: str, vendor: str) -> None:
        with app.app_context():
            db.session.add(Provider(code=code, name=code, vendor=vendor, settings={}, secrets={}))
            db.session.commit()

    return add


class Sandbox:
    """Send through the real send engine with the sandbox provider as the only route."""

    def __init__(self, app) -> None:
        self.app = app

    def script(self, *steps: str) -> None:
        script_sandbox(provider_services.SANDBOX_CODE, list(steps))

    def send(self, text: str = "주문이 접수되었습니다.", phone: str = PHONE, **kwargs) -> str:
        with self.app.test_request_context():
            result = sending.send(
                sending.SendRequest(to=phone, text=text),
                source=kwargs.pop("source", MessageSource.API),
                **kwargs,
            )
            return result.log.public_id

    def log(self, public_id: str) -> MessageLog:
        with self.app.app_context():
            log = db.session.scalar(sa.select(MessageLog).where(MessageLog.public_id == public_id))
            log.attempts, log.events  # load before leaving the session  # noqa: B018
            db.session.expunge_all()
            return log


@pytest.fixture
def sandbox(app):
    sandbox_clear()
    with app.app_context():
        provider_services.ensure_sandbox_provider()
        db.session.commit()
    yield Sandbox(app)
    sandbox_clear()
