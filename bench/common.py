"""Shared helpers of the benchmarks: throw-away databases, apps, timing statistics, processes.

Every benchmark creates what it measures and removes it afterwards: a SQLite file in a
temporary folder or a PostgreSQL database with a fresh name (dropped at the end), Redis keys
under a prefix of its own (deleted at the end), child processes it started (stopped by pid).
Everything it talks to is on 127.0.0.1.

The machine these numbers come from is shared and small (2 cores), so absolute times move
from run to run; what the scripts print as results are medians and ratios measured within
one run.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/x.py` puts bench/ first, not the project
    sys.path.insert(0, str(ROOT))

LOOPBACK = "127.0.0.1"
#: Where throw-away PostgreSQL databases are created (the server's maintenance database).
POSTGRES_ADMIN_URL = os.environ.get(
    "KMSG_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("KMSG_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
BACKENDS = ("sqlite", "postgresql")


# -- safety -----------------------------------------------------------------------------------


def require_loopback(url: str) -> str:
    """Refuse any URL whose host is not this machine (benchmarks never leave 127.0.0.1)."""
    parts = urlsplit(url.replace("postgresql+psycopg", "postgresql"))
    if parts.scheme.startswith("sqlite"):
        return url
    if parts.hostname not in (LOOPBACK, "localhost"):
        raise SystemExit(f"refusing to benchmark against {parts.hostname!r}: only 127.0.0.1")
    return url


# -- keys and apps ----------------------------------------------------------------------------


def fresh_keys() -> dict[str, str]:
    """Session, encryption and hash keys as production sets them (``KMSG_*`` environment)."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ENCRYPTION_KEYS": "k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "HASH_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }


def keys_env(keys: dict[str, str]) -> dict[str, str]:
    return {f"KMSG_{name}": value for name, value in keys.items()}


def make_app(database_url: str, instance_path: Path, keys: dict[str, str], **config: Any):
    """The console app on ``database_url``, configured like production (not TESTING)."""
    from kmsg_console import create_app

    settings = {
        "DATABASE_URL": require_loopback(database_url),
        "INSTANCE_PATH": str(instance_path),
        "LOG_LEVEL": "WARNING",
        **keys,
        **config,
    }
    return create_app(settings)


def migrate(app) -> None:
    from kmsg_console import migrate as migrations
    from kmsg_console.extensions import dispose_engines

    migrations.upgrade(app)
    with app.app_context():
        dispose_engines()


# -- throw-away databases ---------------------------------------------------------------------


@contextlib.contextmanager
def temp_dir(prefix: str = "kmsg-bench-") -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    """A new, empty database of ``kind`` (``sqlite`` or ``postgresql``); dropped on exit."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'kmsg.db'}"
        return
    if kind != "postgresql":
        raise ValueError(kind)
    admin = sa.create_engine(require_loopback(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT")
    name = f"kmsg_bench_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        raise SystemExit(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc.orig}"
        ) from exc
    try:
        yield (
            sa.engine.make_url(POSTGRES_ADMIN_URL)
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def redis_prefix() -> Iterator[str]:
    """A Redis key prefix of our own; every key under it is deleted on exit."""
    import redis

    prefix = f"kmsg-bench-{uuid.uuid4().hex[:8]}:"
    client = redis.Redis.from_url(require_loopback(REDIS_URL))
    try:
        client.ping()
    except redis.RedisError as exc:
        raise SystemExit(f"Redis is not reachable at {REDIS_URL}: {exc}") from exc
    try:
        yield prefix
    finally:
        names = list(client.scan_iter(match=prefix + "*", count=1000))
        for start in range(0, len(names), 1000):
            client.delete(*names[start : start + 1000])
        client.close()


# -- operators --------------------------------------------------------------------------------

OPERATOR_PASSWORD = "bench-" + secrets.token_urlsafe(12)


def create_operator(app, role_name: str = "operator") -> str:
    """An operator to sign in as (production Argon2 parameters); returns the e-mail."""
    from kmsg_console.extensions import db
    from kmsg_console.operators.models import Role
    from kmsg_console.operators.services import create_operator as create

    email = f"bench-{uuid.uuid4().hex[:6]}@example.com"
    with app.app_context():
        create(email, OPERATOR_PASSWORD, Role(role_name))
        db.session.commit()
    return email


def login(client, email: str, password: str = OPERATOR_PASSWORD) -> None:
    """Sign in through the real login form (CSRF token taken from the page)."""
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', page)
    if match is None:
        raise RuntimeError("no CSRF token on /login")
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": match.group(1)}
    )
    if response.status_code != 302:
        raise RuntimeError(f"login failed: HTTP {response.status_code}")


# -- statistics -------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in 0..1)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, int(round(fraction * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def timed(fn, *args, **kwargs) -> tuple[float, Any]:
    """(milliseconds, result) of one call."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return (time.perf_counter() - start) * 1000, result


