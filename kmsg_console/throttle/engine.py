"""Throttle decisions: which policies apply to a request, and whether it may proceed.

Algorithm: GCRA, the generic cell rate algorithm (ATM Forum TM 4.0; the algorithm behind
redis-cell and Dragonfly ``CL.THROTTLE``). A window "k per P" has the emission interval
``T = P // k`` and keeps one number per key, the theoretical arrival time ``TAT``. A request
at ``now`` is admitted when ``max(TAT, now) + T - now <= k * T`` and then sets
``TAT = max(TAT, now) + T``. Why GCRA rather than the alternatives:

- one integer of state and O(1) work per window whatever the limit; a sliding log keeps
  k timestamps per key (a 10,000/day cap keeps 10,000), and ``limits``' moving window costs
  O(limit) per hit (alisaifee/limits#268);
- exact: no interpolation between fixed windows as in the sliding-window counter;
- the decision is a pure function of the stored TATs, so atomicity reduces to "lock the rows"
  (SQL) or "run one Lua script" (Redis). Under a lock, each admitted request advances the TAT
  by T, so N parallel requests on an idle key admit exactly k.

Semantics, as the console explains them: "3 per 10 minutes" admits a burst of 3, then one
more every 200 s (10 min / 3). The long-run rate never exceeds k per P, but up to 2k - 1 can
pass within one span of P, so pair a short window with a longer one (3 per 10 min and 5 per
hour) to bound both the burst and the sustained rate.

Rules of a decision:

- a blocklisted number is refused (``reason="blocklist"``); a safelisted one bypasses every
  rate rule (nothing is counted);
- all windows of all matching *enforce* policies form one unit: if any window refuses,
  nothing is consumed and ``retry_after_seconds`` says when every window would admit;
- each *monitor* policy is evaluated as if it alone were enforced: it is consumed only when
  the request is admitted and it would have admitted it too, and it logs "would have
  blocked" otherwise, so its counters show what enforcing it would do;
- a counter remembers the interval it was computed with; when a window is edited its backlog
  (in requests) carries over, so "3 used" stays 3 used whether the limit becomes 5 or 2;
- a counter also remembers the latest time it was judged at, and a request is judged at
  ``max(now, that time)``: requests that read the clock before waiting for the lock (or on
  a server whose clock lags by a few milliseconds) cannot see the bucket fuller than it is,
  which would otherwise refuse the k-th of k parallel requests.

For ``otp_check_failure`` call sites check with ``dry_run=True`` before verifying a code and
consume after a failed check. Counters live in their own transaction (or Redis), independent
of the request's session: quota is spent even if the request later rolls back. A caller that
counted a request and then refuses it for a reason of its own (an OTP start that meets the
resend cooldown only after it was counted) hands the decision to ``give_back``, which takes
one interval off each counter the decision wrote.

Layout: ``core.py`` plans a request (policy set, lists, keys, masks), ``gcra.py`` judges it,
``backends.py`` stores counters atomically (database or Redis); this module is the API.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa
from flask import Flask, current_app

from kmsg_console.orm import utcnow
from kmsg_console.throttle.core import (
    ACTIONS,
    Hasher,
    PolicySet,
    RuleVerdict,
    ThrottleContext,
    ThrottleDecision,
    Window,
    WindowVerdict,
    load_policy_set,
    read_version,
)
from kmsg_console.throttle.gcra import MIN_INTERVAL_US, CounterView, gcra

if TYPE_CHECKING:
    from kmsg_console.crypto import Keyring

__all__ = [
    "ACTIONS",
    "MIN_INTERVAL_US",
    "CounterView",
    "RuleVerdict",
    "ThrottleContext",
    "ThrottleDecision",
    "ThrottleUnavailable",
    "Window",
    "WindowVerdict",
    "check_and_consume",
    "current_counters",
    "gcra",
    "give_back",
    "read_version",
    "runtime",
]

#: Redis backend: how often the cached policy set is also checked against the database,
#: in case publishing a new version to Redis failed after an edit.
SQL_REVALIDATE_SECONDS = 5.0


class ThrottleUnavailable(RuntimeError):
    """The counter store could not be reached; the caller decides whether to fail closed."""


class Backend(Protocol):
    name: str

    def decide(
        self, runtime: Runtime, action: str, ctx: ThrottleContext, now: datetime, dry_run: bool
    ) -> ThrottleDecision: ...

    def give_back(self, keys: tuple[str, ...]) -> None: ...

    def counters(self, windows: list[Window], now: datetime, limit: int) -> list[CounterView]: ...

    def publish_version(self, version: int) -> None: ...


class Runtime:
    """The backend and the cached policy set of one app (shared by its threads)."""

    def __init__(self, app: Flask, backend: Backend) -> None:
        self.keyring: Keyring = app.config["KEYRING"]
        self.backend = backend
        self.policies: PolicySet | None = None
        self.checked_at = 0.0

    def policies_for(self, version: int, conn: sa.Connection) -> PolicySet:
        """The cached set if it is at ``version``, else a fresh read through ``conn``."""
        cached = self.policies
        if cached is not None and cached.version == version:
            return cached
        fresh = self.policies = load_policy_set(conn, version)
        self.checked_at = time.monotonic()
        return fresh

    def hasher(self) -> Hasher:
        return Hasher(self.keyring)


_runtime_lock = threading.Lock()
EXTENSION_KEY = "kmsg_throttle"


def runtime(app: Flask | None = None) -> Runtime:
    """The app's throttle runtime, created on first use."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get(EXTENSION_KEY)
    if found is not None:
        return found
    with _runtime_lock:
        found = app.extensions.get(EXTENSION_KEY)
        if found is None:
            from kmsg_console.throttle.backends import make_backend

            found = app.extensions[EXTENSION_KEY] = Runtime(app, make_backend(app))
    return found


def check_and_consume(
    action: str, ctx: ThrottleContext, *, now: datetime | None = None, dry_run: bool = False
) -> ThrottleDecision:
    """Decide whether ``action`` may proceed for ``ctx`` and, unless ``dry_run``, count it.

    Needs an app context. Runs in its own transaction (SQL) or one Lua script (Redis),
    committed before returning; never touches the caller's session.

    :raises ThrottleUnavailable: when the counter store cannot be reached.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown throttle action {action!r}")
    moment = now or utcnow()
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to check_and_consume")
    current = runtime()
    return current.backend.decide(current, action, ctx, moment, dry_run)


def give_back(decision: ThrottleDecision) -> None:
    """Uncount a request ``decision`` counted: each counter it wrote loses one interval.

    Atomic per counter (one UPDATE, or one Lua script), so requests counted in between keep
    their place. Exact while the counter has not drained to idle since the decision, which
    takes at least one interval (200 s for "3 per 10 minutes", 8.6 s for "10,000 a day"):
    give back as soon as the request is refused, not later.

    :raises ThrottleUnavailable: when the counter store cannot be reached.
    """
    if decision.spent:
        runtime().backend.give_back(decision.spent)


def current_counters(
    windows: list[Window], *, now: datetime | None = None, limit: int = 50
) -> list[CounterView]:
    """Live counters of these windows, busiest first (for the console)."""
    return runtime().backend.counters(windows, now or utcnow(), limit)
