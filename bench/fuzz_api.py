"""Fuzz the JSON API of a served console: thousands of generated requests, every check.

    .venv/bin/python bench/fuzz_api.py [--examples 1500] [--min-requests 5000] [--seed N]

What it does, all on this machine:

1. makes a temporary instance folder with an embedded SQLite database, migrates it and
   provisions it the way ``tests/api/test_fuzz.py`` does (sandbox provider, the default OTP
   purposes and throttle policies, an API key with the ``otp`` and ``send`` scopes);
2. serves it with ``kmsg-console serve`` (gunicorn, 2 processes x 4 threads) on a free
   127.0.0.1 port, the way the README tells operators to run it;
3. loads the OpenAPI document the server publishes at ``/api/v1/openapi.json`` and runs
   schemathesis' engine over every operation (examples, coverage, fuzzing and stateful phases,
   positive and negative data, every check) over real HTTP;
4. prints what was sent and found, stops the server, and exits 1 when any response was a 5xx,
   any response broke the document, any other check failed, or fewer requests than
   ``--min-requests`` were sent.

Served rather than in-process on purpose: gunicorn parses the HTTP itself (headers, encodings,
methods, bodies that werkzeug's test client would never produce), several worker processes
share one database, and 500s are seen as a client sees them. The in-process variant of the
same harness runs in the test suite on SQLite and PostgreSQL.
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
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.api.test_fuzz, the shared harness

import schemathesis  # noqa: E402

from tests.api.test_fuzz import fuzz_config, provision, run_fuzz  # noqa: E402

SUCCESS_PATHS = [
    ("POST /messages", 201),
    ("GET /messages/{id}", 200),
    ("POST /verifications", 201),
    ("POST /verifications/{id}/check", 200),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_ready(url: str, server: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"kmsg-console serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise SystemExit(f"the server did not answer {url} within {timeout:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--examples",
        type=int,
        default=1500,
        help="examples per operation in the fuzzing phase (default 1500)",
    )
    parser.add_argument(
        "--min-requests",
        type=int,
        default=5000,
        help="fail when fewer requests were sent (default 5000)",
    )
    parser.add_argument("--seed", type=int, default=None, help="schemathesis seed, to replay a run")
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="kmsg-fuzz-"))
    # This process provisions the instance and the server serves it: both read the same
    # settings (the embedded default, kmsg.db and the generated keys in the instance folder).
    for name in ("KMSG_DATABASE_URL", "KMSG_REDIS_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "KMSG_INSTANCE_PATH": str(instance),
            "KMSG_LOG_LEVEL": "WARNING",
            "KMSG_ADMIN_PASSWORD": secrets.token_urlsafe(18),
        }
    )

    from kmsg_console import create_app, migrate
    from kmsg_console.extensions import dispose_engines

    app = create_app()
    migrate.upgrade(app)
    api_key = provision(app)
    with app.app_context():
        dispose_engines()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = instance / "server.log"
    console = Path(sys.executable).with_name("kmsg-console")
    with log_path.open("wb") as log:
        server = subprocess.Popen(  # noqa: S603 (our own console script)
            [str(console), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=os.environ.copy(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_ready(f"{base}/readyz", server)
        schema = schemathesis.openapi.from_url(
            f"{base}/api/v1/openapi.json",
            config=fuzz_config(api_key, max_examples=args.examples, seed=args.seed),
        )
        started = time.monotonic()
        report = run_fuzz(schema)
        elapsed = time.monotonic() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and its workers: our session only
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

    by_class = report.by_class
    operations = sorted({label for label, _ in report.statuses})
    print(
        f"kmsg-console at {base} (gunicorn, 2 processes, SQLite), "
        f"schemathesis {schemathesis.__version__}"
    )
    print(
        f"requests generated:        {report.requests} in {elapsed:.0f} s "
        f"({report.requests / elapsed:.0f}/s) over {len(operations)} operations"
    )
    print(
        "responses by status class: "
        + ", ".join(f"{name} {by_class[name]}" for name in sorted(by_class))
    )
    for label in operations:
        statuses = sorted(
            (status, count) for (name, status), count in report.statuses.items() if name == label
        )
        print(f"  {label:34} " + " ".join(f"{status}:{count}" for status, count in statuses))
    print(f"5xx responses:             {report.server_errors}")
    print(f"schema violations:         {report.schema_violations}")
    print(f"other check failures:      {report.other_check_failures}")
    missing = [
        f"{label} {status}" for label, status in SUCCESS_PATHS if not report.seen(label, status)
    ]
    if missing:
        print("success paths never reached: " + ", ".join(missing))
    problems = report.problems()
    if problems:
        print("\n" + problems)
        print(f"\nserver log: {log_path}")
    ok = (
        not problems
        and not missing
        and report.server_errors == 0
        and report.schema_violations == 0
        and report.requests >= args.min_requests
    )
    if report.requests < args.min_requests:
        print(f"only {report.requests} requests, fewer than --min-requests {args.min_requests}")
    print("OK" if ok else "FAILED")
    if ok:
        shutil.rmtree(instance, ignore_errors=True)
    else:
        print(f"instance folder kept: {instance}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