@dataclass
class Table:
    """A plain-text table for the console (and the README)."""

    headers: Sequence[str]
    rows: list[Sequence[Any]]

    def render(self) -> str:
        cells = [[str(h) for h in self.headers]] + [[_fmt(v) for v in row] for row in self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.headers))]
        lines = []
        for n, row in enumerate(cells):
            lines.append(
                "  ".join(
                    cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                    for i, cell in enumerate(row)
                ).rstrip()
            )
            if n == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def verdict(value: float, target: float, *, higher_is_better: bool = False) -> str:
    ok = value >= target if higher_is_better else value <= target
    return "ok" if ok else "MISSED"


def machine_line() -> str:
    """Cores and load at the start, so a reader can tell a busy machine from a slow change."""
    load = os.getloadavg()
    return (
        f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
        f"Python {sys.version.split()[0]}"
    )


# -- memory -----------------------------------------------------------------------------------


def proc_status(pid: int | str = "self") -> dict[str, int]:
    """``VmRSS``/``VmHWM`` (and the other ``Vm*`` lines) of a process, in kB."""
    values = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("Vm"):
                name, _sep, rest = line.partition(":")
                values[name] = int(rest.split()[0])
    return values


def reset_peak_rss() -> bool:
    """Reset this process's ``VmHWM`` to its current RSS (Linux ``clear_refs`` 5)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


# -- processes --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 60.0, process: subprocess.Popen | None = None) -> None:
    """Wait until ``url`` answers (any HTTP status)."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            requests.get(require_loopback(url), timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


