"""The duplicate-send window (중복 발송 차단): the same text to the same number within N
minutes is refused with 409 ``duplicate_message``; off by default; global or per provider;
failed messages and OTPs never count; an Idempotency-Key replay returns the original."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from kmsg_console import sending
from kmsg_console.api_keys.services import issue_key
from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.orm import utcnow
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.sandbox import sandbox_clear, script_sandbox
from kmsg_console.providers.models import Provider
from kmsg_console.sending import duplicates, rules
from kmsg_console.sending.models import MessageLog, MessageSource
from tests.api.openapi_check import OpenApiChecker

TEXT = "[샵] 주문이 접수되었습니다."
SEND_PATH = "/messages/v4/send-many/detail"


@pytest.fixture
def api(app, client):
    sandbox_clear()
    with app.test_request_context():
        provider_services.ensure_sandbox_provider()
        key = issue_key("shop", ["send"], actor_label="test").plaintext
        db.session.commit()
    checker = OpenApiChecker(client.get("/api/v1/openapi.json").get_json())

    def post(body, headers=None):
        response = client.post(
            "/api/v1/messages",
            json=body,
            headers={"Authorization": f"Bearer {key}", **(headers or {})},
        )
        checker.check("/messages", "post", response)
        return response

    yield post
    sandbox_clear()


def _set_global(app, minutes):
    with app.test_request_context():
        duplicates.save_global_window(minutes, actor=None)
        db.session.commit()


def _set_provider(app, code, minutes):
    with app.test_request_context():
        provider = db.session.scalar(sa.select(Provider).where(Provider.code == code))
        provider.duplicate_window_minutes = minutes
        db.session.commit()


def _logs(app):
    with app.app_context():
        rows = list(db.session.scalars(sa.select(MessageLog).order_by(MessageLog.id)))
        db.session.expunge_all()
        return rows


def _add_solapi(app, simulator, code="solapi"):
    with app.test_request_context():
        provider_services.save_provider(
            None,
            vendor="solapi",
            code=code,
            name=code,
            enabled=True,
            actor=None,
            values={
                "api_key": "demo-api-key",
                "api_secret": "demo-api-secret",
                "default_from": "0212345678",
                "base_url": simulator.url("solapi"),
            },
        )
        provider_services.save_routes({"SMS": [code]}, actor=None)
        db.session.commit()


def test_off_by_default(app, api):
    body = {"to": "010-1234-5678", "text": TEXT}
    assert api(body).status_code == 201
    assert api(body).status_code == 201
    assert [log.status for log in _logs(app)] == ["SENT", "SENT"]


def test_the_same_text_within_the_window_is_refused_and_never_reaches_the_vendor(
    app, api, simulator
):
    _add_solapi(app, simulator)
    _set_global(app, 10)
    first = api({"to": "010-1234-5678", "type": "SMS", "text": TEXT})
    assert first.status_code == 201, first.get_json()
    first_id = first.get_json()["id"]
    # Another spelling of the same number is the same recipient.
    second = api({"to": "+82 10-1234-5678", "type": "SMS", "text": TEXT})
    assert second.status_code == 409
    error = second.get_json()["error"]
    assert error["code"] == "duplicate_message"
    assert first_id in error["message"] and "10 min" in error["message"]
    assert "1234" not in error["message"] and TEXT not in error["message"]
    assert len(simulator.control.requests("solapi", path=SEND_PATH)) == 1
    logs = _logs(app)
    assert [(log.status, log.error_code) for log in logs] == [
        ("SENT", None),
        ("FAILED", "duplicate_message"),
    ]
    assert logs[1].attempt_count == 0
    # Another text, another number or another subject is not a duplicate.
    assert api({"to": "010-1234-5678", "type": "SMS", "text": TEXT + "!"}).status_code == 201
    assert api({"to": "010-9999-5678", "type": "SMS", "text": TEXT}).status_code == 201
    assert len(simulator.control.requests("solapi", path=SEND_PATH)) == 3


def test_outside_the_window_it_is_sent(app, api, monkeypatch):
    _set_global(app, 5)
    body = {"to": "010-1234-5678", "text": TEXT}
    assert api(body).status_code == 201
    now = utcnow()
    monkeypatch.setattr(rules, "clock", lambda: now + timedelta(minutes=4, seconds=59))
    assert api(body).status_code == 409
    monkeypatch.setattr(rules, "clock", lambda: now + timedelta(minutes=5, seconds=1))
    assert api(body).status_code == 201


def test_a_provider_window_overrides_the_global_one(app, api):
    body = {"to": "010-1234-5678", "text": TEXT}
    _set_provider(app, "sandbox", 30)  # global off, this provider on
    assert api(body).status_code == 201
    assert api(body).get_json()["error"]["code"] == "duplicate_message"
    _set_global(app, 30)
    _set_provider(app, "sandbox", 0)  # global on, this provider off
    assert api(body).status_code == 201
    _set_provider(app, "sandbox", None)  # back to the global window
    assert api(body).status_code == 409


def test_a_failed_earlier_message_does_not_count(app, api):
    _set_global(app, 10)
    body = {"to": "010-1234-5678", "text": TEXT}
    script_sandbox("sandbox", ["fail:MESSAGE_SEND_FAILED"])
    assert api(body).get_json()["status"] == "FAILED"
    assert api(body).get_json()["status"] == "SENT"
    assert api(body).status_code == 409


def test_an_idempotency_key_replay_returns_the_original(app, api):
    _set_global(app, 10)
    body = {"to": "010-1234-5678", "text": TEXT}
    first = api(body, {"Idempotency-Key": "order-1"})
    assert first.status_code == 201
    replay = api(body, {"Idempotency-Key": "order-1"})
    assert replay.status_code == 200 and replay.get_json()["id"] == first.get_json()["id"]
    # A new key is a new request: the same text again is a duplicate.
    other = api(body, {"Idempotency-Key": "order-2"})
    assert other.status_code == 409 and other.get_json()["error"]["code"] == "duplicate_message"
    assert len(_logs(app)) == 2


def test_otp_sends_are_exempt_and_keep_no_hash(app, api):
    _set_global(app, 10)
    with app.test_request_context():
        for _ in range(2):
            result = sending.send(
                sending.SendRequest(to="01012345678", text="인증번호 [123456]"),
                source=MessageSource.OTP,
                sensitive_values=["123456"],
            )
            assert result.created
    assert [log.dedupe_hash for log in _logs(app)] == [None, None]


def test_the_hash_is_keyed_and_holds_no_text(app, api):
    api({"to": "010-1234-5678", "text": TEXT})
    api({"to": "010-1234-5678", "text": TEXT, "type": "LMS"})
    first, second = _logs(app)
    assert len(first.dedupe_hash) == 64 and first.dedupe_hash != second.dedupe_hash
    with app.app_context():
        row = db.session.execute(
            sa.text("SELECT * FROM message_log WHERE id = :id"), {"id": first.id}
        ).mappings()
        assert not any(TEXT in str(value) for value in next(iter(row)).values())


# -- the console ------------------------------------------------------------------------


def test_an_admin_sets_the_global_window_audited(app, console):
    console.login(Role.ADMIN)
    page = console.client.get("/settings/sending")
    assert page.status_code == 200 and b"Duplicate-send window" in page.data
    response = console.post("/settings/sending", data={"duplicate_window": "61"})
    assert response.status_code == 422 and b"Enter 0 (off) to 60 minutes." in response.data
    response = console.post("/settings/sending", data={"duplicate_window": "15"})
    assert response.status_code == 303
    with app.test_request_context():
        assert duplicates.global_window() == 15
        [event] = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "setting.update")
        ).all()
        assert event.details == {
            "before": {duplicates.GLOBAL_KEY: 0},
            "after": {duplicates.GLOBAL_KEY: 15},
        }


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.VIEWER])
def test_only_admins_see_the_sending_rules(console, role):
    console.login(role)
    assert console.client.get("/settings/sending").status_code == 403


def test_the_provider_form_sets_its_own_window(app, console):
    with app.test_request_context():
        provider_services.ensure_sandbox_provider()
        db.session.commit()
        provider_id = db.session.scalar(sa.select(Provider.id).where(Provider.code == "sandbox"))
    console.login(Role.ADMIN)
    form = {"name": "Sandbox", "enabled": "y", "duplicate_window": "61"}
    response = console.post(f"/providers/{provider_id}/edit", data=form)
    assert response.status_code == 422 and b"Enter 0 (off) to 60 minutes." in response.data
    response = console.post(
        f"/providers/{provider_id}/edit", data={**form, "duplicate_window": "20"}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Provider, provider_id).duplicate_window_minutes == 20
    console.post(f"/providers/{provider_id}/edit", data={**form, "duplicate_window": ""})
    with app.app_context():
        assert db.session.get(Provider, provider_id).duplicate_window_minutes is None


def test_the_send_form_says_why_a_duplicate_was_not_sent(app, console):
    sandbox_clear()
    with app.test_request_context():
        provider_services.ensure_sandbox_provider()
        db.session.commit()
    _set_global(app, 10)
    console.login(Role.OPERATOR)
    form = {"to": "010-1234-5678", "type": "", "subject": "", "text": TEXT}
    form.update(sender="", provider="")
    assert console.post("/send", data=form).status_code == 303
    response = console.post("/send", data=form)
    assert response.status_code == 422
    assert b"the same text within the duplicate-send window" in response.data
    assert [log.error_code for log in _logs(app)] == [None, "duplicate_message"]
    sandbox_clear()


def test_the_cli_shows_and_sets_the_windows(app):
    with app.test_request_context():
        provider_services.ensure_sandbox_provider()
        db.session.commit()
    runner = app.test_cli_runner()
    shown = runner.invoke(args=["sending-rules", "duplicate-window"])
    assert shown.exit_code == 0 and "console-wide: 0 min" in shown.output
    assert runner.invoke(args=["sending-rules", "duplicate-window", "61"]).exit_code == 2
    assert runner.invoke(args=["sending-rules", "duplicate-window", "10"]).exit_code == 0
    result = runner.invoke(args=["sending-rules", "duplicate-window", "3", "--provider", "sandbox"])
    assert result.exit_code == 0 and "sandbox: 3 min (0: off); in force: 3 min" in result.output
    result = runner.invoke(
        args=["sending-rules", "duplicate-window", "--provider", "sandbox", "--use-global"]
    )
    assert "sandbox: the console-wide window; in force: 10 min" in result.output
    missing = runner.invoke(args=["sending-rules", "duplicate-window", "--provider", "nope"])
    assert missing.exit_code != 0 and "no provider 'nope'" in missing.output
    with app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.actor_label == "cli").order_by(AuditEvent.id)
        ).all()
        assert [e.action for e in events] == [
            "setting.update",
            "provider.update",
            "provider.update",
        ]
