"""Retrying a failed message: a new attempt through current routing, audited, and never twice at once."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from kmsg_console import sending
from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.providers.adapters.sandbox import sandbox_outbox
from kmsg_console.send_logs import services
from kmsg_console.sending.models import MessageLog
from tests.conftest import csrf_token_for


def _failed_message(sandbox, *steps: str) -> str:
    sandbox.script("fail:PROVIDER_ERROR", *steps)
    public_id = sandbox.send()
    log = sandbox.log(public_id)
    assert log.status == "FAILED" and log.retryable
    return public_id


def test_operator_retries_a_failed_message(app, console, sandbox):
    public_id = _failed_message(sandbox)
    email = console.login(Role.OPERATOR)
    response = console.post(f"/send-logs/{public_id}/retry")
    assert response.status_code == 303 and response.headers["Location"] == f"/send-logs/{public_id}"
    log = sandbox.log(public_id)
    assert log.status == "SENT" and not log.retryable
    assert [(a.number, a.trigger, a.outcome) for a in log.attempts] == [
        (1, "initial", "failed"),
        (2, "retry", "accepted"),
    ]
    assert len(sandbox_outbox("sandbox")) == 1
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "message.retry"))
        assert event.actor_label == email and event.target_id == public_id
    page = console.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Retried. The message is now: Sent." in page


def test_a_failed_retry_stays_retryable(console, sandbox):
    public_id = _failed_message(sandbox, "fail:NETWORK_ERROR")
    console.login(Role.OPERATOR)
    console.post(f"/send-logs/{public_id}/retry")
    log = sandbox.log(public_id)
    assert log.status == "FAILED" and log.error_code == "NETWORK_ERROR" and log.retryable
    assert log.attempt_count == 2
    assert "Retried. The message is now: Failed." in console.client.get(
        f"/send-logs/{public_id}"
    ).get_data(as_text=True)


def test_non_retryable_failures_are_refused_without_a_send(console, sandbox):
    sandbox.script("fail:INVALID_REQUEST")
    public_id = sandbox.send()
    console.login(Role.OPERATOR)
    response = console.post(f"/send-logs/{public_id}/retry")
    assert response.status_code == 303
    log = sandbox.log(public_id)
    assert log.attempt_count == 1 and log.status == "FAILED"
    assert "cannot be retried" in console.client.get(f"/send-logs/{public_id}").get_data(
        as_text=True
    )


def test_viewer_cannot_retry_and_csrf_is_required(console, sandbox):
    public_id = _failed_message(sandbox)
    console.login(Role.VIEWER)
    assert console.post(f"/send-logs/{public_id}/retry").status_code == 403
    operator = console.app.test_client()
    console.client = operator
    console.login(Role.OPERATOR)
    assert operator.post(f"/send-logs/{public_id}/retry", data={}).status_code == 400
    assert sandbox.log(public_id).attempt_count == 1


def test_two_simultaneous_retries_send_once(app, console, sandbox):
    # The retry's send takes 400 ms, so both requests are in flight at the same time.
    public_id = _failed_message(sandbox, "delay:400")
    clients = []
    for _ in range(2):
        console.client = app.test_client()
        console.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        console.login(Role.OPERATOR)
        clients.append((console.client, csrf_token_for(app, console.client)))
    barrier = threading.Barrier(2, timeout=60)
    answers = []

    def click(client, token):
        barrier.wait()
        answers.append(
            client.post(f"/send-logs/{public_id}/retry", data={"csrf_token": token}).status_code
        )

    threads = [threading.Thread(target=click, args=pair) for pair in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert answers == [303, 303]
    log = sandbox.log(public_id)
    assert log.attempt_count == 2, [(a.number, a.trigger) for a in log.attempts]
    assert log.status == "SENT"
    assert len(sandbox_outbox("sandbox")) == 1  # the message reached the "handset" once
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "message.retry")
            )
            == 1
        )


def test_the_claim_is_released_when_the_retry_stops_before_any_provider_call(
    app, sandbox, monkeypatch
):
    public_id = _failed_message(sandbox)

    def broken(_log):
        raise RuntimeError("payload unreadable")

    monkeypatch.setattr(sending.engine, "rebuild_message", broken)
    with app.test_request_context():
        log = services.get_log_or_404(public_id)
        with pytest.raises(RuntimeError):
            services.retry_message(log, operator=None)
    log = sandbox.log(public_id)
    assert log.retryable and log.status == "FAILED" and log.attempt_count == 1


def test_the_claim_is_kept_once_a_provider_was_called(app, sandbox, monkeypatch):
    public_id = _failed_message(sandbox)
    original = sending.engine._write_answer

    def crash_after_call(*args, **kwargs):
        original(*args, **kwargs)
        raise RuntimeError("crashed after the provider answered")

    monkeypatch.setattr(sending.engine, "_write_answer", crash_after_call)
    with app.test_request_context():
        log = services.get_log_or_404(public_id)
        with pytest.raises(RuntimeError):
            services.retry_message(log, operator=None)
    with app.app_context():
        stored = db.session.scalar(sa.select(MessageLog).where(MessageLog.public_id == public_id))
        assert stored.attempt_count == 2 and stored.retryable is False  # no second automatic chance
