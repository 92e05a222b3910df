"""Throttle fixtures: the counter store (database or Redis) and policy factories.

Redis runs when it is reachable (``KMSG_TEST_REDIS_URL``, default the local server's
database 0); each test writes under a key prefix of its own and deletes its keys afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest

from kmsg_console.extensions import db
from kmsg_console.throttle import engine, services
from kmsg_console.throttle.models import KeyKind, ThrottleMode, ThrottlePolicy
from tests.conftest import unavailable

REDIS_URL = os.environ.get("KMSG_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A reachable Redis and a key prefix used by this test only (cleaned up afterwards)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable(f"Redis not reachable at {REDIS_URL}: {exc.__class__.__name__}")
    prefix = f"kmsg-test-{uuid.uuid4().hex[:12]}:"
    yield prefix
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def use_redis(app, prefix: str) -> None:
    """Point ``app``'s throttle engine at Redis (before its first decision)."""
    app.config.update(REDIS_URL=REDIS_URL, REDIS_PREFIX=prefix)
    app.extensions.pop(engine.EXTENSION_KEY, None)


@pytest.fixture(params=["sql", "redis"])
def store(request, app) -> str:
    """Run the test with counters in the app's database, then in Redis."""
    if request.param == "redis":
        use_redis(app, request.getfixturevalue("redis_prefix"))
    with app.app_context():
        assert engine.runtime(app).backend.name == request.param
    return request.param


@pytest.fixture
def make_policy(app) -> Callable[..., int]:
    """Create a policy through the service (so the version is bumped); returns its id."""

    def make(
        name: str = "rule",
        *,
        key_kind: KeyKind = KeyKind.PHONE,
        windows=((3, 600),),
        actions=("otp_start",),
        mode: ThrottleMode = ThrottleMode.ENFORCE,
        purpose=None,
        prefix=None,
        enabled: bool = True,
    ) -> int:
        with app.app_context():
            policy = services.create_policy(
                services.PolicyData(
                    name=name,
                    mode=mode,
                    key_kind=key_kind,
                    actions=list(actions),
                    windows=[services.WindowData(limit, seconds) for limit, seconds in windows],
                    purpose=purpose,
                    prefix=prefix,
                    enabled=enabled,
                )
            )
            db.session.commit()
            return policy.id

    return make


def decide(
    app, action: str = "otp_start", *, now=None, dry_run: bool = False, **ctx
) -> engine.ThrottleDecision:
    with app.app_context():
        return engine.check_and_consume(
            action, engine.ThrottleContext(**ctx), now=now, dry_run=dry_run
        )


def get_policy(app, policy_id: int) -> ThrottlePolicy:
    with app.app_context():
        policy = db.session.get(ThrottlePolicy, policy_id)
        db.session.expunge(policy)
        return policy
