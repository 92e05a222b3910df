"""Retention: rows past their class's age are gone (or scrubbed), younger rows untouched."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa

from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.orm import utcnow
from kmsg_console.otp.models import Verification, VerificationEvent, VerificationPurpose
from kmsg_console.otp.services import ensure_default_purposes
from kmsg_console.sending.models import MessageAttempt, MessageEvent, MessageLog, SandboxDelivery
from kmsg_console.throttle.models import EventOutcome, ThrottleEvent
from kmsg_console.worker import retention
from kmsg_console.worker.models import DeliveryWebhookReceipt
from tests.worker.conftest import load, send


def _age_message(app, public_id: str, days: float, *, otp: bool = False) -> None:
    with app.app_context():
        values = {"created_at": utcnow() - timedelta(days=days)}
        if otp:
            values["source"] = "otp"
        db.session.execute(
            sa.update(MessageLog).where(MessageLog.public_id == public_id).values(**values)
        )
        db.session.commit()


def _verification(days: float) -> str:
    public_id = str(uuid.uuid4())
    purpose = db.session.scalars(sa.select(VerificationPurpose)).first()
    at = utcnow() - timedelta(days=days)
    verification = Verification(
        public_id=public_id,
        purpose=purpose,
        created_at=at,
        status="expired",
        status_updated_at=at,
        phone_hash="h" * 64,
        phone_enc="x",
        phone_masked="010-****-5678",
        code_hash="c" * 64,
        expires_at=at + timedelta(minutes=3),
        max_checks=5,
        channel="sms",
    )
    verification.events.append(VerificationEvent(at=at, kind="pending"))
    db.session.add(verification)
    return public_id


def _seed(app) -> dict[str, list]:
    now = utcnow()
    with app.app_context():
        ensure_default_purposes()
        ids = {"verifications": [_verification(d) for d in (100, 4, 1)]}
        for days in (100, 10, 8, 6):
            db.session.add(
                ThrottleEvent(
                    created_at=now - timedelta(days=days),
                    action="otp_start",
                    outcome=EventOutcome.BLOCKED,
                    key_kind="phone",
                    key_hash="k" * 64,
                    key_masked="010-****-5678",
                )
            )
        for days in (400, 300):
            db.session.add(
                AuditEvent(
                    created_at=now - timedelta(days=days),
                    actor_label="old",
                    action="x.y",
                    details={},
                )
            )
        for days in (4, 1):
            db.session.add(
                SandboxDelivery(
                    created_at=now - timedelta(days=days),
                    provider_code="sandbox",
                    message_public_id=str(uuid.uuid4()),
                    type="SMS",
                    to_hash="h",
                    to_masked="010",
                    body_enc="secret body",
                )
            )
        db.session.add(
            DeliveryWebhookReceipt(
                provider_code="solapi",
                signature_hash="s" * 64,
                reports=1,
                received_at=now - timedelta(days=3),
            )
        )
        db.session.commit()
    return ids


def _count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_purge_removes_old_rows_per_class_and_keeps_younger_ones(
    app, simulator, route, monkeypatch
):
    monkeypatch.setattr(retention, "BATCH", 2)  # several batches per class
    route("sandbox")
    messages = {days: send(app) for days in (100, 10)}
    otp_messages = {days: send(app) for days in (4, 2)}
    for days, public_id in messages.items():
        _age_message(app, public_id, days)
    for days, public_id in otp_messages.items():
        _age_message(app, public_id, days, otp=True)
    ids = _seed(app)
    old_message_id = load(app, messages[100]).id

    with app.app_context():
        counts = retention.purge()
        assert (
            counts["send_logs"] == 1 and counts["throttle_events"] == 1 and counts["audit_log"] == 1
        )
        # send logs: the 100-day message and its attempts and events are gone; the 10-day one stays
        assert _count(MessageLog, MessageLog.public_id == messages[100]) == 0
        assert _count(MessageAttempt, MessageAttempt.message_id == old_message_id) == 0
        assert _count(MessageEvent, MessageEvent.message_id == old_message_id) == 0
        assert _count(MessageLog, MessageLog.public_id == messages[10]) == 1
        # OTP texts: dropped after 3 days, the message row itself kept
        assert (
            db.session.scalar(
                sa.select(MessageLog.body_enc).where(MessageLog.public_id == otp_messages[4])
            )
            is None
        )
        assert db.session.scalar(
            sa.select(MessageLog.body_enc).where(MessageLog.public_id == otp_messages[2])
        )
        # verifications: 100 days gone with events, 4 days scrubbed, 1 day untouched
        hashes = dict(
            db.session.execute(sa.select(Verification.public_id, Verification.code_hash)).all()
        )
        assert ids["verifications"][0] not in hashes
        assert hashes[ids["verifications"][1]] == "" and hashes[ids["verifications"][2]] == "c" * 64
        assert _count(VerificationEvent) == 2
        # throttle events and audit log by their own ages; sandbox bodies with the OTP class
        assert _count(ThrottleEvent) == 3
        assert _count(AuditEvent, AuditEvent.actor_label == "old") == 1
        assert _count(SandboxDelivery, SandboxDelivery.body_enc == "secret body") == 1
        assert _count(DeliveryWebhookReceipt) == 0
        audit = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "retention.purge")
        ).one()
        assert audit.details["rows"]["send_logs"] == 1
        assert retention.purge()["send_logs"] == 0  # nothing left to do


def test_settings_change_the_ages(app, simulator, route):
    route("sandbox")
    otp = send(app)
    _age_message(app, otp, 2, otp=True)
    with app.app_context():
        retention.save_policies({"otp": 1, "throttle_events": 7}, actor=None)
        db.session.commit()
        for days in (8, 6):
            db.session.add(
                ThrottleEvent(
                    created_at=utcnow() - timedelta(days=days),
                    action="otp_start",
                    outcome=EventOutcome.BLOCKED,
                    key_kind="ip",
                    key_hash="k",
                    key_masked="1.2",
                )
            )
        db.session.commit()
        retention.purge()
        assert (
            db.session.scalar(sa.select(MessageLog.body_enc).where(MessageLog.public_id == otp))
            is None
        )
        assert _count(ThrottleEvent) == 1


def test_retention_page_saves_audits_and_refuses_out_of_range(app, console):
    console.login(Role.ADMIN)
    page = console.client.get("/settings/retention")
    assert page.status_code == 200 and "Send logs" in page.get_data(as_text=True)
    data = {c.key: str(c.default) for c in retention.CLASSES}
    bad = console.post("/settings/retention", data={**data, "otp": "8", "audit_log": "30"})
    assert bad.status_code == 422
    with app.app_context():
        assert retention.policies()["otp"] == 3
    saved = console.post("/settings/retention", data={**data, "otp": "7", "send_logs": "60"})
    assert saved.status_code == 303
    with app.app_context():
        assert retention.policies()["otp"] == 7 and retention.policies()["send_logs"] == 60
        audit = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "retention.update")
        ).one()
        assert audit.details["after"] == {"otp": 7, "send_logs": 60}


def test_retention_page_is_admin_only(app, console):
    console.login(Role.OPERATOR)
    assert console.client.get("/settings/retention").status_code == 403
