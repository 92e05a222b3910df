"""OTP starts through the production server while the SOLAPI vendor answers late.

Does the served console hide a slow vendor, and how does that depend on gunicorn's shape
(workers x threads)? What is measured, all on 127.0.0.1:

1. ``kmsg-console fake-providers`` (the SOLAPI simulator) runs as its own process. Before
   every run its state is cleared and, for a latency above 0, a latency fault is armed through
   its control API (``POST /_control/faults`` ``{"vendor": "solapi", "mode": "latency",
   "path": "/messages/v4/send*", "ms": 100, "count": null}``): every SOLAPI send waits that
   long before the simulator answers. After the run the fault's hit count is checked against
   the sends (a warning is printed when fewer sends were delayed than requests made).
2. The console: ``kmsg-console serve`` on a fresh database configured as ``otp_throughput.py``
   does it (SOLAPI account saved through the providers service and routed, default throttle
   policies with their limits raised so they never refuse, an API key with the ``otp``
   scope), and next to it the bare sender (``bare_app.py`` served by ``bare_server.py`` with
   the same gunicorn settings), both in the same server shape: ``--workers W --threads T``
   given to both, or given to neither for the shape ``default`` (``serve``'s defaults;
   ``bare_server.py`` reads them from the ``serve`` command and prints them).
3. ``loadgen.py`` in its own process: ``POST /api/v1/verifications`` (bare: ``POST
   /verifications``) with a fresh phone number per request, N connections (one thread and
   keep-alive session each), a short warm-up, then ``--duration`` seconds measured; 10 s
   client timeout per request (``--timeout``); timeouts and other failures are counted, never
   fatal. Throughput is 2xx answers inside the window; p50/p99 are over every request that
   finished after the warm-up (a timed-out one with the time it waited). In every cell
   (latency, connections, shape) console and bare run back to back, the order alternating
   from cell to cell, so machine noise hits both.
4. While a run measures: CPU of the web workers, the simulator, the load generator (and the
   PostgreSQL backends), the busy cores of the whole machine (the machine is shared); on
   PostgreSQL, the database connections sampled every 0.25 s (most open, most active, most
   idle in a transaction). After it: threads of each worker, and new log lines of the server
   that matter here (urllib3 "Connection pool is full", SQLAlchemy "QueuePool limit",
   gunicorn "WORKER TIMEOUT", tracebacks).

Configurations: ``sqlite`` (the embedded default) and ``postgresql+redis`` (production), as
``otp_throughput.py`` defines them.

Acceptance, each measured in the same run, under the serve default (``--ratio-shape``
names another shape to try as the default; ratio 4 compares it with ``2x4``):

1. latency hiding: console starts/s at 300 ms ÷ at 0 ms, both with 256 connections (≥ 0.8);
2. 100 ms and 8 connections: console p50 ≤ 130 ms and p99 ≤ 250 ms;
3. 300 ms, 256 connections, ``--long-duration`` (30 s), 10 s client timeout: zero errors and
   zero timeouts;
4. starts/s at 300 ms / 256 connections, serve default ÷ ``--workers 2 --threads 4`` (≥ 4);
5. console starts/s ÷ bare requests/s at 0 ms, at 8 connections (``otp_throughput.py``'s
   default concurrency) and, when the grid has it, at 16 (no target here:
   ``otp_throughput.py`` holds the ≥ 0.5 target).

How long: about 7 minutes per configuration with the defaults (18 grid runs of 2 + 10 s, 6
more for the ratios, one of 30 s; measured 6.7-6.8 min), ~2.5 minutes with ``--only-ratios``,
~3 with ``--quick`` (5 s runs of a 2 x 2 grid, then the ratios' runs). The plan and its
estimate are printed first; a run that fails is reported and the others go on.

Limits of the set-up: the simulator (werkzeug's threaded server) answers every request with
``Connection: close``, so each send opens a new loopback connection (no keep-alive to the
vendor: the adapter's pool of 10 connections per worker never matters here); it starts a
thread per connection and shares the 2 cores with everything else, like the load generator
(one Python process, ~1 ms of CPU per request). ``--console-env KMSG_DB_POOL_SIZE=8`` passes
settings to the console's server (PostgreSQL connections grow with workers x threads: the
default ``max_connections`` of 100 is reached at ``2x64``). ``--keep-logs DIR`` keeps the
servers' logs.

    .venv/bin/python bench/latency.py                                    # both configs (~14 min)
    .venv/bin/python bench/latency.py --config sqlite
    .venv/bin/python bench/latency.py --config sqlite --quick            # smoke run
    .venv/bin/python bench/latency.py --config postgresql+redis --only-ratios
    .venv/bin/python bench/latency.py --config sqlite --no-ratios --latencies 0,300 \\
        --connections 256 --shape 2x4 --shape 2x16 --shape 2x32 --duration 8
    .venv/bin/python bench/latency.py --config sqlite --only-ratios --ratio-shape 2x32
    .venv/bin/python bench/latency.py --config postgresql+redis --no-ratios --latencies 0,300 \\
        --connections 256 --shape 2x32 --shape 2x64 --console-env KMSG_DB_POOL_SIZE=8
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import common
import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
#: ``both`` runs the first two (the embedded default and production); ``postgresql`` keeps
#: throttle counters in PostgreSQL too.
CONFIGS = ("sqlite", "postgresql+redis", "postgresql")
TARGETS = ("console", "bare")
OLD_SHAPE = common.ServerShape(2, 4)
#: loadgen's thread count in otp_throughput.py (its --concurrency default)
OTP_THROUGHPUT_CONCURRENCY = 8
HIDING_TARGET = 0.8
P50_TARGET_MS, P99_TARGET_MS = 130.0, 250.0
SHAPE_TARGET = 4.0
PHONES_PER_RUN = 1_000_000  # phone numbers set aside for each run (fresh ones every request)
LOG_PATTERNS = {
    "urllib3 pool full": "Connection pool is full",
    "QueuePool limit": "QueuePool limit",
    "worker timeout": "WORKER TIMEOUT",
    "traceback": "Traceback",
    "PostgreSQL too many clients": "too many clients",
}


@dataclass(frozen=True)
class Cell:
    """Runs at one simulator latency and connection count under one server shape."""

    latency: int
    conns: int
    shape: common.ServerShape
    targets: tuple[str, ...]
    duration: float
    tag: str = ""  # "long" for acceptance 3


@dataclass
class Run:
    """What one loadgen run against one target measured."""

    config: str
    cell: Cell
    target: str
    load: dict
    cpu_s: dict[str, float]
    worker_cpu_s: list[float]
    host_cores: float
    seconds: float
    threads: list[int]
    fault_hits: int
    log_counts: dict[str, int]
    pg: dict = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return float(self.load["ok_rps"])

    @property
    def errors(self) -> int:
        return int(self.load["errors"]) + int(self.load["http_errors"])

    @property
    def timeouts(self) -> int:
        return int(self.load["timeouts"])

    @property
    def worker_ms(self) -> float:
        return 1000 * self.cpu_s.get("web workers", 0.0) / max(1, self.load["ok"])


# -- the plan ---------------------------------------------------------------------------------


def plan(args) -> list[Cell]:
    """The grid, then the cells the acceptance ratios need and the grid does not have,
    grouped by server shape (each shape is one server start)."""
    cells: list[Cell] = []
    if not args.only_ratios:
        for shape in args.shapes:
            for latency in args.latencies:
                for conns in args.connections:
                    cells.append(Cell(latency, conns, shape, TARGETS, args.duration))

    def need(latency, conns, shape, targets, duration=args.duration, tag="") -> None:
        for n, cell in enumerate(cells):
            if (cell.latency, cell.conns, cell.shape, cell.duration, cell.tag) == (
                latency,
                conns,
                shape,
                duration,
                tag,
            ):
                missing = tuple(t for t in targets if t not in cell.targets)
                cells[n] = dataclasses.replace(cell, targets=cell.targets + missing)
                return
        cells.append(Cell(latency, conns, shape, tuple(targets), duration, tag))

    if args.ratios:
        base = args.ratio_shape
        need(0, 256, base, ("console",))
        need(300, 256, base, ("console",))
        need(100, 8, base, TARGETS)
        need(0, OTP_THROUGHPUT_CONCURRENCY, base, TARGETS)
        need(300, 256, base, ("console",), args.long_duration, "long")
        need(300, 256, OLD_SHAPE, ("console",))
    order = list(dict.fromkeys(cell.shape for cell in cells))
    return sorted(cells, key=lambda c: (order.index(c.shape), c.tag, c.latency, c.conns))


def estimate_s(cells: list[Cell], args) -> float:
    runs = sum(len(c.targets) * (args.warmup + c.duration + 2.5) for c in cells)
    return runs + 8 * len({c.shape for c in cells}) + 20


# -- measuring --------------------------------------------------------------------------------


class PoolSampler:
    """Connections to one PostgreSQL database, sampled in a thread: most open, most active,
    most idle in a transaction (and the statements those last ran).

    Its own connection is opened before the load starts: a console that takes every
    connection the server allows must not make the benchmark fail (that is then reported).
    """

    QUERY = sa.text(
        "SELECT pid, state, left(query, 60) FROM pg_stat_activity"
        " WHERE datname = :name AND backend_type = 'client backend'"
    )

    def __init__(self, database_url: str) -> None:
        self.name = sa.engine.make_url(database_url).database
        self.engine = sa.create_engine(
            common.require_loopback(common.POSTGRES_ADMIN_URL), poolclass=sa.pool.NullPool
        )
        self.conn = self.engine.connect()
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.peak = {"open": 0, "active": 0, "idle in transaction": 0}
        #: the last statement of connections seen idle in a transaction, and how often
        self.idle_queries: collections.Counter[str] = collections.Counter()
        self.failure = ""
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _rows(self) -> list:
        with self.lock:
            rows = self.conn.execute(self.QUERY, {"name": self.name}).all()
            self.conn.rollback()
            return rows

    def pids(self) -> list[int]:
        """Server processes of the database's connections now."""
        try:
            return [pid for pid, _state, _query in self._rows()]
        except sa.exc.SQLAlchemyError as exc:
            self.failure = str(exc).splitlines()[0]
            return []

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                rows = self._rows()
            except sa.exc.SQLAlchemyError as exc:
                self.failure = str(exc).splitlines()[0]
                return
            waiting = [q for _pid, state, q in rows if (state or "").startswith("idle in trans")]
            seen = (len(rows), sum(state == "active" for _pid, state, _q in rows), len(waiting))
            for key, value in zip(self.peak, seen, strict=True):
                self.peak[key] = max(self.peak[key], value)
            self.idle_queries.update(" ".join(q.split()) for q in waiting)
            self.stopping.wait(0.25)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> dict:
        if not self.stopping.is_set():
            self.stopping.set()
            if self.thread.is_alive():
                self.thread.join(10)
            self.conn.close()
            self.engine.dispose()
        found: dict = {
            **self.peak,
            "idle in transaction after": dict(self.idle_queries.most_common(3)),
        }
        if self.failure:
            found["sampling failed"] = self.failure
        return found