class Processes:
    """Child processes started by a benchmark, each in its own process group, stopped by pid."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []

    def start(
        self, args: Sequence[str], *, env: dict[str, str] | None = None, log: Path | None = None
    ) -> subprocess.Popen:
        out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
        process = subprocess.Popen(  # noqa: S603 - commands of the benchmarks themselves
            list(args),
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=ROOT,
        )
        if log:
            out.close()
        self.started.append(process)
        return process

    def stop(self, process: subprocess.Popen, timeout: float = 15.0) -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)  # the group we created for it
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        if process in self.started:
            self.started.remove(process)

    def stop_all(self) -> None:
        for process in reversed(list(self.started)):
            self.stop(process)

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop_all()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds used by named groups of processes between :meth:`start` and :meth:`stop`."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = groups
        self.before: dict[str, float] = {}
        self.used: dict[str, float] = {}

    def _read(self) -> dict[str, float]:
        return {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in self.groups.items()}

    def start(self) -> None:
        self.before = self._read()

    def stop(self) -> dict[str, float]:
        after = self._read()
        self.used = {name: after[name] - self.before.get(name, 0.0) for name in after}
        return self.used


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (gunicorn's workers of its master)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except OSError:
        return []


def thread_count(pid: int) -> int:
    """Threads of a process right now (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def host_cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot (``/proc/stat``)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


# -- the OTP benchmarks: simulator, bare sender, configured console ----------------------------
#
# Shared by otp_throughput.py and latency.py (and, through otp_throughput, the scripts that
# build on it).

BENCH = Path(__file__).resolve().parent
CONSOLE = str(Path(sys.executable).with_name("kmsg-console"))
CODE_RE = re.compile(r"\[(\d{4,10})\]")
#: The SOLAPI send endpoints on the simulator (relative to its ``/solapi`` prefix).
SOLAPI_SEND_PATH = "/messages/v4/send*"
#: The benchmark configurations: the embedded default, PostgreSQL, PostgreSQL + Redis.
OTP_CONFIGS = ("sqlite", "postgresql", "postgresql+redis")


@dataclass(frozen=True)
class ServerShape:
    """gunicorn workers x threads per worker; ``None`` = what ``kmsg-console serve`` uses
    when it is not given that option (its defaults)."""

    workers: int | None = None
    threads: int | None = None

    @classmethod
    def parse(cls, text: str) -> ServerShape:
        """``"default"``, ``"2x4"`` (workers x threads)."""
        if text.strip().lower() == "default":
            return cls()
        workers, sep, threads = text.strip().lower().partition("x")
        if not sep or not workers.isdigit() or not threads.isdigit():
            raise ValueError(f"not a server shape (WORKERSxTHREADS or default): {text!r}")
        if int(workers) < 1 or int(threads) < 1:
            raise ValueError(f"workers and threads must be at least 1: {text!r}")
        return cls(int(workers), int(threads))

    @property
    def label(self) -> str:
        if self.workers is None and self.threads is None:
            return "default"
        workers = "d" if self.workers is None else str(self.workers)
        threads = "d" if self.threads is None else str(self.threads)
        return f"{workers}x{threads}"

    def flags(self) -> list[str]:
        """The options of ``kmsg-console serve`` / ``bare_server.py`` for this shape."""
        flags = []
        if self.workers is not None:
            flags += ["--workers", str(self.workers)]
        if self.threads is not None:
            flags += ["--threads", str(self.threads)]
        return flags


class Simulator:
    """``kmsg-console fake-providers`` (the vendor simulators) on a free port."""

    def __init__(self, procs: Processes, workdir: Path) -> None:
        self.port = free_port()
        self.base = f"http://{LOOPBACK}:{self.port}"
        self.process = procs.start(
            [CONSOLE, "fake-providers", "--host", LOOPBACK, "--port", str(self.port)],
            log=workdir / "simulator.log",
        )
        wait_http(self.base + "/_control/", process=self.process)

    def clear(self) -> None:
        """Empty state (recorded requests, messages, salts, faults) and a balance that never
        runs out."""
        import requests

        requests.post(self.base + "/_control/clear", timeout=30).raise_for_status()
        requests.post(
            self.base + "/_control/balances/solapi", json={"amount": 1e12}, timeout=30
        ).raise_for_status()

    def set_latency(self, ms: int) -> None:
        """Every SOLAPI send answers ``ms`` later (a latency fault through the control API,
        armed until the next :meth:`clear`); 0 arms nothing."""
        import requests

        if ms <= 0:
            return
        requests.post(
            self.base + "/_control/faults",
            json={
                "vendor": "solapi",
                "mode": "latency",
                "path": SOLAPI_SEND_PATH,
                "method": "POST",
                "ms": int(ms),
                "count": None,  # until cleared
            },
            timeout=30,
        ).raise_for_status()

    def fault_hits(self) -> int:
        """SOLAPI sends delayed by the armed faults since the last :meth:`clear`."""
        import requests

        faults = requests.get(self.base + "/_control/faults", timeout=30).json()["faults"]
        return sum(int(f.get("hits") or 0) for f in faults)

    def codes_by_phone(self) -> dict[str, str]:
        import requests

        messages = requests.get(self.base + "/_control/messages/solapi", timeout=60).json()[
            "messages"
        ]
        found = {}
        for message in messages:
            match = CODE_RE.search(str(message.get("text") or ""))
            if match:
                found[str(message.get("to"))] = match.group(1)
        return found


class BareServer:
    """``bare_server.py`` (the bare sender under ``kmsg-console serve``'s gunicorn settings)
    on a free port, in the given server shape."""

    def __init__(
        self,
        procs: Processes,
        sim: Simulator,
        workdir: Path,
        shape: ServerShape = ServerShape(),  # noqa: B008 - frozen, never changed
        log: Path | None = None,
    ) -> None:
        port = free_port()
        self.url = f"http://{LOOPBACK}:{port}"
        self.log = log or workdir / "bare.log"
        self.process = procs.start(
            [sys.executable, str(BENCH / "bare_server.py"), "--port", str(port), *shape.flags()],
            env={"KMSG_BENCH_SOLAPI_URL": sim.base + "/solapi"},
            log=self.log,
        )
        wait_http(self.url + "/", process=self.process)


@dataclass
class PreparedConsole:
    """A console database configured for OTP load, and how to serve it."""

    config: str
    kind: str  # sqlite or postgresql
    folder: Path
    url: str  # the database
    app: Any  # the app the benchmark configured it with (for reading back what was written)
    env: dict[str, str]  # the environment ``kmsg-console serve`` runs with
    key: str  # API key with the otp scope


@contextlib.contextmanager
def prepared_console(config: str, workdir: Path, sim: Simulator) -> Iterator[PreparedConsole]:
    """A fresh database for ``config`` (one of :data:`OTP_CONFIGS`), migrated and configured
    the way an operator would (:func:`configure_console`); dropped on exit."""
    if config not in OTP_CONFIGS:
        raise ValueError(config)
    kind = "sqlite" if config == "sqlite" else "postgresql"
    folder = workdir / config.replace("+", "-")
    folder.mkdir()
    with database(kind, folder) as url, redis_prefix() as prefix:
        env = {
            "KMSG_INSTANCE_PATH": str(folder / "instance"),
            "KMSG_ADMIN_PASSWORD": secrets.token_urlsafe(16),
        }
        overrides: dict[str, str] = {"INSTANCE_PATH": env["KMSG_INSTANCE_PATH"]}
        if kind == "postgresql":  # production: database URL and keys from the environment
            keys = fresh_keys()
            env.update(keys_env(keys), KMSG_DATABASE_URL=url)
            overrides.update(keys, DATABASE_URL=url)
        if config.endswith("+redis"):
            env.update(KMSG_REDIS_URL=REDIS_URL, KMSG_REDIS_PREFIX=prefix)
            overrides.update(REDIS_URL=REDIS_URL, REDIS_PREFIX=prefix)
        from kmsg_console import create_app

        app = create_app(overrides)  # the embedded default generates its keys here, once
        migrate(app)
        key = configure_console(app, sim)
        yield PreparedConsole(config, kind, folder, url, app, env, key)


class ConsoleServer:
    """``kmsg-console serve`` of a prepared console on a free port, in the given shape."""

    def __init__(
        self,
        procs: Processes,
        prepared: PreparedConsole,
        shape: ServerShape = ServerShape(),  # noqa: B008 - frozen, never changed
        log: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        """``env``: more environment for the server (``KMSG_*`` settings to try)."""
        port = free_port()
        self.url = f"http://{LOOPBACK}:{port}"
        self.api = self.url + "/api/v1"
        self.log = log or prepared.folder / "console.log"
        # The web processes alone, as bare_server.py serves: the background worker's polling
        # would take CPU from the requests being measured.
        flags = ["--no-worker", *shape.flags()]
        self.process = procs.start(
            [CONSOLE, "serve", "--host", LOOPBACK, "--port", str(port), *flags],
            env={**prepared.env, **(env or {})},
            log=self.log,
        )
        wait_http(self.url + "/healthz", process=self.process)


def configure_console(app, sim: Simulator) -> str:
    """What an operator does before going live; returns the API key."""
    from kmsg_console.api_keys.services import issue_key
    from kmsg_console.extensions import db, dispose_engines
    from kmsg_console.providers import services as providers
    from kmsg_console.throttle import services as throttle
    from kmsg_console.throttle.models import ThrottlePolicy

    with app.app_context():
        providers.save_provider(
            None,
            vendor="solapi",
            code="solapi-main",
            name="SOLAPI (simulator)",
            values={
                "api_key": "demo-api-key",
                "api_secret": "demo-api-secret",
                "default_from": "0212345678",
                "base_url": sim.base + "/solapi",
            },
            enabled=True,
            actor=None,
        )
        db.session.flush()
        providers.save_routes(
            {"SMS": ["solapi-main"], "LMS": ["solapi-main"], "DEFAULT": ["solapi-main"]}, actor=None
        )
        throttle.ensure_default_policies()
        db.session.flush()
        for policy in db.session.scalars(sa.select(ThrottlePolicy)):
            # Raise every window as far as it goes: each decision is still made and counted.
            windows = [
                throttle.WindowData(
                    min(throttle.MAX_REQUESTS, w.window_seconds * 1000), w.window_seconds, w.id
                )
                for w in policy.windows
            ]
            throttle.update_policy(
                policy,
                throttle.PolicyData(
                    policy.name,
                    policy.mode,
                    policy.key_kind,
                    list(policy.actions),
                    windows,
                    policy.description,
                    policy.purpose,
                    policy.prefix,
                    policy.enabled,
                ),
                actor=None,
            )
        key = issue_key("bench-load", ["otp"], actor_label="bench").plaintext
        db.session.commit()
        dispose_engines()
    return key
