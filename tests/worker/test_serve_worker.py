"""``kmsg-console serve`` runs the background worker beside the web server unless told not to.

Without it a first install would never track deliveries, send AlimTalk fallbacks or expire
OTPs: the README's one command has to start everything.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from kmsg_console import cli, server
from kmsg_console.extensions import db
from kmsg_console.orm import utcnow
from kmsg_console.sending.models import MessageLog
from kmsg_console.worker import cli as worker_cli
from tests.worker.conftest import load, send

KMSG_CONSOLE = str(Path(sys.executable).parent / "kmsg-console")


@pytest.fixture
def served(monkeypatch):
    """``serve`` with its database, gunicorn and worker process replaced by recorders."""
    calls: list[str] = []
    child = object()
    monkeypatch.setattr(cli, "prepare_database", lambda app: None)
    monkeypatch.setattr(server, "run_gunicorn", lambda **options: calls.append("gunicorn"))
    monkeypatch.setattr(
        worker_cli, "start_child_worker", lambda: calls.append("worker started") or child
    )
    monkeypatch.setattr(
        worker_cli,
        "stop_child_worker",
        lambda process: calls.append("worker stopped" if process is child else "?"),
    )
    return calls


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], ["worker started", "gunicorn", "worker stopped"]),
        (["--with-worker"], ["worker started", "gunicorn", "worker stopped"]),
        (["--no-worker"], ["gunicorn"]),
    ],
)
def test_serve_runs_the_worker_unless_told_not_to(app, served, args, expected):
    result = app.test_cli_runner().invoke(args=["serve", *args])
    assert result.exit_code == 0, result.output
    assert served == expected


def test_the_worker_option_defaults_to_on_and_help_says_so(app):
    option = next(param for param in cli.serve.params if param.name == "with_worker")
    assert option.default is True
    assert (option.opts, option.secondary_opts) == (["--with-worker"], ["--no-worker"])
    result = app.test_cli_runner().invoke(args=["serve", "--help"])
    text = " ".join(result.output.split())
    assert "--with-worker / --no-worker" in text and "[default: with-worker]" in text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(predicate, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_serve_without_worker_options_tracks_deliveries(
    app, database_url, instance_dir, simulator, route, tmp_path
):
    """A message due for its status check is checked by the worker a plain ``serve`` started."""
    route("sandbox")
    message = send(app)
    with app.app_context():
        db.session.execute(
            sa.update(MessageLog)
            .where(MessageLog.public_id == message)
            .values(next_check_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    assert load(app, message).status == "SENT"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KMSG_")}
    env.update(
        KMSG_DATABASE_URL=database_url,
        KMSG_INSTANCE_PATH=str(instance_dir),
        KMSG_ADMIN_EMAIL="serve-admin@example.com",
        KMSG_ADMIN_PASSWORD="serve test admin password",
    )
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [KMSG_CONSOLE, "serve", "--port", str(_free_port()), "--workers", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        delivered = _wait(lambda: load(app, message).status == "DELIVERED")
        assert delivered, log_path.read_text(errors="replace")[-3000:]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert "kmsg-console worker" in log_path.read_text(errors="replace")
