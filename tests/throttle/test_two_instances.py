"""An edit in one process's console changes the very next decision in another process."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kmsg_console.extensions import db, dispose_engines
from kmsg_console.operators.models import Role
from kmsg_console.throttle import engine
from kmsg_console.throttle.backends import RedisBackend
from kmsg_console.throttle.models import ThrottlePolicy
from tests.conftest import make_app
from tests.throttle.conftest import decide, use_redis

PHONE = "01012345678"


def _second_instance(database_url, instance_dir, redis_prefix: str | None):
    second = make_app(database_url, instance_dir)
    if redis_prefix is not None:
        use_redis(second, redis_prefix)
    return second


def _dispose(application) -> None:
    with application.app_context():
        db.session.remove()
        dispose_engines()


@pytest.fixture
def other_app(app, store, database_url, instance_dir, monkeypatch):
    """A second app instance on the same database (and the same Redis prefix)."""
    if store == "redis":
        # Only the version published after the edit may make B reload, not the periodic check.
        monkeypatch.setattr(engine, "SQL_REVALIDATE_SECONDS", 3600.0)
    second = _second_instance(
        database_url, instance_dir, app.config["REDIS_PREFIX"] if store == "redis" else None
    )
    yield second
    _dispose(second)


def _policy_form(name: str, limit: int, **extra) -> dict:
    form = {
        "name": name,
        "mode": "enforce",
        "key_kind": "phone",
        "actions": ["otp_start"],
        "enabled": "y",
        "windows-0-max_requests": str(limit),
        "windows-0-amount": "10",
        "windows-0-unit": "60",
    }
    form.update(extra)
    return form


def _policy_id(app, name: str) -> tuple[int, int]:
    with app.app_context():
        policy = db.session.scalar(sa.select(ThrottlePolicy).where(ThrottlePolicy.name == name))
        return policy.id, policy.windows[0].id


def test_console_edits_apply_to_the_next_call_in_another_instance(app, console, other_app):
    console.login(Role.ADMIN)
    assert (
        console.post("/throttle-policies/new", data=_policy_form("per phone", 1)).status_code == 302
    )
    policy_id, window_id = _policy_id(app, "per phone")

    assert decide(other_app, phone=PHONE).allowed
    assert not decide(other_app, phone=PHONE).allowed  # B has cached the policy set

    edited = _policy_form("per phone", 3, **{"windows-0-window_id": str(window_id)})
    assert console.post(f"/throttle-policies/{policy_id}/edit", data=edited).status_code == 302
    assert decide(other_app, phone=PHONE).allowed  # 1 used of 3 now

    assert console.post(f"/throttle-policies/{policy_id}/toggle").status_code == 302  # disable
    disabled = decide(other_app, phone=PHONE)
    assert disabled.allowed and disabled.rules == []

    assert (
        console.post(
            "/throttle-policies/lists",
            data={"list_kind": "block", "match": "number", "value": PHONE},
        ).status_code
        == 302
    )
    assert decide(other_app, phone=PHONE).reason == "blocklist"


def test_a_lost_redis_publish_is_healed_by_the_periodic_database_check(
    app, console, database_url, instance_dir, redis_prefix, monkeypatch
):
    use_redis(app, redis_prefix)
    other = _second_instance(database_url, instance_dir, redis_prefix)
    monkeypatch.setattr(engine, "SQL_REVALIDATE_SECONDS", 3600.0)
    try:
        console.login(Role.ADMIN)
        console.post("/throttle-policies/new", data=_policy_form("per phone", 1))
        assert decide(other, phone=PHONE).allowed
        monkeypatch.setattr(RedisBackend, "publish_version", lambda self, version: None)
        console.post(
            "/throttle-policies/lists",
            data={"list_kind": "block", "match": "number", "value": PHONE},
        )
        assert decide(other, phone=PHONE).reason == "rate"  # B has not heard of the edit yet
        monkeypatch.setattr(engine, "SQL_REVALIDATE_SECONDS", 0.0)
        assert decide(other, phone=PHONE).reason == "blocklist"
    finally:
        _dispose(other)
