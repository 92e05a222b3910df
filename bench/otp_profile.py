"""What one OTP start costs the console, in-process: CPU time and SQL statements per start.

    .venv/bin/python bench/otp_profile.py [--db sqlite|postgresql|both] [--starts 1000]
        [--profile 40] [--phases]

The same setup as ``otp_throughput.py`` (the SOLAPI simulator as ``kmsg-console
fake-providers``, the account saved through the providers service, the default throttle
policies raised as far as they go, an API key with the ``otp`` scope), but the console runs
in this process and is called through Flask's test client, one start after another. Without
the HTTP server, the load generator and the other threads competing for two cores, its CPU
time per start is steadier than the throughput run's, which makes it the figure to compare
before and after a change to the send path. The statements of one start are listed as the
database sees them through SQLAlchemy (the throttle's own connection is counted apart).
``--profile N`` adds cProfile's N most expensive functions by cumulative time (profiling
roughly doubles the time per start; read its split, not its total). ``--phases`` instead
times the pieces of a start (``PHASES``) with ``time.thread_time()`` around each call, which
adds little and, unlike sampling the interpreter, counts the database driver's own work
(SQLite runs in this thread without holding the GIL).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import functools
import importlib
import io
import pstats
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402
import otp_throughput  # noqa: E402

WARMUP = 50

#: (module, attribute path) of the pieces ``--phases`` times; nested pieces are counted
#: within their callers too.
PHASES = (
    ("kmsg_console.api_keys.services", "authenticate"),
    ("kmsg_console.otp.services", "start"),
    ("kmsg_console.otp.services", "purpose_settings"),
    ("kmsg_console.otp.services", "_normalized_phone"),
    ("kmsg_console.otp.services", "_earlier_starts"),
    ("kmsg_console.otp.services", "check_and_consume"),
    ("kmsg_console.otp.services", "_issue"),
    ("kmsg_console.sending.engine", "send"),
    ("kmsg_console.sending.engine", "prepare"),
    ("kmsg_console.sending.engine", "_create_log"),
    ("kmsg_console.providers.services", "build_router"),
    ("kmsg_console.providers.adapters.solapi", "SolapiAdapter.send"),
    ("kmsg_console.sending.engine", "_write_answer"),
    ("kmsg_console.sending.engine", "_write_final_status"),
    ("kmsg_console.sending.records", "_commit_keeping"),
    ("sqlalchemy.orm", "Session.commit"),
    ("sqlalchemy.engine.default", "DefaultDialect.do_commit"),
    ("sqlalchemy.engine", "Connection.exec_driver_sql"),
    ("kmsg_console.sending.records", "DurabilityPoint._attach"),
)


class Phases:
    """CPU time of this thread inside each of ``PHASES`` while installed."""

    def __init__(self) -> None:
        self.seconds: collections.Counter[str] = collections.Counter()
        self.calls: collections.Counter[str] = collections.Counter()
        self._undo: list[tuple[object, str, object]] = []

    def install(self) -> None:
        for module_name, path in PHASES:
            owner = importlib.import_module(module_name)
            *parents, name = path.split(".")
            for parent in parents:
                owner = getattr(owner, parent)
            original = getattr(owner, name)
            setattr(owner, name, self._timed(path, original))
            self._undo.append((owner, name, original))

    def remove(self) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        self._undo.clear()

    def _timed(self, label: str, fn):
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            began = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[label] += time.thread_time() - began
                self.calls[label] += 1

        return timed

    def report(self, starts: int) -> str:
        table = common.Table(
            ["piece", "CPU ms/start", "calls/start"],
            [
                [label, 1000 * seconds / starts, f"{self.calls[label] / starts:.1f}"]
                for label, seconds in self.seconds.most_common()
            ],
        )
        return table.render()


def statements_of(app, fn) -> list[str]:
    """The first line of each statement SQLAlchemy sends while ``fn`` runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, params, context, executemany):
        seen.append(" ".join(statement.split())[:110])

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        fn()
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    return seen


