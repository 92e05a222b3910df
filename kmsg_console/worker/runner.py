"""The long-running worker: APScheduler fires each job on its interval.

APScheduler only does the timing (interval triggers, no overlapping runs of one job,
coalescing missed runs); who may run what is decided in the database (see ``jobs``), so
any number of workers can run against PostgreSQL. With SQLite, run one.
"""

from __future__ import annotations

import logging
import os
import signal
from datetime import UTC, datetime
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler

from kmsg_console.extensions import db
from kmsg_console.worker import jobs

logger = logging.getLogger(__name__)


def _job_runner(app, job: jobs.JobSpec, owner: str):
    def run() -> None:
        with app.app_context():
            try:
                jobs.run_job(job, owner)
            finally:
                db.session.remove()

    run.__name__ = f"kmsg_{job.name}"
    return run


def build_scheduler(app, owner: str) -> BlockingScheduler:
    """A scheduler with every job on its interval, first runs at once."""
    scheduler = BlockingScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=len(jobs.JOBS))},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        timezone=UTC,
    )
    for job in jobs.JOBS:
        scheduler.add_job(
            _job_runner(app, job, owner),
            "interval",
            seconds=job.interval.total_seconds(),
            id=job.name,
            name=job.name,
            next_run_time=datetime.now(UTC),
        )
    return scheduler


def run_forever(app, *, echo=print, parent_pid: int | None = None) -> None:
    """Run the worker until SIGTERM or Ctrl-C (or until ``parent_pid`` is gone)."""
    owner = jobs.worker_id()
    with app.app_context():
        jobs.ensure_rows()
        if db.engine.dialect.name == "sqlite":
            logger.info("SQLite database: run a single worker")
        db.session.remove()
    scheduler = build_scheduler(app, owner)

    def stop(_signum: int, _frame: Any) -> None:
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    if parent_pid is not None:

        def watch_parent() -> None:
            if os.getppid() != parent_pid:  # re-parented: the web server is gone
                scheduler.shutdown(wait=False)

        scheduler.add_job(watch_parent, "interval", seconds=5, id="parent_watch")
    echo(f"kmsg-console worker {owner} running {', '.join(j.name for j in jobs.JOBS)}")
    try:
        scheduler.start()
    except KeyboardInterrupt:
        pass
