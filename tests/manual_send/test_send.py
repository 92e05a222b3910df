"""Sending from the console: send engine, log row, audit, outcome flash, roles and CSRF."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.providers.adapters.sandbox import sandbox_outbox, script_sandbox
from tests.conftest import csrf_token_for
from tests.manual_send.conftest import flashes, message_logs

TEXT = "[kmsg] 배송이 시작되었습니다."


def _form(**overrides):
    data = {
        "to": "010-1234-5678",
        "type": "",
        "subject": "",
        "text": TEXT,
        "sender": "",
        "provider": "",
    }
    data.update(overrides)
    return data


def _audit_events(app, action="message.send"):
    with app.app_context():
        events = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))
        db.session.expunge_all()
        return events


def test_send_goes_through_the_sandbox_and_logs_a_console_message(app, console, sandbox, operator):
    response = console.post("/send", data=_form())
    [log] = message_logs(app)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/send-logs/{log.public_id}"
    assert log.source == "console"
    assert log.operator_id == operator
    assert log.status == "SENT"
    assert log.type == "SMS"
    assert log.provider_code == "sandbox"
    assert log.to_masked == "010-****-5678"
    [delivery] = sandbox_outbox("sandbox")
    assert delivery.text == TEXT and delivery.to == "01012345678"
    assert flashes(console.client) == [("success", "Message sent through sandbox.")]


def test_a_long_text_is_sent_as_lms_with_its_subject(app, console, sandbox, operator):
    console.post("/send", data=_form(text="가" * 46, subject="공지"))
    [log] = message_logs(app)
    assert (log.type, log.requested_type, log.subject, log.byte_count) == ("LMS", None, "공지", 92)


def test_send_is_audited_without_the_number_or_the_text(app, console, sandbox, operator):
    console.post("/send", data=_form())
    [log] = message_logs(app)
    [event] = _audit_events(app)
    assert event.actor_id == operator
    assert (event.target_type, event.target_id, event.outcome) == (
        "message",
        log.public_id,
        "success",
    )
    assert event.details == {
        "type": "SMS",
        "to": "010-****-5678",
        "provider": "sandbox",
        "status": "SENT",
    }
    stored = json.dumps(event.details, ensure_ascii=False)
    assert "01012345678" not in stored and "1234-5678" not in stored and "배송" not in stored


def test_a_scripted_failure_is_logged_flashed_and_audited(app, console, sandbox, operator):
    script_sandbox("sandbox", ["fail:INSUFFICIENT_BALANCE:519:200"])
    response = console.post("/send", data=_form())
    [log] = message_logs(app)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/send-logs/{log.public_id}"
    assert (log.status, log.error_code, log.vendor_code) == (
        "FAILED",
        "INSUFFICIENT_BALANCE",
        "519",
    )
    assert flashes(console.client) == [
        ("error", "Sending failed through sandbox: Insufficient balance.")
    ]
    [event] = _audit_events(app)
    assert event.outcome == "failure" and event.details["status"] == "FAILED"
    assert sandbox_outbox("sandbox") == []


def test_a_timeout_is_reported_as_an_unknown_outcome(app, console, sandbox, operator):
    script_sandbox("sandbox", ["timeout"])
    console.post("/send", data=_form())
    [log] = message_logs(app)
    assert log.status == "UNKNOWN"
    [(category, message)] = flashes(console.client)
    assert category == "warning"
    assert message.startswith(
        "Outcome unknown: sandbox did not confirm the message (No answer in time)."
    )


def test_the_outcome_names_the_error_in_korean(app, console, sandbox, operator):
    script_sandbox("sandbox", ["fail:INSUFFICIENT_BALANCE"])
    console.post("/send", data=_form(), headers={"Accept-Language": "ko"})
    [(category, message)] = flashes(console.client)
    assert category == "error" and message == "sandbox 발송 실패: 잔액 부족."


def test_htmx_send_answers_with_hx_redirect(app, console, sandbox, operator):
    response = console.htmx_post("/send", data=_form())
    [log] = message_logs(app)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/send-logs/{log.public_id}"


def test_a_refused_send_re_renders_the_form_and_sends_nothing(app, console, sandbox, operator):
    response = console.post("/send", data=_form(to="02-123-4567", text="남길 본문"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Messages can only be sent to mobile numbers" in html
    assert "남길 본문</textarea>" in html and 'value="02-123-4567"' in html
    assert message_logs(app) == [] and sandbox_outbox() == [] and _audit_events(app) == []


def test_the_sent_message_can_be_opened_from_the_redirect(app, console, sandbox, operator):
    response = console.post("/send", data=_form(), follow_redirects=True)
    assert response.status_code == 200
    assert "Message sent through sandbox." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/send"), ("POST", "/send/preview"), ("POST", "/send/edit"), ("POST", "/send")],
)
def test_viewers_cannot_send(app, console, sandbox, method, path):
    console.login(Role.VIEWER)
    data = dict(_form(), csrf_token=csrf_token_for(app, console.client))
    response = console.client.open(path, method=method, data=data if method == "POST" else None)
    assert response.status_code == 403
    assert message_logs(app) == []


def test_send_without_csrf_token_is_refused(app, console, sandbox, operator):
    response = console.client.post("/send", data=_form())
    assert response.status_code == 400
    assert message_logs(app) == [] and sandbox_outbox() == []


def test_the_navigation_links_to_the_send_page(console, operator):
    html = console.client.get("/").get_data(as_text=True)
    assert 'href="/send"' in html
