"""``kmsg-console worker``: one round with --once, a long-running process, and its health."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.orm import utcnow
from kmsg_console.sending.models import MessageLog
from kmsg_console.worker import jobs
from kmsg_console.worker.cli import PARENT_ENV
from kmsg_console.worker.health import worker_health
from kmsg_console.worker.models import WorkerJob
from tests.worker.conftest import load, send


def _make_due(app, public_id: str) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(MessageLog)
            .where(MessageLog.public_id == public_id)
            .values(next_check_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()


def test_worker_once_runs_every_job_one_round(app, simulator, route):
    route("sandbox")
    message = send(app)
    _make_due(app, message)
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ") for line in result.output.strip().splitlines())
    assert set(lines) == {job.name for job in jobs.JOBS}
    # Every job runs: none is missing its feature or reports itself unavailable.
    assert set(lines.values()) == {"ok"}, lines
    assert load(app, message).status == "DELIVERED"
    with app.app_context():
        health = worker_health()
        assert health["running"] and health["backlog"]["due"] == 0
        rows = {row.name: row for row in db.session.scalars(sa.select(WorkerJob))}
        assert rows["delivery_tracking"].last_result["delivered"] == 1
        assert all(row.lease_owner is None for row in rows.values())
        assert {row.name: row.last_outcome for row in rows.values()} == {
            job.name: "ok" for job in jobs.JOBS
        }
        assert rows["template_sync"].last_result["errors"] == []


def test_singleton_jobs_run_once_per_interval_and_respect_a_held_lease(app):
    job = jobs.BY_NAME["retention"]
    with app.app_context():
        jobs.ensure_rows()
        assert jobs.run_job(job, "worker-a") == "ok"
        assert jobs.run_job(job, "worker-b") == "skipped"  # ran within its interval
        db.session.execute(
            sa.update(WorkerJob)
            .where(WorkerJob.name == job.name)
            .values(lease_owner="worker-a", lease_until=utcnow() + timedelta(minutes=5))
        )
        db.session.commit()
        assert jobs.run_job(job, "worker-b", force=True) == "skipped"  # someone else holds it
        db.session.execute(
            sa.update(WorkerJob)
            .where(WorkerJob.name == job.name)
            .values(lease_until=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        assert jobs.run_job(job, "worker-b", force=True) == "ok"  # an expired lease is taken over
        assert db.session.get(WorkerJob, job.name).runs == 2


def test_health_reports_no_worker_and_a_late_backlog(app, simulator, route):
    route("sandbox")
    message = send(app)
    with app.app_context():
        db.session.execute(
            sa.update(MessageLog)
            .where(MessageLog.public_id == message)
            .values(next_check_at=utcnow() - timedelta(minutes=10))
        )
        db.session.commit()
        health = worker_health()
    assert health["running"] is False and health["last_run"] is None
    assert health["backlog"] == {"due": 1, "late": 1, "tracked": 1, "fallback_due": 0}


def _worker_process(database_url, instance_dir, **env):
    environ = dict(
        os.environ, KMSG_DATABASE_URL=database_url, KMSG_INSTANCE_PATH=str(instance_dir), **env
    )
    return subprocess.Popen(
        [sys.executable, "-c", "from kmsg_console.cli import main; main()", "worker"],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _wait(predicate, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_long_running_worker_polls_and_stops_on_sigterm(
    app, database_url, instance_dir, simulator, route
):
    route("sandbox")
    message = send(app)
    _make_due(app, message)
    process = _worker_process(database_url, instance_dir)
    try:
        assert _wait(lambda: load(app, message).status == "DELIVERED"), "the worker did not poll"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert b"running delivery_tracking" in process.stdout.read()


def test_child_worker_stops_when_its_server_is_gone(app, database_url, instance_dir):
    # serve names its pid to its worker; a worker whose parent is not that pid is orphaned.
    process = _worker_process(database_url, instance_dir, **{PARENT_ENV: "1"})
    try:
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
