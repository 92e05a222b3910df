"""Refusals an operator fixes at the provider account (balance, credentials): retry afterwards.

The explanation says "recharge it, then retry", so the page offers the retry: the vendor
refused the message, nothing was sent, and a retry after the fix cannot duplicate it.
"""

from __future__ import annotations

import sqlalchemy as sa

from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.sending.models import MessageLog
from tests.worker.conftest import PHONE, route, send  # noqa: F401 - route is a fixture


def _sms_sends(simulator) -> int:
    return len(simulator.control.requests("solapi", "/messages/v4/send-many/detail"))


def test_an_empty_solapi_balance_is_retried_by_an_operator_after_topping_up(
    app, console, simulator, route
):
    route("solapi")
    simulator.control.set_balance("solapi", 0)
    message = send(app, to=PHONE)
    with app.app_context():
        log = db.session.scalar(sa.select(MessageLog).where(MessageLog.public_id == message))
        assert (log.status, log.error_code, log.vendor_code) == (
            "FAILED",
            "INSUFFICIENT_BALANCE",
            "1030",
        )
        assert log.retryable
    console.login(Role.OPERATOR)
    page = console.client.get(f"/send-logs/{message}").get_data(as_text=True)
    assert "Recharge it, then retry." in page
    assert f'action="/send-logs/{message}/retry"' in page

    simulator.control.set_balance("solapi", 100_000)
    response = console.post(f"/send-logs/{message}/retry")
    assert response.status_code == 303
    with app.app_context():
        log = db.session.scalar(sa.select(MessageLog).where(MessageLog.public_id == message))
        assert (log.status, log.attempt_count, log.retryable) == ("SENT", 2, False)
        audit = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "message.retry"))
        assert audit.target_id == message
    assert _sms_sends(simulator) == 2  # the refused request and the retry, nothing more


def test_a_rejected_api_key_is_retryable_once_the_settings_are_fixed(app, console, sandbox):
    sandbox.script("fail:AUTHENTICATION_FAILED")
    message = sandbox.send()
    log = sandbox.log(message)
    assert (log.status, log.error_code, log.retryable) == ("FAILED", "AUTHENTICATION_FAILED", True)
    console.login(Role.OPERATOR)
    page = console.client.get(f"/send-logs/{message}").get_data(as_text=True)
    assert "Check the provider settings, then retry." in page
    assert f'action="/send-logs/{message}/retry"' in page


def test_the_api_reports_a_balance_refusal_as_retryable(app, sandbox):
    sandbox.script("fail:INSUFFICIENT_BALANCE:1030")
    message = sandbox.send()
    with app.test_request_context():
        from kmsg_console.api.views import message_json

        log = db.session.scalar(sa.select(MessageLog).where(MessageLog.public_id == message))
        error = message_json(log)["error"]
    assert error["code"] == "INSUFFICIENT_BALANCE" and error["retryable"] is True


def test_an_otp_refused_for_balance_is_still_not_retried(app, sandbox):
    sandbox.script("fail:INSUFFICIENT_BALANCE")
    message = sandbox.send(text="[샵] 인증번호 123456", sensitive_values=["123456"])
    log = sandbox.log(message)
    assert (log.error_code, log.body_redacted, log.retryable) == (
        "INSUFFICIENT_BALANCE",
        True,
        False,
    )
