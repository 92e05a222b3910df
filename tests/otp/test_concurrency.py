"""Acceptance: 50 parallel OTP starts under "3 per 10 min" per phone admit exactly 3 and send
exactly 3 messages; 50 parallel starts from one end-user IP under "10 per hour" admit exactly
10 — with counters in SQLite, PostgreSQL (the ``app`` fixture) and Redis (the ``store`` fixture).
"""

from __future__ import annotations

import threading

import sqlalchemy as sa

from kmsg_console.api_keys.services import issue_key
from kmsg_console.extensions import db, dispose_engines
from kmsg_console.otp import services as otp
from kmsg_console.otp.models import Verification, VerificationPurpose
from kmsg_console.providers import services as provider_services
from kmsg_console.sending.models import MessageLog, SandboxDelivery
from kmsg_console.throttle.models import ThrottlePolicy
from kmsg_console.throttle.services import ensure_default_policies, policy_counters
from tests.conftest import make_app
from tests.throttle.conftest import redis_prefix, store, use_redis  # noqa: F401  (fixtures)

PARALLEL = 50


def _setup(app) -> str:
    with app.test_request_context():
        provider_services.ensure_sandbox_provider()
        otp.ensure_default_purposes()
        ensure_default_policies()
        for purpose in db.session.scalars(sa.select(VerificationPurpose)):
            purpose.resend_cooldown_seconds = 0  # isolate the throttle rule under test
        key = issue_key("load", ["otp"], actor_label="test").plaintext
        db.session.commit()
    return key


def _burst_app(request, database_url, instance_dir, store_kind: str):
    """An app whose connection pool can hold every parallel request at once."""
    burst = make_app(
        database_url,
        instance_dir,
        SQLALCHEMY_ENGINE_OPTIONS={
            "pool_size": 10,
            "max_overflow": 20,
            "pool_timeout": 120,
            "pool_pre_ping": True,
        },
    )
    if store_kind == "redis":
        use_redis(burst, request.getfixturevalue("redis_prefix"))
    return burst


def _burst(app, key: str, bodies: list[dict]) -> list[int]:
    statuses: list[int] = []
    barrier = threading.Barrier(len(bodies), timeout=60)

    def start(body: dict) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(
            "/api/v1/verifications", json=body, headers={"Authorization": f"Bearer {key}"}
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=start, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        dispose_engines()  # give the connections back before the next test
    return statuses


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        count = lambda model: db.session.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
        return count(Verification), count(MessageLog), count(SandboxDelivery)


def test_parallel_starts_for_one_phone_admit_exactly_three(
    request, app, store, database_url, instance_dir
):  # noqa: F811
    key = _setup(app)
    statuses = _burst(
        _burst_app(request, database_url, instance_dir, store),
        key,
        [{"phone": "010-4444-5555", "purpose": "login"}] * PARALLEL,
    )
    assert statuses.count(201) == 3, statuses
    assert statuses.count(429) == PARALLEL - 3
    assert _counts(app) == (3, 3, 3)


def test_parallel_starts_from_one_ip_admit_exactly_ten(
    request, app, store, database_url, instance_dir
):  # noqa: F811
    key = _setup(app)
    bodies = [
        {"phone": f"0107000{i:04d}", "purpose": "signup", "client_ip": "203.0.113.7"}
        for i in range(PARALLEL)
    ]
    statuses = _burst(_burst_app(request, database_url, instance_dir, store), key, bodies)
    assert statuses.count(201) == 10, statuses
    assert _counts(app) == (10, 10, 10)


def _reads_race(monkeypatch, parties: int) -> None:
    """Hold every start after its first read of earlier starts until all have read.

    Then none of them has seen the others' codes: the worst interleaving, every time.
    """
    barrier = threading.Barrier(parties, timeout=60)
    local = threading.local()
    read = otp._earlier_starts

    def racing_read(*args, **kwargs):
        found = read(*args, **kwargs)
        if not getattr(local, "waited", False):
            local.waited = True
            barrier.wait()
        return found

    monkeypatch.setattr(otp, "_earlier_starts", racing_read)


def _statuses_by_verification(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(sa.select(Verification.status)))


def test_racing_starts_leave_one_live_code(request, app, database_url, instance_dir, monkeypatch):
    key = _setup(app)  # no resend cooldown
    _reads_race(monkeypatch, 2)
    body = {"phone": "010-4444-6666", "purpose": "login"}
    statuses = _burst(_burst_app(request, database_url, instance_dir, "sql"), key, [body, body])
    # Both were admitted and both codes went out; the later one replaced the earlier.
    assert statuses == [201, 201]
    assert _statuses_by_verification(app) == ["canceled", "pending"]
    assert _counts(app)[1:] == (2, 2)


def test_racing_starts_within_the_cooldown_send_one_code(
    request, app, database_url, instance_dir, monkeypatch
):
    key = _setup(app)
    with app.app_context():
        for purpose in db.session.scalars(sa.select(VerificationPurpose)):
            purpose.resend_cooldown_seconds = 30
        db.session.commit()
    _reads_race(monkeypatch, 2)
    body = {"phone": "010-4444-7777", "purpose": "login"}
    statuses = _burst(_burst_app(request, database_url, instance_dir, "sql"), key, [body, body])
    assert sorted(statuses) == [201, 429]
    assert _statuses_by_verification(app) == ["pending"]
    assert _counts(app) == (1, 1, 1)


def _spent(app) -> dict[str, dict[int, int]]:
    """Requests counted per OTP-start policy and window, summed over every key."""
    with app.app_context():
        spent: dict[str, dict[int, int]] = {}
        for policy in db.session.scalars(sa.select(ThrottlePolicy)):
            if "otp_start" not in policy.actions:
                continue
            windows = spent.setdefault(policy.name, {})
            for view in policy_counters(policy):
                windows[view.window_seconds] = windows.get(view.window_seconds, 0) + view.used
        return spent


def test_starts_refused_by_the_cooldown_in_a_race_spend_no_throttle_budget(
    request, app, store, database_url, instance_dir, monkeypatch
):  # noqa: F811
    key = _setup(app)
    with app.app_context():
        for purpose in db.session.scalars(sa.select(VerificationPurpose)):
            purpose.resend_cooldown_seconds = 30
        db.session.commit()
    # All three read "no earlier start" and pass the throttle; two then meet the winner's
    # pending code and are refused for the cooldown.
    _reads_race(monkeypatch, 3)
    body = {"phone": "010-4444-8888", "purpose": "login"}
    statuses = _burst(_burst_app(request, database_url, instance_dir, store), key, [body] * 3)
    assert sorted(statuses) == [201, 429, 429]
    assert _counts(app) == (1, 1, 1)
    assert _spent(app) == {
        "OTP starts per phone": {600: 1, 3600: 1},
        "OTP starts per IP": {},
        "Global daily cap": {86400: 1},
    }
