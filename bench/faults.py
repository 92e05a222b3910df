"""A primary provider down for a minute while OTP traffic flows, against a gunicorn-served console.

    .venv/bin/python bench/faults.py [--outage 60] [--before 10] [--after 10] [--rate 20]
                                     [--clients 8] [--backend sqlite|postgresql]

What it does, all on 127.0.0.1:

1. starts the SOLAPI and IWINV simulators in this process, each on a port of its own;
2. creates a throw-away database (a SQLite file in a temporary instance folder, or a fresh
   PostgreSQL database that is dropped at the end), configures SOLAPI as the primary and
   IWINV SMS as the secondary for SMS/LMS, and issues an API key;
3. serves the console with ``kmsg-console serve`` (gunicorn) on a free port;
4. starts OTP verifications (``POST /api/v1/verifications``, one number each) at a steady
   rate from several client threads: ``--before`` seconds with both vendors up, then SOLAPI
   goes down (connections refused, open ones reset) for ``--outage`` seconds, then it comes
   back for ``--after`` seconds;
5. prints totals: requests, answers by HTTP status, messages by final status and by route,
   sends each simulator received, lost messages (an accepted request without its log row,
   or a send a vendor received without one) and double sends (a number that reached a vendor
   more than once). It exits with status 1 if anything was lost, sent twice, or answered 5xx.

This is not a timed test: latencies are printed for information only.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/faults.py` puts bench/ first, not the project
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402

LOOPBACK = "127.0.0.1"
POSTGRES_ADMIN_URL = os.environ.get(
    "KMSG_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SENDER = "0212345678"
KMSG_CONSOLE = str(Path(sys.executable).parent / "kmsg-console")
PHASES = ("before", "outage", "after")
SEND_PATHS = {"solapi": "/messages/v4/send-many/detail", "iwinv_sms": "/api/v2/send/"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


# -- the database ---------------------------------------------------------------------------------


class Database:
    """A throw-away database: SQLite in the instance folder, or a fresh PostgreSQL database."""

    def __init__(self, backend: str, instance: Path) -> None:
        self.backend = backend
        self.name = None
        if backend == "sqlite":
            self.url = f"sqlite:///{instance / 'kmsg.db'}"
            return
        admin_url = sa.engine.make_url(POSTGRES_ADMIN_URL)
        if admin_url.host not in (LOOPBACK, "localhost"):
            raise SystemExit(f"refusing to use PostgreSQL on {admin_url.host!r}: only 127.0.0.1")
        self.admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.name = f"kmsg_bench_faults_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        self.url = admin_url.set(database=self.name).render_as_string(hide_password=False)

    def drop(self) -> None:
        if self.name is None:
            return
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def configure(database_url: str, instance: Path, sims) -> str:
    """Migrate, save both providers and the routing, and issue an OTP key (returned)."""
    from kmsg_console import create_app, migrate
    from kmsg_console.api_keys.services import issue_key
    from kmsg_console.extensions import db, dispose_engines
    from kmsg_console.otp.models import VerificationPurpose
    from kmsg_console.otp.services import ensure_default_purposes
    from kmsg_console.providers import services as provider_services

    app = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(instance)})
    migrate.upgrade(app)
    with app.test_request_context():
        provider_services.save_provider(
            None,
            vendor="solapi",
            code="solapi",
            name="SOLAPI (primary)",
            enabled=True,
            actor=None,
            values={
                "api_key": "demo-api-key",
                "api_secret": "demo-api-secret",
                "default_from": SENDER,
                "base_url": sims["solapi"].url("solapi"),
            },
        )
        provider_services.save_provider(
            None,
            vendor="iwinv",
            code="iwinv",
            name="IWINV SMS (secondary)",
            enabled=True,
            actor=None,
            values={
                "sms_api_key": "demo-sms-key",
                "sms_auth_key": "demo-sms-auth",
                "sender_number": SENDER,
                "sms_base_url": sims["iwinv"].url("iwinv_sms"),
            },
        )
        provider_services.save_routes(
            {"SMS": ["solapi", "iwinv"], "LMS": ["solapi", "iwinv"]}, actor=None
        )
        ensure_default_purposes()
        for purpose in db.session.scalars(sa.select(VerificationPurpose)):
            purpose.sender_number = SENDER
        key = issue_key("bench-faults", ["otp", "send"], actor_label="bench").plaintext
        db.session.commit()
        dispose_engines()
    return key


# -- the served console ---------------------------------------------------------------------------


class Served:
    """``kmsg-console serve`` as a child process (stopped by its pid)."""

    def __init__(self, database_url: str, instance: Path, workers: int, threads: int) -> None:
        self.port = free_port()
        self.base_url = f"http://{LOOPBACK}:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("KMSG_")}
        env.update(
            KMSG_DATABASE_URL=database_url,
            KMSG_INSTANCE_PATH=str(instance),
            KMSG_ADMIN_PASSWORD=secrets.token_urlsafe(18),
            KMSG_LOG_LEVEL="WARNING",
        )
        self.log_path = instance / "serve.log"
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 (our own console script)
            [
                KMSG_CONSOLE,
                "serve",
                "--host",
                LOOPBACK,
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--threads",
                str(threads),
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(
                    "the console exited:\n" + self.log_path.read_text(errors="replace")[-3000:]
                )
            try:
                if requests.get(self.base_url + "/readyz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.25)
        raise SystemExit("the console did not become ready")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log.close()


# -- the traffic ----------------------------------------------------------------------------------


@dataclass
class Call:
    phone: str
    phase_at_start: str
    phase_at_end: str
    status: int | None
    body: dict | None
    error: str | None
    seconds: float


class Traffic:
    """``clients`` threads sharing one paced schedule of ``rate`` OTP starts per second."""

    def __init__(self, base_url: str, key: str, rate: float, clients: int) -> None:
        self.base_url = base_url
        self.key = key
        self.interval = 1.0 / rate
        self.phase = PHASES[0]
        self.calls: list[Call] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.next_slot = time.monotonic()
        self.numbers = iter(range(1, 10_000_000))
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def _slot(self) -> tuple[float, str]:
        with self.lock:
            slot, self.next_slot = self.next_slot, self.next_slot + self.interval
            return slot, f"0103{next(self.numbers):07d}"

    def _run(self) -> None:
        session = requests.Session()
        headers = {"Authorization": f"Bearer {self.key}"}
        while not self.stop.is_set():
            slot, phone = self._slot()
            delay = slot - time.monotonic()
            if delay > 0 and self.stop.wait(delay):
                return
            phase, started = self.phase, time.monotonic()
            status = body = error = None
            try:
                response = session.post(
                    self.base_url + "/api/v1/verifications",
                    headers=headers,
                    json={"phone": phone, "purpose": "login"},
                    timeout=(5, 60),
                )
                status = response.status_code
                body = (
                    response.json()
                    if response.headers.get("Content-Type", "").startswith("application/json")
                    else {"raw": response.text[:200]}
                )
            except requests.RequestException as exc:
                error = type(exc).__name__
            call = Call(phone, phase, self.phase, status, body, error, time.monotonic() - started)
            with self.lock:
                self.calls.append(call)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)


# -- what happened --------------------------------------------------------------------------------


def recipients(vendor: str, body) -> list[str]:
    if not isinstance(body, dict):
        return []
    if vendor == "solapi":
        return [str(m.get("to")) for m in body.get("messages") or [] if isinstance(m, dict)]
    to = body.get("to")
    return [str(p) for p in to] if isinstance(to, list) else [str(to)]


def vendor_side(sim, vendor: str) -> tuple[Counter, Counter]:
    """(sends received, messages stored) per recipient, from the simulator's state."""
    received, stored = Counter(), Counter()
    for entry in sim.state.list_requests(vendor, SEND_PATHS[vendor]):
        for phone in recipients(vendor, entry.get("body")):
            received[phone] += 1
    for message in sim.state.current_messages(vendor):
        stored[str(message.get("to") or message.get("phone"))] += 1
    return received, stored


