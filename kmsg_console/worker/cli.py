"""``kmsg-console worker`` and the child worker process of ``serve`` (unless ``--no-worker``)."""

from __future__ import annotations

import os
import subprocess
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from kmsg_console.worker import jobs

#: Set for the worker started by ``serve``: it stops when that process ends.
PARENT_ENV = "KMSG_WORKER_PARENT_PID"


@click.command("worker")
@click.option("--once", is_flag=True, help="Run every job one time and exit.")
@click.option(
    "--job",
    "job_names",
    multiple=True,
    type=click.Choice([j.name for j in jobs.JOBS]),
    help="With --once: only this job (repeat for several).",
)
@with_appcontext
def worker_command(once: bool, job_names: tuple[str, ...]) -> None:
    """Run the background jobs: status polling, fallback, OTP expiry, template sync, retention."""
    app = current_app._get_current_object()
    if once:
        outcomes = jobs.run_once(app, names=job_names or None)
        for name, outcome in outcomes.items():
            click.echo(f"{name}: {outcome}")
        if "error" in outcomes.values():
            raise SystemExit(1)
        return
    from kmsg_console.worker.runner import run_forever

    parent = os.environ.get(PARENT_ENV)
    run_forever(
        app, echo=click.echo, parent_pid=int(parent) if parent and parent.isdigit() else None
    )


def start_child_worker() -> subprocess.Popen:
    """Start ``kmsg-console worker`` as a child process of the web server (same environment)."""
    env = dict(os.environ, **{PARENT_ENV: str(os.getpid())})
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module, no user input
        [sys.executable, "-c", "from kmsg_console.cli import main; main()", "worker"], env=env
    )


def stop_child_worker(child: subprocess.Popen) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