class LogWatch:
    """Lines of interest that a server's log gained since the last look."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def new_counts(self) -> dict[str, int]:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                text = handle.read().decode("utf-8", errors="replace")
                self.offset = handle.tell()
        except OSError:
            return {}
        counts = {name: text.count(pattern) for name, pattern in LOG_PATTERNS.items()}
        return {name: n for name, n in counts.items() if n}


def settle(master_pid: int, limit_s: float = 20.0) -> None:
    """Wait until the server's workers are idle (requests left by timed-out clients done)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        pids = common.child_pids(master_pid)
        before = sum(common.cpu_seconds(p) for p in pids)
        time.sleep(0.5)
        if sum(common.cpu_seconds(p) for p in pids) - before < 0.03:
            return


class Servers:
    """The console and the bare sender of one configuration in one shape."""

    def __init__(
        self, procs, sim, prepared, shape: common.ServerShape, need_bare: bool, console_env=None
    ) -> None:
        self.procs, self.shape = procs, shape
        folder = prepared.folder
        self.console = common.ConsoleServer(
            procs, prepared, shape, log=folder / f"console-{shape.label}.log", env=console_env
        )
        self.bare = (
            common.BareServer(procs, sim, folder, shape, log=folder / f"bare-{shape.label}.log")
            if need_bare
            else None
        )
        self.logs = {"console": LogWatch(self.console.log)}
        if self.bare:
            self.logs["bare"] = LogWatch(self.bare.log)

    def master(self, target: str) -> int:
        return (self.console if target == "console" else self.bare).process.pid

    def resolved(self) -> str:
        """The shape the bare server says it runs (serve's defaults filled in)."""
        if self.bare is None:
            return self.shape.label
        for line in self.bare.log.read_text(errors="replace").splitlines():
            if line.startswith("bare_server:"):
                words = line.split()
                return f"{words[1]}x{words[4]}"
        return "?"

    def stop(self) -> None:
        for server in (self.bare, self.console):
            if server is not None:
                self.procs.stop(server.process)