def database_side(database_url: str, instance: Path):
    """Every message row (recipient decrypted, attempts) and every verification's message id."""
    from sqlalchemy.orm import selectinload

    from kmsg_console import create_app
    from kmsg_console.extensions import db, dispose_engines
    from kmsg_console.otp.models import Verification
    from kmsg_console.sending.models import MessageLog

    app = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(instance)})
    with app.app_context():
        keyring = app.config["KEYRING"]
        logs = {}
        for log in db.session.scalars(
            sa.select(MessageLog).options(selectinload(MessageLog.attempts))
        ):
            phone = keyring.decrypt(log.to_enc, f"message:{log.public_id}:to")
            route = tuple(
                (a.provider_code, a.outcome) for a in sorted(log.attempts, key=lambda a: a.number)
            )
            logs[log.public_id] = (phone, log.status, route)
        verifications = dict(
            db.session.execute(
                sa.select(Verification.public_id, Verification.message_public_id)
            ).all()
        )
        dispose_engines()
    return logs, verifications


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


ROUTE_NAMES = {
    (("solapi", "accepted"),): "solapi",
    (("solapi", "failed"), ("iwinv", "accepted")): "solapi refused -> iwinv (failover)",
    (("solapi", "unknown"),): "solapi unknown (no failover)",
}


