"""Login throttling: growing delays after repeated failures, per account and per client IP.

Counters are keyed by the e-mail as typed (normalised) whether or not an account exists, so
an unknown address behaves exactly like a known one with a wrong password.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from flask import current_app

from kmsg_console.extensions import db
from kmsg_console.operators.models import LoginFailure
from kmsg_console.orm import utcnow

#: Delay after the first failure past the threshold; doubles with each further failure.
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=15)
#: Failures older than this are forgotten, so a typo last week does not count today.
WINDOW = timedelta(hours=1)


def _key(kind: str, value: str) -> str:
    # Hashed so the table never holds a list of the addresses people tried.
    return f"{kind}:" + hashlib.sha256(value.encode()).hexdigest()[:40]


def throttle_keys(email: str, ip: str | None) -> list[tuple[str, int]]:
    """The counters one login attempt touches, each with its failure threshold."""
    config = current_app.config
    keys = [(_key("acct", email), config["LOGIN_MAX_FAILURES"])]
    if ip:
        keys.append((_key("ip", ip), config["LOGIN_MAX_FAILURES_PER_IP"]))
    return keys


def blocked_for(keys: list[tuple[str, int]], now: datetime | None = None) -> timedelta | None:
    """How long the attempt must wait, or None when it may proceed."""
    now = now or utcnow()
    longest = None
    for key, _threshold in keys:
        row = db.session.get(LoginFailure, key)
        if row and row.blocked_until and row.blocked_until > now:
            wait = row.blocked_until - now
            longest = wait if longest is None or wait > longest else longest
    return longest


def record_failure(keys: list[tuple[str, int]], now: datetime | None = None) -> None:
    """Count a failure on every key and start or extend its delay past the threshold."""
    now = now or utcnow()
    for key, threshold in keys:
        row = db.session.get(LoginFailure, key)
        if row is None:
            row = LoginFailure(key=key, failures=0, last_failure_at=now)
            db.session.add(row)
        elif now - row.last_failure_at > WINDOW:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        excess = row.failures - threshold
        if excess >= 0:
            delay = min(BASE_DELAY * (2 ** min(excess, 16)), MAX_DELAY)
            row.blocked_until = now + delay


def record_success(keys: list[tuple[str, int]]) -> None:
    """Forget the failures of the account (and of the IP) after a good login."""
    for key, _threshold in keys:
        row = db.session.get(LoginFailure, key)
        if row is not None:
            db.session.delete(row)
