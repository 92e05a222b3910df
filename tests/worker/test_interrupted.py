"""Sends abandoned by a process that died: settled truthfully once older than any send."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.orm import utcnow
from kmsg_console.sending.models import MessageLog
from kmsg_console.worker import interrupted, jobs
from tests.send_logs.conftest import add_log  # noqa: F401  (fixture)

STALE = interrupted.STALE_AFTER + timedelta(minutes=1)


def _row(app, public_id):
    with app.app_context():
        log = db.session.scalar(sa.select(MessageLog).where(MessageLog.public_id == public_id))
        log.attempts, log.events  # noqa: B018  (load before leaving the session)
        db.session.expunge_all()
        return log


def _settle(app, now=None):
    with app.app_context():
        return interrupted.settle(now or utcnow())


def test_an_attempt_left_in_flight_becomes_unknown_and_is_never_resent(app, add_log):
    old = utcnow() - STALE
    message = add_log(
        status="UNKNOWN",
        created_at=old,
        provider_code="solapi-main",
        attempts=[
            {"outcome": "in_flight", "started_at": old, "finished_at": None, "latency_ms": None}
        ],
    )
    assert _settle(app) == {"interrupted": 1, "accepted": 0, "never_sent": 0, "unknown": 0}
    log = _row(app, message)
    assert (log.status, log.tracking_note, log.error_code, log.retryable) == (
        "UNKNOWN",
        interrupted.INTERRUPTED,
        "REQUEST_ABORTED",
        False,
    )
    assert log.next_check_at is None  # nothing to look up: the vendor gave no id
    assert (log.attempts[0].outcome, log.attempts[0].error_code) == ("unknown", "REQUEST_ABORTED")
    assert "solapi-main" in log.events[-1].detail
    assert _settle(app)["interrupted"] == 0  # settled once
    assert len(_row(app, message).events) == len(log.events)


def test_a_message_that_never_reached_a_provider_is_failed_and_retryable(app, add_log):
    plain = add_log(
        status="UNKNOWN", created_at=utcnow() - STALE, payload_enc="(encrypted payload)"
    )
    otp = add_log(status="UNKNOWN", created_at=utcnow() - STALE, body_redacted=True)
    assert _settle(app)["never_sent"] == 2
    plain_log, otp_log = _row(app, plain), _row(app, otp)
    assert (plain_log.status, plain_log.error_code, plain_log.retryable) == (
        "FAILED",
        "REQUEST_ABORTED",
        True,
    )
    assert plain_log.failed_at is not None and plain_log.events[-1].status == "FAILED"
    assert (otp_log.status, otp_log.retryable) == ("FAILED", False)  # its code is not kept


def test_a_refused_attempt_before_a_failover_that_never_happened_is_failed(app, add_log):
    old = utcnow() - STALE
    message = add_log(
        status="UNKNOWN",
        created_at=old,
        payload_enc="x",
        attempts=[{"outcome": "failed", "error_code": "NETWORK_ERROR", "started_at": old}],
    )
    assert _settle(app)["never_sent"] == 1
    log = _row(app, message)
    assert (log.status, log.error_code) == ("FAILED", "NETWORK_ERROR")


def test_an_accepted_attempt_without_its_final_status_becomes_sent_and_tracked(app, add_log):
    old = utcnow() - STALE
    message = add_log(
        status="UNKNOWN",
        created_at=old,
        provider_code="solapi-main",
        attempts=[{"outcome": "accepted", "provider_message_id": "M4V2", "started_at": old}],
    )
    assert _settle(app)["accepted"] == 1
    log = _row(app, message)
    assert (log.status, log.provider_message_id) == ("SENT", "M4V2")
    assert log.next_check_at is not None and log.sent_at is not None  # status polling takes over


def test_young_rows_and_rows_already_tracked_are_left_alone(app, add_log):
    now = utcnow()
    young = add_log(status="UNKNOWN", created_at=now - timedelta(minutes=3))
    recent_retry = add_log(
        status="UNKNOWN",
        created_at=now - STALE,
        attempts=[{"outcome": "in_flight", "started_at": now - timedelta(minutes=1)}],
    )
    polled = add_log(
        status="UNKNOWN", created_at=now - STALE, next_check_at=now + timedelta(minutes=1)
    )
    given_up = add_log(status="UNKNOWN", created_at=now - STALE, tracking_note="TRACKING_TIMEOUT")
    sent = add_log(status="SENT", created_at=now - STALE)
    assert sum(_settle(app).values()) == 0
    for public_id in (young, recent_retry, polled, given_up):
        assert _row(app, public_id).status == "UNKNOWN"
    assert _row(app, recent_retry).attempts[0].outcome == "in_flight"
    assert _row(app, sent).status == "SENT"


def test_the_worker_runs_it_as_a_job_and_the_console_explains_it(app, console, add_log):
    old = utcnow() - STALE
    message = add_log(
        status="UNKNOWN", created_at=old, attempts=[{"outcome": "in_flight", "started_at": old}]
    )
    with app.app_context():
        jobs.run_once(app, names=("interrupted_sends",))
    assert _row(app, message).tracking_note == interrupted.INTERRUPTED
    console.login(Role.VIEWER)
    page = console.client.get(f"/send-logs/{message}").get_data(as_text=True)
    assert "The sending process stopped during the send" in page