def measure(config, servers: Servers, sim, prepared, cell: Cell, target: str, args, number):
    """One loadgen run against ``target``; CPU, connections and logs while it measures."""
    sim.clear()
    sim.set_latency(cell.latency)
    servers.logs[target].new_counts()  # skip what came before
    master = servers.master(target)
    url = servers.console.api if target == "console" else servers.bare.url
    command = [
        sys.executable,
        str(HERE / "loadgen.py"),
        "--url",
        url,
        "--mode",
        "start",
        "--concurrency",
        str(cell.conns),
        "--duration",
        str(cell.duration),
        "--warmup",
        str(args.warmup),
        "--timeout",
        str(args.timeout),
        "--key",
        prepared.key if target == "console" else "",
        "--phone-base",
        str(PHONES_PER_RUN * number),
    ]
    stderr_path = prepared.folder / "loadgen.err"
    on_postgresql = prepared.kind == "postgresql" and target == "console"
    sampler, pg = None, {}
    if on_postgresql:
        try:
            sampler = PoolSampler(prepared.url)
        except sa.exc.SQLAlchemyError as exc:
            pg = {"sampling failed": str(exc).splitlines()[0]}
    with open(stderr_path, "ab") as stderr:
        process = subprocess.Popen(  # noqa: S603 - our own script, arguments built above
            command, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=common.ROOT
        )
    try:
        if process.stdout.readline().strip() != "started":
            process.wait(30)
            raise RuntimeError(f"loadgen failed: see {stderr_path}")
        time.sleep(args.warmup)
        workers = common.child_pids(master)
        groups = {
            "web workers": workers,
            "simulator": [sim.process.pid],
            "load generator": [process.pid],
        }
        if sampler is not None:
            groups["PostgreSQL"] = sampler.pids()
            sampler.start()
        meter = common.CpuMeter({**groups, **{f"w{p}": [p] for p in workers}})
        meter.start()
        host_before = common.host_cpu_times()
        started = time.monotonic()
        time.sleep(cell.duration)
        used = meter.stop()
        host_after = common.host_cpu_times()
        seconds = time.monotonic() - started
        pg = sampler.stop() if sampler else pg
        out, _err = process.communicate(timeout=args.timeout + 120)
    finally:
        if sampler is not None:
            sampler.stop()
        if process.poll() is None:
            process.kill()
            process.wait(10)
    if process.returncode != 0:
        raise RuntimeError(f"loadgen exited with {process.returncode}: see {stderr_path}")
    load = json.loads(out.strip().splitlines()[-1])
    busy = host_after[0] - host_before[0]
    total = max(1, host_after[1] - host_before[1])
    run = Run(
        config=config,
        cell=cell,
        target=target,
        load=load,
        cpu_s={name: used[name] for name in groups},
        worker_cpu_s=[used[f"w{p}"] for p in workers],
        host_cores=busy / total * (os.cpu_count() or 1),
        seconds=seconds,
        threads=[common.thread_count(p) for p in workers],
        fault_hits=sim.fault_hits(),
        log_counts=servers.logs[target].new_counts(),
        pg=pg,
    )
    settle(master)
    return run


