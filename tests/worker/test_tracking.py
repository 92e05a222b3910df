"""Delivery tracking against the simulators, with a hand-moved clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.sending.models import MessageLog
from kmsg_console.worker import display, tracking
from tests.worker.conftest import alimtalk, load, round_, send


def _status_requests(simulator, vendor="solapi", path="/messages/v4/list"):
    return simulator.control.requests(vendor, path)


def test_solapi_message_walks_to_delivered(app, simulator, route, clock):
    route("solapi")
    message = send(app)
    log = load(app, message)
    assert log.status == "SENT"
    assert log.next_check_at == pytest.approx(
        log.sent_at + timedelta(seconds=30), abs=timedelta(seconds=1)
    )
    vendor_id = log.provider_message_id

    clock.to(log.sent_at + timedelta(seconds=10))
    assert round_(app).get("checked", 0) == 0  # not due before 30 s

    clock.to(log.next_check_at)
    assert round_(app)["checked"] == 1  # SOLAPI 2000: still waiting
    log = load(app, message)
    assert (log.status, log.check_count) == ("SENT", 1)
    assert log.next_check_at == clock.now + timedelta(seconds=30)

    simulator.control.set_status("solapi", vendor_id, "delivered")
    clock.advance(seconds=30)
    round_(app)
    log = load(app, message)
    assert log.status == "DELIVERED"
    assert log.delivered_at is not None and log.next_check_at is None
    assert log.check_count == 2
    assert [e.status for e in log.events][-1] == "DELIVERED"
    assert len(_status_requests(simulator)) == 2


@pytest.mark.parametrize("code", ["3104", "3059", "1062", "2130"])
def test_solapi_failure_codes_are_failed_with_their_code(app, simulator, route, clock, code):
    route("solapi")
    message = send(app)
    simulator.control.set_status("solapi", load(app, message).provider_message_id, statusCode=code)
    clock.advance(seconds=31)
    round_(app)
    log = load(app, message)
    assert log.status == "FAILED"
    assert (log.vendor_code, log.error_code) == (code, "MESSAGE_SEND_FAILED")
    assert log.failed_at is not None and log.next_check_at is None and not log.retryable


@pytest.mark.parametrize(("code", "status"), [("2000", "PENDING"), ("3000", "SENT")])
def test_solapi_pending_and_sent_resolve_an_unknown_send(
    app, simulator, route, clock, code, status
):
    route("solapi")
    message = send(app)
    with app.app_context():  # as if the answer had been lost after the vendor took it
        db.session.execute(
            sa.update(MessageLog).where(MessageLog.public_id == message).values(status="UNKNOWN")
        )
        db.session.commit()
    simulator.control.set_status("solapi", load(app, message).provider_message_id, statusCode=code)
    clock.advance(seconds=31)
    round_(app)
    log = load(app, message)
    assert log.status == status and log.next_check_at is not None
    simulator.control.set_status("solapi", log.provider_message_id, "delivered")
    clock.to(log.next_check_at)
    round_(app)
    assert load(app, message).status == "DELIVERED"


def test_never_resolved_backs_off_then_becomes_unknown_at_24_hours(app, simulator, route, clock):
    route("solapi")
    message = send(app)
    log = load(app, message)
    sent = log.sent_at
    gaps, previous = [], sent
    while log.next_check_at is not None:
        gaps.append(log.next_check_at - previous)
        previous = clock.to(log.next_check_at)
        round_(app)
        log = load(app, message)
    assert gaps[:6] == [
        timedelta(seconds=30),
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=10),
        timedelta(minutes=30),
        timedelta(hours=2),
    ]
    assert all(gap <= timedelta(hours=2) for gap in gaps)
    assert previous == sent + timedelta(hours=24)  # the last check lands on the deadline
    assert (log.status, log.tracking_note) == ("UNKNOWN", tracking.TIMEOUT)
    assert log.check_count == len(gaps) == len(_status_requests(simulator))
    with app.app_context():
        assert display.tracking_state(log) == "timeout"


def test_scheduled_send_is_checked_after_its_time_plus_grace(app, simulator, route, clock):
    route("solapi")
    at = (clock.now + timedelta(hours=1)).replace(microsecond=0)
    message = send(app, scheduled_at=at)
    log = load(app, message)
    assert log.next_check_at == at + timedelta(minutes=2)
    clock.to(at + timedelta(minutes=1))
    round_(app)
    assert load(app, message).check_count == 0
    clock.to(at + timedelta(minutes=2, seconds=1))
    round_(app)
    assert load(app, message).check_count == 1
    with app.app_context():
        assert tracking.tracking_deadline(load(app, message)) == at + timedelta(minutes=2, hours=24)


def test_iwinv_alimtalk_history_delivered_and_sms_history_failed(app, simulator, route, clock):
    route("iwinv")
    talk = alimtalk(app, fallback=False)
    sms = send(app)
    simulator.control.set_status("iwinv_alimtalk", load(app, talk).provider_message_id, "delivered")
    simulator.control.set_status("iwinv_sms", load(app, sms).provider_message_id, "failed")
    clock.advance(seconds=31)
    assert round_(app)["checked"] == 2
    talk_log, sms_log = load(app, talk), load(app, sms)
    assert talk_log.status == "DELIVERED"
    assert sms_log.status == "FAILED" and sms_log.vendor_code
    assert simulator.control.requests("iwinv_alimtalk", "/api/history/")
    assert simulator.control.requests("iwinv_sms", "/api/history/")


def test_aligo_has_no_status_api_and_is_marked_sent_untracked(app, simulator, route, clock):
    route("aligo")
    message = send(app)
    assert load(app, message).status == "PENDING"
    before = len(simulator.control.requests("aligo_sms"))
    clock.advance(seconds=31)
    assert round_(app)["unsupported"] == 1
    log = load(app, message)
    assert (log.status, log.tracking_note, log.next_check_at) == (
        "SENT",
        tracking.UNSUPPORTED,
        None,
    )
    assert len(simulator.control.requests("aligo_sms")) == before  # nothing was asked
    clock.advance(hours=25)
    round_(app)
    assert load(app, message).status == "SENT"  # not turned UNKNOWN later either
    with app.app_context():
        assert display.tracking_state(log) == "unsupported"


def test_unknown_send_without_vendor_id_is_settled_not_polled(app, simulator, route, clock):
    route("solapi")
    simulator.control.inject("solapi", "reset", path="/messages/v4/send-many/detail", process=True)
    message = send(app)
    assert load(app, message).status == "UNKNOWN"
    clock.advance(seconds=31)
    round_(app)
    log = load(app, message)
    assert (log.status, log.tracking_note, log.next_check_at) == (
        "UNKNOWN",
        tracking.NO_VENDOR_ID,
        None,
    )
    assert _status_requests(simulator) == []


def test_sandbox_message_is_delivered_from_the_database(app, simulator, route, clock):
    route("sandbox")
    message = send(app)
    clock.advance(seconds=31)
    round_(app)
    assert load(app, message).status == "DELIVERED"


def test_status_query_errors_back_off_and_a_5xx_is_retried(app, simulator, route, clock):
    route("solapi")
    message = send(app)
    simulator.control.inject("solapi", "status_5xx", path="/messages/v4/list", status=500)
    clock.advance(seconds=31)
    round_(app)
    log = load(app, message)
    assert log.status == "SENT" and log.tracking_note == "PROVIDER_ERROR"
    simulator.control.set_status("solapi", log.provider_message_id, "delivered")
    clock.to(log.next_check_at)
    round_(app)
    assert load(app, message).status == "DELIVERED"


def test_two_claims_never_share_a_row(app, simulator, route, clock):
    route("sandbox")
    ids = [send(app) for _ in range(5)]
    clock.advance(seconds=31)
    with app.app_context():
        first = tracking.claim_due(3, clock.now)
        second = tracking.claim_due(10, clock.now)
        third = tracking.claim_due(10, clock.now)
    assert len(first) == 3 and len(second) == 2 and third == []
    assert not set(first) & set(second)
    assert len(ids) == 5
