"""The console served the production way (``kmsg-console serve``: gunicorn) as a subprocess.

Used by the crash test: start it on a free loopback port, find its master and worker
processes, crash them all at once (SIGSTOP every one, then SIGKILL, so no worker notices
its master dying and finishes requests gracefully), or stop it politely.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

KMSG_CONSOLE = str(Path(sys.executable).parent / "kmsg-console")
ADMIN_EMAIL = "crash-admin@example.com"
ADMIN_PASSWORD = "crash test admin password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            found += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class ServedConsole:
    """``kmsg-console serve`` on ``database_url`` with the instance folder ``instance_path``."""

    def __init__(
        self,
        *,
        database_url: str,
        instance_path: Path,
        log_path: Path,
        workers: int = 2,
        threads: int = 8,
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("KMSG_")}
        env.update(
            KMSG_DATABASE_URL=database_url,
            KMSG_INSTANCE_PATH=str(instance_path),
            KMSG_ADMIN_EMAIL=ADMIN_EMAIL,
            KMSG_ADMIN_PASSWORD=ADMIN_PASSWORD,
            KMSG_LOG_LEVEL="WARNING",
        )
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()/crash()
        self.process = subprocess.Popen(
            [
                KMSG_CONSOLE,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                # Only the web processes are crashed and counted; a background worker would
                # settle the interrupted sends the test inspects.
                "--no-worker",
            ],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.workers = workers

    def log_tail(self, size: int = 4000) -> str:
        return self.log_path.read_bytes()[-size:].decode(errors="replace")

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Until /readyz answers 200 and every worker process is up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the console exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                ready = requests.get(self.base_url + "/readyz", timeout=2).status_code == 200
            except requests.RequestException:
                ready = False
            if ready and len(self.worker_pids()) >= self.workers:
                return
            time.sleep(0.2)
        raise AssertionError(f"the console did not become ready:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        return _children(self.process.pid)

    def crash(self) -> list[int]:
        """SIGKILL the master and every worker, frozen first so none of them reacts."""
        pids = [self.process.pid, *self.worker_pids()]
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        pids = [self.process.pid, *self.worker_pids()]  # (none can fork while stopped)
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in pids):
            assert time.monotonic() < deadline, "killed processes are still alive"
            time.sleep(0.05)
        self._log.close()
        return pids

    def stop(self) -> None:
        """A graceful stop (SIGTERM to the master, which stops its workers)."""
        if self.process.poll() is None:
            pids = [self.process.pid, *self.worker_pids()]
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                for pid in pids:
                    if _alive(pid):
                        os.kill(pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()