def run_config(config, procs, sim, workdir: Path, cells: list[Cell], args, runs: list[Run]):
    """Every cell against the console of ``config`` (and the bare sender), appended to
    ``runs`` as they finish; a run that fails is reported and the next one goes on."""
    failures = 0
    with common.prepared_console(config, workdir, sim) as prepared:
        for shape in dict.fromkeys(cell.shape for cell in cells):
            mine = [c for c in cells if c.shape == shape]
            need_bare = any("bare" in c.targets for c in mine)
            servers = Servers(procs, sim, prepared, shape, need_bare, args.console_env)
            try:
                print(f"[{config}] server shape {shape.label}: {describe_servers(servers)}")
                for cell in mine:
                    order = cell.targets if len(runs) % 2 == 0 else cell.targets[::-1]
                    for target in order:
                        number = len(runs) + failures
                        try:
                            run = measure(
                                config, servers, sim, prepared, cell, target, args, number
                            )
                        except Exception as exc:  # reported; the other runs still count
                            failures += 1
                            print(
                                f"[{config}] {cell.latency} ms, {cell.conns} conns, "
                                f"{shape.label}, {target}: RUN FAILED: {exc!r}"[:600],
                                flush=True,
                            )
                            continue
                        runs.append(run)
                        print(progress_line(run), flush=True)
            finally:
                servers.stop()


