"""Delivery: retries with growing gaps, giving up after 24 hours, surviving a dead worker, and
nothing from a rolled-back change."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import sqlalchemy as sa

from kmsg_console.events import delivery, outbox, services
from kmsg_console.events.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from kmsg_console.events.types import EventType
from kmsg_console.extensions import db, dispose_engines
from kmsg_console.otp import services as otp
from kmsg_console.providers import services as provider_services
from kmsg_console.worker import jobs
from tests.conftest import make_app
from tests.events.conftest import add_endpoint, deliveries, run_deliveries, verify
from tests.events.conftest import outbox as outbox_rows
from tests.send_logs.conftest import add_log  # noqa: F401  (fixture)
from tests.worker.conftest import route  # noqa: F401  (fixture)

ACTOR = SimpleNamespace(id=None, email="admin@example.com")


def _emit(app) -> str:
    """One event as the providers' health check writes it (a real feature's change): the
    sandbox, last seen failing, is found healthy again."""
    with app.test_request_context():
        provider = provider_services.ensure_sandbox_provider()
        provider.health_ok = False
        db.session.commit()
        provider_services.test_connection(provider, actor=ACTOR)  # the sandbox is healthy
        db.session.commit()
    return outbox_rows(app, EventType.PROVIDER_RECOVERED.value)[-1].public_id


def test_a_receiver_failing_three_times_gets_the_event_four_times_with_growing_gaps(
    app, receiver, delivery_clock
):
    _endpoint, secret = add_endpoint(app, receiver.url)
    receiver.answers.extend([500, 500, 500])  # then 200
    event_id = _emit(app)
    start = delivery_clock.now
    for _ in range(4):
        run_deliveries(app, rounds=1)
        [row] = deliveries(app)
        if row.next_attempt_at is None:
            break
        # Nothing is sent before the retry is due.
        delivery_clock.to(row.next_attempt_at - timedelta(seconds=1))
        assert run_deliveries(app, rounds=1).get("retry", 0) == 0
        delivery_clock.to(row.next_attempt_at)
    [row] = deliveries(app)
    assert row.status == "delivered" and row.attempts == 4
    assert [a.status_code for a in row.attempt_log] == [500, 500, 500, 200]
    times = [start] + [a.at for a in row.attempt_log]
    gaps = [b - a for a, b in zip(times[1:], times[2:], strict=False)]
    assert len(gaps) == 3 and gaps[0] < gaps[1] < gaps[2], gaps
    assert gaps[0] >= timedelta(seconds=24)  # 30 s minus the jitter at most
    assert len(receiver.requests) == 4
    assert {r.headers["X-Webhook-Id"] for r in receiver.requests} == {event_id}
    assert all(verify(secret, r) for r in receiver.requests)
    # The answer was read to a limit, and its start is kept for the log.
    assert row.response_excerpt.startswith('{"ok": true') and len(row.response_excerpt) <= 500


def test_backoff_grows_until_its_cap_whatever_the_jitter(monkeypatch):
    for factor in (0.8, 1.2):
        monkeypatch.setattr(delivery, "jitter", lambda f=factor: f)
        waits = [delivery.backoff(n) for n in range(1, 9)]
        assert waits[0] == timedelta(seconds=30) * factor
        assert waits[-1] == timedelta(hours=1) * factor
    monkeypatch.setattr(delivery, "jitter", lambda: 1.2)
    early = delivery.backoff(3)
    monkeypatch.setattr(delivery, "jitter", lambda: 0.8)
    assert delivery.backoff(4) > early


def test_after_24_hours_of_failures_the_endpoint_is_marked_failing_until_a_success(
    app, receiver, delivery_clock
):
    endpoint_id, _secret = add_endpoint(app, receiver.url)
    receiver.answers.extend([503] * 100)
    _emit(app)
    start = delivery_clock.now
    for _ in range(100):
        run_deliveries(app, rounds=1)
        [row] = deliveries(app)
        if row.next_attempt_at is None:
            break
        delivery_clock.to(row.next_attempt_at)
    assert row.status == "failed"
    assert row.last_attempt_at - start <= timedelta(hours=24)
    assert row.attempts == len(receiver.requests) > 5
    with app.app_context():
        endpoint = services.find_endpoint(endpoint_id)
        assert endpoint.failing and services.failing_count() == 1
    # The list shows it to admins; a later successful delivery clears it.
    receiver.answers.clear()
    _emit(app)
    run_deliveries(app, rounds=1)
    with app.app_context():
        assert not services.find_endpoint(endpoint_id).failing


def test_a_worker_killed_between_the_change_and_the_delivery_delivers_after_restart(
    app, receiver, database_url, instance_dir
):
    add_endpoint(app, receiver.url)
    event_id = _emit(app)  # the change and its outbox row are committed; no worker ran
    with app.app_context():
        dispose_engines()
    # A worker that claimed the delivery and died before posting it.
    with app.app_context():
        delivery.fan_out(delivery.clock())
        assert delivery._claim(delivery.clock())  # noqa: SLF001 - the claim, then "death"
        db.session.remove()
    assert receiver.requests == []
    # A new process: a fresh app and worker on the same database.
    restarted = make_app(database_url, instance_dir, WEBHOOK_ALLOW_PRIVATE=True)
    assert jobs.run_once(restarted, names=("webhook_delivery",)) == {"webhook_delivery": "ok"}
    assert receiver.requests == []  # the dead worker's claim holds for its lease
    later = delivery.clock() + delivery.CLAIM_LEASE + timedelta(seconds=1)
    original = delivery.clock
    delivery.clock = lambda: later
    try:
        jobs.run_once(restarted, names=("webhook_delivery",))
    finally:
        delivery.clock = original
        with restarted.app_context():
            dispose_engines()
    assert [r.headers["X-Webhook-Id"] for r in receiver.requests] == [event_id]


def test_an_outbox_event_not_yet_fanned_out_survives_a_restart(
    app, receiver, database_url, instance_dir
):
    add_endpoint(app, receiver.url)
    event_id = _emit(app)
    with app.app_context():
        dispose_engines()
    restarted = make_app(database_url, instance_dir, WEBHOOK_ALLOW_PRIVATE=True)
    jobs.run_once(restarted, names=("webhook_delivery",))
    with restarted.app_context():
        dispose_engines()
    assert [r.headers["X-Webhook-Id"] for r in receiver.requests] == [event_id]


def test_a_change_rolled_back_emits_nothing(app, receiver, route):
    add_endpoint(app, receiver.url)
    with app.test_request_context():
        provider = provider_services.ensure_sandbox_provider()
        otp.ensure_default_purposes()
        db.session.commit()
        verification = otp.start(phone="01077778888", purpose_code="login")
        started = len(outbox_rows(app))
        assert started >= 1  # verification.started (and message.sent) were committed
        # A health check whose transaction is rolled back: no provider.* event.
        provider.health_ok = False
        db.session.commit()
        provider_services.test_connection(provider, actor=ACTOR)
        db.session.rollback()
        # A cancellation rolled back: no verification.canceled.
        assert otp._transition(verification, otp.VerificationStatus.CANCELED)  # noqa: SLF001
        db.session.add(otp._outbox_event(otp._CANCELED, verification))  # noqa: SLF001
        db.session.rollback()
    assert len(outbox_rows(app)) == started
    assert outbox_rows(app, "verification.canceled") == []
    assert outbox_rows(app, "provider.recovered") == []
    run_deliveries(app)
    assert {r.event["type"] for r in receiver.requests} <= {"verification.started", "message.sent"}


def test_a_send_whose_first_write_fails_emits_nothing(app, receiver, route):
    from kmsg_console import sending
    from kmsg_console.sending.models import MessageSource

    route("sandbox")
    add_endpoint(app, receiver.url)
    with app.test_request_context():
        sending.send(
            sending.SendRequest(to="01012345678", text="안녕하세요"),
            source=MessageSource.API,
            message_id="11111111-1111-4111-8111-111111111111",
        )
        before = len(outbox_rows(app))
        try:
            # The same message id again: the unique index refuses the first write.
            sending.send(
                sending.SendRequest(to="01012345678", text="안녕하세요"),
                source=MessageSource.API,
                message_id="11111111-1111-4111-8111-111111111111",
            )
        except sa.exc.IntegrityError:
            db.session.rollback()
        else:
            raise AssertionError("expected the unique index to refuse the second row")
    assert len(outbox_rows(app)) == before == 1


def test_disabled_endpoints_get_nothing_and_unsubscribed_types_are_not_sent(app, receiver):
    add_endpoint(app, receiver.url, types=["message.delivered"])
    disabled_id, _ = add_endpoint(app, receiver.url, enabled=False)
    _emit(app)
    run_deliveries(app)
    assert receiver.requests == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 0
        assert services.find_endpoint(disabled_id).enabled is False
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint)) == 2


def test_rotation_signs_with_both_secrets_for_the_grace_period(app, receiver, delivery_clock):
    endpoint_id, old = add_endpoint(app, receiver.url)
    with app.test_request_context():
        new = services.rotate_secret(services.find_endpoint(endpoint_id), actor=ACTOR)
        db.session.commit()
    _emit(app)
    run_deliveries(app)
    [first] = receiver.requests
    signatures = first.headers["X-Webhook-Signature"].split(",")
    assert len(signatures) == 2 and all(s.startswith("sha256=") for s in signatures)
    assert verify(new, first) and verify(old, first)
    delivery_clock.advance(hours=24, seconds=1)
    _emit(app)
    run_deliveries(app)
    second = receiver.requests[1]
    assert verify(new, second) and not verify(old, second)
    assert "," not in second.headers["X-Webhook-Signature"]


def test_events_never_carry_a_code_or_a_full_number(app):
    with app.app_context():
        verification = SimpleNamespace(
            public_id="v1",
            channel="sms",
            phone_masked="010-****-5678",
            message_public_id="m1",
            expires_at=None,
        )
        event = outbox.verification_event(EventType.VERIFICATION_STARTED, verification)
        assert set(event.data) == {
            "verification_id",
            "status",
            "purpose",
            "channel",
            "to",
            "message_id",
            "expires_at",
        }


def test_a_send_abandoned_by_a_dead_process_announces_its_settled_status(app, add_log):
    from kmsg_console.orm import utcnow
    from kmsg_console.worker import interrupted

    old = utcnow() - interrupted.STALE_AFTER - timedelta(minutes=1)
    never_sent = add_log(status="UNKNOWN", created_at=old, payload_enc="(encrypted)")
    with app.app_context():
        assert interrupted.settle(utcnow())["never_sent"] == 1
        assert interrupted.settle(utcnow())["never_sent"] == 0  # settled, and announced, once
    [event] = outbox_rows(app, "message.failed")
    assert event.data["message_id"] == never_sent and event.data["status"] == "FAILED"
    assert event.data["error_code"] == "REQUEST_ABORTED"


def test_events_are_purged_30_days_after_fan_out_unless_still_pending(
    app, receiver, delivery_clock
):
    add_endpoint(app, receiver.url)
    receiver.answers.extend([500] * 10)
    failing = _emit(app)
    run_deliveries(app, rounds=1)  # pending, retried later
    receiver.answers.clear()
    delivered = _emit(app)
    run_deliveries(app, rounds=1)
    with app.app_context():
        assert delivery.purge_old(delivery_clock.now) == 0  # too young
        later = delivery_clock.now + timedelta(days=delivery.EVENT_DAYS, minutes=1)
        assert delivery.purge_old(later) == 1
    assert [e.public_id for e in outbox_rows(app)] == [failing]
    [row] = deliveries(app)
    assert row.event.public_id == failing and row.status == "pending"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookAttempt)) == len(
            row.attempt_log
        )
    assert delivered not in {e.public_id for e in outbox_rows(app)}