@contextmanager
def console_client(kind: str, folder: Path, sim) -> Iterator[tuple[object, Callable[[int], None]]]:
    """A console on a fresh ``kind`` database in ``folder``, configured as ``otp_throughput.py``
    configures it, and a function making OTP start number ``n`` through the test client
    (``SystemExit`` unless it answers 201). ``sim`` needs only ``base``, the simulator's URL."""
    from kmsg_console.extensions import db, dispose_engines
    from kmsg_console.otp.services import ensure_default_purposes

    with common.database(kind, folder) as url:
        app = common.make_app(url, folder / "instance", common.fresh_keys())
        common.migrate(app)
        key = otp_throughput.configure_console(app, sim)
        with app.app_context():
            ensure_default_purposes()
            db.session.commit()
        client = app.test_client()
        headers = {"Authorization": f"Bearer {key}"}

        def start(n: int) -> None:
            response = client.post(
                "/api/v1/verifications",
                json={
                    "phone": f"0109{n:07d}",
                    "purpose": "login",
                    "client_ip": f"10.0.{n % 250}.{n % 200}",
                },
                headers=headers,
            )
            if response.status_code != 201:
                raise SystemExit(
                    f"start answered {response.status_code}: {response.get_data(as_text=True)}"
                )

        try:
            yield app, start
        finally:
            with app.app_context():
                db.session.remove()
                dispose_engines()


def run(
    kind: str,
    sim: otp_throughput.Simulator,
    workdir: Path,
    starts: int,
    profile: int,
    dump: Path | None = None,
    phases: bool = False,
) -> dict:
    folder = workdir / kind
    folder.mkdir()
    with console_client(kind, folder, sim) as (app, start):
        sim.clear()
        for n in range(WARMUP):
            start(n)
        one = statements_of(app, lambda: start(WARMUP))
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for n in range(WARMUP + 1, WARMUP + 1 + starts):
            start(n)
        cpu_ms = 1000 * (time.process_time() - cpu0) / starts
        wall_ms = 1000 * (time.perf_counter() - wall0) / starts
        report = ""
        if phases:
            timer = Phases()
            timer.install()
            try:
                for n in range(2 * 10**6, 2 * 10**6 + starts):
                    start(n)
            finally:
                timer.remove()
            report = timer.report(starts)
        if profile:
            profiler = cProfile.Profile(time.process_time)  # CPU, not time spent waiting
            profiler.enable()
            for n in range(10**6, 10**6 + min(starts, 500)):
                start(n)
            profiler.disable()
            if dump is not None:
                profiler.dump_stats(dump.with_suffix(f".{kind}{dump.suffix}"))
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(profile)
            report += out.getvalue()
    return {"cpu_ms": cpu_ms, "wall_ms": wall_ms, "statements": one, "profile": report}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--starts", type=int, default=1000, help="measured starts per database")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="print cProfile's N most expensive functions",
    )
    parser.add_argument(
        "--phases",
        action="store_true",
        help="also time the pieces of a start (CPU of this thread, database driver included)",
    )
    parser.add_argument(
        "--dump",
        type=Path,
        metavar="FILE",
        help="with --profile: also write cProfile's data (FILE.<db>.<ext>) for pstats or snakeviz",
    )
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    print(common.machine_line())
    table = common.Table(
        ["database", "starts", "CPU ms/start", "wall ms/start", "SQL statements/start"], []
    )
    with common.temp_dir() as workdir, common.Processes() as procs:
        sim = otp_throughput.Simulator(procs, workdir)
        for kind in kinds:
            result = run(kind, sim, workdir, args.starts, args.profile, args.dump, args.phases)
            print(f"\n[{kind}] statements of one start ({len(result['statements'])}):")
            for statement in result["statements"]:
                print("  " + statement)
            if result["profile"]:
                print(result["profile"])
            table.rows.append(
                [kind, args.starts, result["cpu_ms"], result["wall_ms"], len(result["statements"])]
            )
    print()
    print(table.render())


if __name__ == "__main__":
    main()
