"""N parallel requests against a limit of k admit exactly k, on SQLite, PostgreSQL and Redis."""

from __future__ import annotations

import threading
from collections.abc import Callable

from kmsg_console.extensions import db
from kmsg_console.throttle import engine, services
from kmsg_console.throttle.models import KeyKind, ThrottlePolicy

PARALLEL = 50


def run_parallel(
    app, contexts: list[engine.ThrottleContext], action: str = "otp_start"
) -> list[bool]:
    """Start one thread per context, release them together, return who was admitted."""
    barrier = threading.Barrier(len(contexts), timeout=60)
    results: list[bool | None] = [None] * len(contexts)
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[index] = engine.check_and_consume(action, contexts[index]).allowed
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(contexts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert None not in results
    return results  # type: ignore[return-value]


def _used(app, policy_id: int) -> dict[int, int]:
    with app.app_context():
        return {
            view.window_seconds: view.used
            for view in services.policy_counters(db.session.get(ThrottlePolicy, policy_id))
        }


def test_fifty_parallel_for_one_phone_admit_exactly_three(app, store, make_policy):
    policy_id = make_policy(windows=[(3, 600), (5, 3600)])
    contexts = [
        engine.ThrottleContext(phone="01012345678", ip=f"203.0.113.{i}") for i in range(PARALLEL)
    ]
    assert run_parallel(app, contexts).count(True) == 3
    assert _used(app, policy_id) == {600: 3, 3600: 3}


def test_fifty_parallel_from_one_ip_admit_exactly_the_ip_limit(app, store, make_policy):
    policy_id = make_policy(key_kind=KeyKind.IP, windows=[(10, 3600)])
    contexts = [
        engine.ThrottleContext(phone=f"010{i:08d}", ip="203.0.113.9") for i in range(PARALLEL)
    ]
    assert run_parallel(app, contexts).count(True) == 10
    assert _used(app, policy_id) == {3600: 10}


def test_fifty_parallel_failed_checks_per_ip_admit_exactly_three(app, store, make_policy):
    make_policy(key_kind=KeyKind.IP, actions=("otp_check_failure",), windows=[(3, 600)])
    contexts = [
        engine.ThrottleContext(phone=f"010{i:08d}", ip="2001:db8::1") for i in range(PARALLEL)
    ]
    assert run_parallel(app, contexts, "otp_check_failure").count(True) == 3


def test_overlapping_keys_in_parallel_neither_deadlock_nor_lose_counts(app, store, make_policy):
    # Each request locks a phone row and an IP row; the pairs overlap in every order.
    phone_policy = make_policy("phones", windows=[(100, 3600)])
    ip_policy = make_policy("ips", key_kind=KeyKind.IP, windows=[(100, 3600)])
    make_policy("global", key_kind=KeyKind.GLOBAL, windows=[(100, 3600)])
    phone: Callable[[int], str] = lambda i: f"0101111000{i % 3}"  # noqa: E731
    contexts = [
        engine.ThrottleContext(phone=phone(i), ip=f"198.51.100.{(i // 3) % 3}")
        for i in range(PARALLEL)
    ]
    assert all(run_parallel(app, contexts))
    with app.app_context():
        phones = services.policy_counters(db.session.get(ThrottlePolicy, phone_policy))
        ips = services.policy_counters(db.session.get(ThrottlePolicy, ip_policy))
    assert sum(v.used for v in phones) == sum(v.used for v in ips) == PARALLEL
