"""Acceptance: 1,000 OTP starts in parallel through the API yield exactly 1,000
``verification.started`` events, each delivered once (100 on SQLite, which has one writer)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from kmsg_console.api_keys.services import issue_key
from kmsg_console.events.models import OutboxEvent
from kmsg_console.extensions import db, dispose_engines
from kmsg_console.otp import services as otp
from kmsg_console.providers import services as provider_services
from tests.conftest import make_app
from tests.events.conftest import add_endpoint, run_deliveries

THREADS = 8


def test_parallel_otp_starts_yield_exactly_one_started_event_each(
    app, backend, database_url, instance_dir, receiver
):
    starts = 1000 if backend == "postgresql" else 100
    with app.test_request_context():
        provider_services.ensure_sandbox_provider()
        otp.ensure_default_purposes()
        key = issue_key("load", ["otp"], actor_label="test").plaintext
        db.session.commit()
    add_endpoint(app, receiver.url, types=["verification.started"])
    burst = make_app(
        database_url,
        instance_dir,
        WEBHOOK_ALLOW_PRIVATE=True,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": THREADS, "max_overflow": 4, "pool_timeout": 60},
    )
    local = threading.local()

    def start(number: int) -> tuple[int, str | None]:
        if not hasattr(local, "client"):
            local.client = burst.test_client()
        response = local.client.post(
            "/api/v1/verifications",
            json={"phone": f"0105{number:07d}", "purpose": "login"},
            headers={"Authorization": f"Bearer {key}"},
        )
        return response.status_code, (response.get_json() or {}).get("id")

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(start, range(starts)))
    with burst.app_context():
        dispose_engines()
    assert {status for status, _ in results} == {201}
    ids = {verification_id for _, verification_id in results}
    assert len(ids) == starts
    with app.app_context():
        events = list(
            db.session.scalars(
                sa.select(OutboxEvent).where(OutboxEvent.type == "verification.started")
            )
        )
        assert len(events) == starts
        assert {event.data["verification_id"] for event in events} == ids
    # Several workers share the deliveries on PostgreSQL (SKIP LOCKED claims); SQLite runs one.
    workers = 4 if backend == "postgresql" else 1
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda _: run_deliveries(burst, rounds=starts), range(workers)))
    with burst.app_context():
        dispose_engines()
    delivered = [r.headers["X-Webhook-Id"] for r in receiver.requests]
    assert len(delivered) == len(set(delivered)) == starts