def describe_servers(servers: Servers) -> str:
    """Worker counts of both servers once they have booted (they must be equal)."""

    def counts() -> tuple[int, int]:
        bare = servers.bare.process.pid if servers.bare else None
        return (
            len(common.child_pids(servers.console.process.pid)),
            len(common.child_pids(bare)) if bare else -1,
        )

    deadline, seen = time.monotonic() + 15, counts()
    while time.monotonic() < deadline and (seen[1] not in (-1, seen[0]) or seen[0] == 0):
        time.sleep(0.5)
        seen = counts()
    time.sleep(1.0)  # the last workers may still be booting
    console, bare = counts()
    text = f"console {console} workers"
    if servers.bare is not None:
        text += f", bare {bare} workers (bare_server: {servers.resolved()})"
        if bare != console:
            text += " - WORKER COUNTS DIFFER: the shapes are not the same"
    return text


# -- reporting --------------------------------------------------------------------------------


def progress_line(run: Run) -> str:
    load, cell = run.load, run.cell
    split = "/".join(f"{s / max(run.seconds, 1e-9):.2f}" for s in run.worker_cpu_s)
    cpu = ", ".join(f"{name} {1000 * s / max(1, load['ok']):.1f}" for name, s in run.cpu_s.items())
    parts = [
        f"[{run.config}] {cell.latency} ms, {cell.conns} conns, {cell.shape.label}, "
        f"{run.target}{' (long)' if cell.tag else ''}: {run.rps:.1f} starts/s, "
        "p50/p95/p99 " + "/".join(fmt_ms(load[k]) for k in ("p50_ms", "p95_ms", "p99_ms")) + " ms",
        f"statuses {load['status']}",
        f"CPU ms/start: {cpu}; worker cores {split}; machine busy {run.host_cores:.2f} cores",
        f"threads per worker {run.threads}",
    ]
    if cell.latency and run.fault_hits < 0.9 * load["requests"]:  # hits include the warm-up's
        parts.append(f"WARNING: {run.fault_hits} delayed sends for {load['requests']} requests")
    if run.pg:
        parts.append(f"PostgreSQL connections (most seen): {run.pg}")
    if run.log_counts:
        parts.append(f"log: {run.log_counts}")
    return "\n    ".join(parts)


def fmt_ms(value) -> str:
    return "-" if value is None else f"{value:.0f}"


def table(runs: list[Run], resolved: dict[str, str]) -> str:
    headers = ["latency ms", "conns", "shape", "target", "starts/s", "p50 ms", "p99 ms",
               "errors", "timeouts", "worker CPU ms/start", "machine busy cores"]  # fmt: skip
    rows = []
    for run in runs:
        cell = run.cell
        shape = resolved.get(cell.shape.label, cell.shape.label)
        if cell.tag:
            shape += f" ({cell.duration:.0f} s)"
        rows.append([cell.latency, cell.conns, shape, run.target, run.rps,
                     fmt_ms(run.load["p50_ms"]), fmt_ms(run.load["p99_ms"]), run.errors,
                     run.timeouts, run.worker_ms, run.host_cores])  # fmt: skip
    return common.Table(headers, rows).render()


def find(runs, *, latency, conns, shape, target, tag="") -> Run | None:
    for run in runs:
        cell = run.cell
        if (cell.latency, cell.conns, cell.shape, run.target, cell.tag) == (
            latency,
            conns,
            shape,
            target,
            tag,
        ):
            return run
    return None