def report(
    args, traffic: Traffic, sims, database_url: str, instance: Path, outage_seconds: float
) -> int:
    calls = traffic.calls
    logs, verifications = database_side(database_url, instance)
    side = {
        vendor: vendor_side(sims[p], vendor)
        for p, vendor in (("solapi", "solapi"), ("iwinv", "iwinv_sms"))
    }
    by_phone: dict[str, list[tuple[str, str, tuple]]] = {}
    for public_id, (phone, status, route) in logs.items():
        by_phone.setdefault(phone, []).append((public_id, status, route))

    answers = Counter(
        str(c.status) if c.status is not None else f"no answer ({c.error})" for c in calls
    )
    accepted = [c for c in calls if c.status is not None and 200 <= c.status < 300]
    lost = []
    for call in accepted:  # an accepted request whose verification has no message row
        message_id = verifications.get((call.body or {}).get("id"))
        if message_id is None or message_id not in logs:
            lost.append(call.phone)
    for received, _stored in side.values():  # a vendor got a send nobody logged
        lost += [phone for phone in received if phone not in by_phone]
    reached = set().union(*(set(received) for received, _stored in side.values()))
    double = sorted(  # accepted more than once overall, or received twice by one vendor
        phone
        for phone in reached
        if sum(stored[phone] for _received, stored in side.values()) > 1
        or any(received[phone] > 1 for received, _stored in side.values())
    )
    five_xx = sum(n for status, n in answers.items() if status.isdigit() and int(status) >= 500)

    print(
        f"kmsg-console provider outage benchmark ({args.backend}, "
        f"gunicorn {args.workers}x{args.threads}, {args.clients} clients at {args.rate:g}/s)"
    )
    down = f"{outage_seconds:.1f} s SOLAPI down"
    print(f"phases: {args.before:g} s up, {down}, {args.after:g} s up again")
    print()
    print(f"requests (POST /api/v1/verifications): {len(calls)}")
    for phase in PHASES:
        inside = [c for c in calls if c.phase_at_start == c.phase_at_end == phase]
        ok = [c.seconds * 1000 for c in inside if c.status == 201]
        print(
            f"  {phase:<7} {len(inside):>6} wholly inside the phase"
            f"   p50 {percentile(ok, 0.5):7.1f} ms   p95 {percentile(ok, 0.95):7.1f} ms"
        )
    straddling = sum(1 for c in calls if c.phase_at_start != c.phase_at_end)
    print(f"  {'across a switch':<15} {straddling:>6}")
    print("answers by status:")
    for status, count in sorted(answers.items()):
        print(f"  {status:<28} {count:>6}")
    print(f"messages (log rows): {len(logs)}")
    print("messages by final status:")
    for status, count in sorted(Counter(s for _p, s, _r in logs.values()).items()):
        print(f"  {status:<28} {count:>6}")
    print("messages by route:")
    for route, count in Counter(r for _p, _s, r in logs.values()).most_common():
        name = ROUTE_NAMES.get(route, " -> ".join(f"{p} {o}" for p, o in route))
        print(f"  {name:<40} {count:>6}")
    print("sends received by each simulator (accepted and stored):")
    for vendor, (received, stored) in side.items():
        got, kept = sum(received.values()), sum(stored.values())
        print(f"  {vendor:<10} received {got:>6}   stored {kept:>6}")
    during = [c for c in calls if c.phase_at_start == c.phase_at_end == "outage"]
    failed_over = sum(1 for c in during if c.status == 201)
    if during:
        print(
            f"OTP starts answered 201 while SOLAPI was down: {failed_over}/{len(during)} "
            f"({failed_over / len(during):.1%})"
        )
    print(f"lost messages (accepted request or vendor send without a log row): {len(lost)}")
    print(f"double sends (a number reaching the vendors more than once): {len(double)}")
    print(f"console 5xx answers: {five_xx}")
    if lost:
        print("  lost:", lost[:20])
    if double:
        print("  double:", double[:20])
    return 1 if lost or double or five_xx else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outage", type=float, default=60.0, help="seconds SOLAPI is down (60)")
    parser.add_argument("--before", type=float, default=10.0, help="seconds of traffic before (10)")
    parser.add_argument("--after", type=float, default=10.0, help="seconds of traffic after (10)")
    parser.add_argument("--rate", type=float, default=20.0, help="OTP starts per second (20)")
    parser.add_argument("--clients", type=int, default=8, help="client threads (8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (4)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--keep", action="store_true", help="keep the instance folder (logs)")
    args = parser.parse_args()

    from kmsg_console.providers.simulators import SimulatorOptions, SimulatorServer

    instance = Path(tempfile.mkdtemp(prefix="kmsg-bench-faults-"))
    options = dict(delivery_step_seconds=None, max_recorded_requests=1_000_000)
    sims = {
        "solapi": SimulatorServer(SimulatorOptions(**options)).start(),
        "iwinv": SimulatorServer(SimulatorOptions(**options)).start(),
    }
    database = served = None
    try:
        database = Database(args.backend, instance)
        key = configure(database.url, instance, sims)
        served = Served(database.url, instance, args.workers, args.threads)
        served.wait_ready()
        traffic = Traffic(served.base_url, key, args.rate, args.clients)
        traffic.start()
        time.sleep(args.before)
        traffic.phase = "switching"
        sims["solapi"].take_down()
        down_at = time.monotonic()
        traffic.phase = "outage"
        time.sleep(args.outage)
        traffic.phase = "switching"
        sims["solapi"].bring_up()
        outage_seconds = time.monotonic() - down_at
        traffic.phase = "after"
        time.sleep(args.after)
        traffic.finish()
        served.stop()
        return report(args, traffic, sims, database.url, instance, outage_seconds)
    finally:
        if served is not None:
            served.stop()
        for sim in sims.values():
            sim.stop()
        if database is not None:
            database.drop()
        if args.keep:
            print(f"instance folder kept: {instance}")
        else:
            shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
