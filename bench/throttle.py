"""Cost of one throttle decision per backend: SQL on SQLite, SQL on PostgreSQL, Redis.

What is measured: ``kmsg_console.throttle.engine.check_and_consume`` called in-process in an
app context, with the default policies (``throttle.services.DEFAULT_POLICIES``: per phone
3/10 min + 5/h, per IP 10/h, failed checks per phone and per IP, the global daily cap),
many times with varied phones and IPs, as the OTP endpoints call it:

- ``otp_start`` (consume): phone, IP and global windows - the start of every verification;
- ``otp_start`` refused: one number over its limit, so every call is refused and writes its
  block-log row (``throttle_event``, in the database even with Redis), as a number being
  pumped would - not a target (refusals are rare in real traffic), shown for what they cost;
- ``otp_check_failure`` dry run: the gate in front of every code check;
- ``otp_check_failure`` (consume): after a wrong code;
- ``api_send`` (consume): the global cap only.

Apart from the refused row, phones and IPs are drawn from pools four times larger than the
number of calls, so most requests are admitted, as in normal traffic; the clock given to
the engine moves 50 ms per call. Every call is timed on its own (``perf_counter``); the
table shows median and p95 per decision and the share admitted. The Redis backend keeps
policies and the block log in PostgreSQL, as production does. Targets: median ≤ 1 ms on SQL,
≤ 0.3 ms on Redis.

    .venv/bin/python bench/throttle.py                 # all three backends
    .venv/bin/python bench/throttle.py --backend redis --decisions 20000
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

import common

from kmsg_console.extensions import db
from kmsg_console.throttle import engine, services
from kmsg_console.throttle.engine import ThrottleContext, check_and_consume

BACKEND_NAMES = ("sql-sqlite", "sql-postgresql", "redis")
TARGETS_MS = {"sql-sqlite": 1.0, "sql-postgresql": 1.0, "redis": 0.3}
#: (label, action, dry run, the calls' phones: "varied" or "one over its limit")
SCENARIOS = (
    ("otp_start", "otp_start", False, "varied"),
    ("otp_start refused", "otp_start", False, "over limit"),
    ("otp_check_failure (dry run)", "otp_check_failure", True, "varied"),
    ("otp_check_failure", "otp_check_failure", False, "varied"),
    ("api_send", "api_send", False, "varied"),
)
STEP = timedelta(milliseconds=50)


class Clock:
    """The ``now`` handed to the engine: 50 ms later on every call, never going back."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def tick(self) -> datetime:
        self.now += STEP
        return self.now


def decisions(n: int, rng: random.Random, phones: list[str], ips: list[str], action: str,
              dry_run: bool, clock: Clock) -> tuple[list[float], int]:  # fmt: skip
    times = []
    allowed = 0
    for _ in range(n):
        ctx = ThrottleContext(
            phone=rng.choice(phones), ip=rng.choice(ips), api_key_id=1, purpose="login"
        )
        now = clock.tick()
        t0 = time.perf_counter()
        decision = check_and_consume(action, ctx, now=now, dry_run=dry_run)
        times.append((time.perf_counter() - t0) * 1000)
        allowed += decision.allowed
    return times, allowed


def run(name: str, count: int, seed: int) -> list[list]:
    kind = "sqlite" if name == "sql-sqlite" else "postgresql"
    rows = []
    with (
        common.temp_dir() as workdir,
        common.database(kind, workdir) as url,
        common.redis_prefix() as prefix,
    ):
        extra = {"REDIS_URL": common.REDIS_URL, "REDIS_PREFIX": prefix} if name == "redis" else {}
        app = common.make_app(url, workdir / "instance", common.fresh_keys(), **extra)
        common.migrate(app)
        rng = random.Random(seed)
        phones = [f"010{rng.randrange(10**8):08d}" for _ in range(4 * count)]
        ips = [f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
               for _ in range(4 * count)]  # fmt: skip
        pumped = [phones.pop()]
        with app.app_context():
            services.ensure_default_policies()
            db.session.commit()
            backend = engine.runtime().backend.name
            clock = Clock()
            decisions(50, rng, phones, ips, "otp_start", False, clock)  # warm-up: pools, caches
            decisions(5, rng, pumped, ips, "otp_start", False, clock)  # past its 3 per 10 min
            for label, action, dry_run, who in SCENARIOS:
                pool = pumped if who == "over limit" else phones
                times, allowed = decisions(count, rng, pool, ips, action, dry_run, clock)
                median = common.median(times)
                verdict = common.verdict(median, TARGETS_MS[name])
                if who == "over limit":  # rare in real traffic; shown for what it costs
                    verdict = f"({verdict}; not a target)"
                rows.append([name, label, backend, count, median, common.percentile(times, 0.95),
                             f"{100 * allowed / count:.0f}%", verdict])  # fmt: skip
            db.session.remove()
            for bound in db.engines.values():
                bound.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=[*BACKEND_NAMES, "all"], default="all")
    parser.add_argument("--decisions", type=int, default=5000, help="timed calls per action")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(common.machine_line())
    names = BACKEND_NAMES if args.backend == "all" else (args.backend,)
    table = common.Table(
        ["backend", "action", "store", "calls", "median ms", "p95 ms", "admitted", "verdict"], []
    )
    for name in names:
        table.rows.extend(run(name, args.decisions, args.seed))
    print(table.render())
    medians = {row[0]: row[4] for row in table.rows if row[1] == "otp_start"}
    if "redis" in medians and "sql-postgresql" in medians:
        ratio = medians["redis"] / medians["sql-postgresql"]
        print(f"otp_start median: redis / sql-postgresql = {ratio:.2f}")
    print("targets: median ≤ 1 ms (SQL), ≤ 0.3 ms (Redis)")


if __name__ == "__main__":
    main()