def ratios(runs: list[Run], args) -> list[str]:
    base = args.ratio_shape
    label = f"shape {base.label}"
    lines = []

    def ratio(a: Run | None, b: Run | None) -> float:
        return a.rps / b.rps if a and b and b.rps else float("nan")

    slow = find(runs, latency=300, conns=256, shape=base, target="console")
    fast = find(runs, latency=0, conns=256, shape=base, target="console")
    if slow and fast:
        value = ratio(slow, fast)
        lines.append(
            f"1. latency hiding ({label}, 256 conns): console 300 ms / 0 ms = "
            f"{slow.rps:.1f} / {fast.rps:.1f} = {value:.2f} (target ≥ {HIDING_TARGET}) "
            f"{common.verdict(value, HIDING_TARGET, higher_is_better=True)}"
        )
    mid = find(runs, latency=100, conns=8, shape=base, target="console")
    if mid:
        p50, p99 = mid.load["p50_ms"] or float("nan"), mid.load["p99_ms"] or float("nan")
        bare = find(runs, latency=100, conns=8, shape=base, target="bare")
        extra = (
            f" (bare p50 {fmt_ms(bare.load['p50_ms'])}, p99 {fmt_ms(bare.load['p99_ms'])} ms)"
            if bare
            else ""
        )
        lines.append(
            f"2. 100 ms, 8 conns ({label}): console p50 {p50:.0f} ms (target ≤ {P50_TARGET_MS:.0f})"
            f" {common.verdict(p50, P50_TARGET_MS)}, p99 {p99:.0f} ms (target ≤ "
            f"{P99_TARGET_MS:.0f}) {common.verdict(p99, P99_TARGET_MS)}{extra}; "
            f"{mid.rps:.1f} starts/s"
        )
    long = find(runs, latency=300, conns=256, shape=base, target="console", tag="long")
    if long:
        ok = long.errors == 0 and long.timeouts == 0
        lines.append(
            f"3. 300 ms, 256 conns, {long.cell.duration:.0f} s, {args.timeout:.0f} s client "
            f"timeout ({label}): errors {long.errors}, timeouts {long.timeouts} (target 0) "
            f"{'ok' if ok else 'MISSED'}; {long.rps:.1f} starts/s, p99 "
            f"{fmt_ms(long.load['p99_ms'])} ms, statuses {long.load['status']}"
        )
    old = find(runs, latency=300, conns=256, shape=OLD_SHAPE, target="console")
    if slow and old:
        value = ratio(slow, old)
        lines.append(
            f"4. 300 ms, 256 conns: {label} / 2x4 = {slow.rps:.1f} / {old.rps:.1f} = "
            f"{value:.2f} (target ≥ {SHAPE_TARGET:.0f}) "
            f"{common.verdict(value, SHAPE_TARGET, higher_is_better=True)}; 2x4 had "
            f"{old.errors} errors, {old.timeouts} timeouts"
        )
    parts = []
    for conns in sorted({OTP_THROUGHPUT_CONCURRENCY, 16}):
        console = find(runs, latency=0, conns=conns, shape=base, target="console")
        bare = find(runs, latency=0, conns=conns, shape=base, target="bare")
        if console and bare:
            note = " (otp_throughput's concurrency)" if conns == OTP_THROUGHPUT_CONCURRENCY else ""
            parts.append(
                f"{conns} conns{note}: {console.rps:.1f} / {bare.rps:.1f} = "
                f"{ratio(console, bare):.2f}"
            )
    if parts:
        lines.append(f"5. console/bare at 0 ms ({label}): " + "; ".join(parts))
    return lines


# -- main -------------------------------------------------------------------------------------


def env_pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    # PYTHONPATH serves another checkout of the console (a before/after comparison:
    # ``--console-env PYTHONPATH=/path/to/worktree``); the database is set up by this one.
    if not sep or not (name.startswith("KMSG_") or name == "PYTHONPATH"):
        raise ValueError(f"expected KMSG_NAME=VALUE or PYTHONPATH=DIR: {text!r}")
    return name, value


def int_list(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", choices=[*CONFIGS, "both"], default="both")
    parser.add_argument("--duration", type=float, help="measured seconds per run (default 10)")
    parser.add_argument(
        "--long-duration", type=float, help="seconds of acceptance 3's run (default 30)"
    )
    parser.add_argument("--warmup", type=float, help="seconds before each run measures (2)")
    parser.add_argument("--timeout", type=float, default=10.0, help="client timeout per request")
    parser.add_argument("--latencies", type=int_list, help="simulator ms (default 0,100,300)")
    parser.add_argument(
        "--connections", type=int_list, help="client connections (default 16,64,256)"
    )
    parser.add_argument(
        "--shape",
        dest="shapes",
        action="append",
        type=common.ServerShape.parse,
        help="server shape of the grid, WORKERSxTHREADS or default (repeatable; default: default)",
    )
    parser.add_argument(
        "--ratio-shape",
        type=common.ServerShape.parse,
        default=common.ServerShape(),
        help="the shape the acceptance ratios take as serve's default (default: default)",
    )
    parser.add_argument("--quick", action="store_true", help="a reduced grid: a smoke run")
    parser.add_argument(
        "--console-env",
        action="append",
        type=env_pair,
        help="NAME=VALUE more environment for kmsg-console serve, e.g. KMSG_DB_POOL_SIZE=8",
    )
    parser.add_argument("--keep-logs", type=Path, help="copy the servers' logs into this folder")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--only-ratios", action="store_true", help="just the ratios' runs")
    group.add_argument("--no-ratios", action="store_true", help="just the grid")
    args = parser.parse_args()
    quick = args.quick
    defaults = {
        "duration": 5.0 if quick else 10.0,
        "long_duration": 10.0 if quick else 30.0,
        "warmup": 1.0 if quick else 2.0,
        "latencies": [0, 300] if quick else [0, 100, 300],
        "connections": [16, 256] if quick else [16, 64, 256],
        "shapes": [common.ServerShape()],
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.shapes = list(dict.fromkeys(args.shapes))
    args.console_env = dict(args.console_env or ())
    args.ratios = not args.no_ratios

    cells = plan(args)
    configs = CONFIGS[:2] if args.config == "both" else (args.config,)
    runs_per_config = sum(len(c.targets) for c in cells)
    print(common.machine_line())
    print(
        f"plan per config: {runs_per_config} runs in {len({c.shape for c in cells})} server "
        f"shape(s) ({', '.join(dict.fromkeys(c.shape.label for c in cells))}); "
        f"{args.warmup:.0f} s warm-up + {args.duration:.0f} s per run, client timeout "
        f"{args.timeout:.0f} s; about {estimate_s(cells, args) / 60:.1f} min per config"
        + (f"; console environment {args.console_env}" if args.console_env else ""),
        flush=True,
    )
    results: dict[str, tuple[list[Run], dict[str, str]]] = {}
    with common.temp_dir() as workdir, common.Processes() as procs:
        sim = common.Simulator(procs, workdir)
        try:
            for config in configs:
                started = time.monotonic()
                runs: list[Run] = []
                results[config] = (runs, {})
                run_config(config, procs, sim, workdir, cells, args, runs)
                print(f"[{config}] took {(time.monotonic() - started) / 60:.1f} min", flush=True)
        finally:  # what was measured is printed even when a configuration failed
            for config, (_runs, resolved) in results.items():
                resolved.update(resolved_labels(workdir / config.replace("+", "-")))
            if args.keep_logs:
                args.keep_logs.mkdir(parents=True, exist_ok=True)
                for log in workdir.rglob("*.log"):
                    name = "-".join(log.relative_to(workdir).parts)
                    shutil.copyfile(log, args.keep_logs / name)
            report(results, args)


def report(results: dict[str, tuple[list[Run], dict[str, str]]], args) -> None:
    for config, (runs, resolved) in results.items():
        if not runs:
            continue
        print(f"\n[{config}]")
        print(table(runs, resolved))
        if args.ratios:
            print(f"\n[{config}] acceptance:")
            for line in ratios(runs, args):
                print("  " + line)
    print(
        "\nerrors = connection errors + HTTP error answers; timeouts = no answer within the "
        "client timeout; p50/p99 over every request finished after the warm-up"
    )


def resolved_labels(folder: Path) -> dict[str, str]:
    """``default`` -> ``default (2x4)``, from what bare_server.py printed."""
    labels = {}
    for log in folder.glob("bare-*.log"):
        label = log.stem.removeprefix("bare-")
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("bare_server:") and not label[0].isdigit():
                words = line.split()
                labels[label] = f"{label} ({words[1]}x{words[4]})"
                break
    return labels


if __name__ == "__main__":
    main()
