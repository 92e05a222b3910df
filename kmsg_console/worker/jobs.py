"""The background jobs, their leases and their run records.

Delivery polling is shared: every worker runs it, and rows are divided by the claim in
:mod:`kmsg_console.worker.tracking`. The other jobs are singletons: a worker runs one only
after taking its lease with a conditional UPDATE on ``worker_job`` (the row is the lock;
it works the same on PostgreSQL and SQLite), and only when the job's interval has passed
since the last run by any worker, so two workers never do the same job twice.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from kmsg_console.extensions import db
from kmsg_console.i18n_markers import N_
from kmsg_console.message_templates.sync import sync_all_templates
from kmsg_console.worker import interrupted, retention, tracking
from kmsg_console.worker.models import WorkerJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobSpec:
    name: str
    label: str
    run: Callable[[], dict[str, Any]]
    interval: timedelta
    singleton: bool = True
    #: How long a lease holds if its worker dies mid-run.
    lease: timedelta = timedelta(minutes=30)


def _poll() -> dict[str, Any]:
    return tracking.run_round()


def _expire_otps() -> dict[str, Any]:
    from kmsg_console.otp.services import expire_due

    return {"expired": expire_due(tracking.clock())}


def _sync_templates() -> dict[str, Any]:
    return sync_all_templates().as_dict()  # commits after each provider


def _settle_interrupted() -> dict[str, Any]:
    return interrupted.settle(tracking.clock())


def _purge() -> dict[str, Any]:
    return retention.purge(tracking.clock())


def _check_alerts() -> dict[str, Any]:
    from kmsg_console.alerts import services as alerts

    return alerts.run_checks(tracking.clock())


def _check_balances() -> dict[str, Any]:
    from kmsg_console.alerts import services as alerts

    return alerts.run_balance_checks(tracking.clock())


def _dispatch_campaigns() -> dict[str, Any]:
    from kmsg_console.campaigns import dispatch

    return dispatch.run_round()


def _deliver_webhooks() -> dict[str, Any]:
    from kmsg_console.events import delivery

    return delivery.run_round()


JOBS: tuple[JobSpec, ...] = (
    JobSpec(
        "delivery_tracking",
        N_("Delivery status polling and fallback"),
        _poll,
        timedelta(seconds=5),
        singleton=False,
    ),
    JobSpec("otp_expiry", N_("OTP expiry"), _expire_otps, timedelta(seconds=30)),
    JobSpec(
        "webhook_delivery",
        N_("Webhook delivery"),
        _deliver_webhooks,
        timedelta(seconds=5),
        singleton=False,
    ),
    JobSpec(
        "campaign_dispatch",
        N_("Campaign sending"),
        _dispatch_campaigns,
        timedelta(seconds=1),
        singleton=False,
    ),
    JobSpec(
        "interrupted_sends", N_("Interrupted sends"), _settle_interrupted, timedelta(minutes=1)
    ),
    JobSpec("operator_alerts", N_("Operator alerts"), _check_alerts, timedelta(minutes=1)),
    JobSpec(
        "balance_alerts", N_("Provider balance alerts"), _check_balances, timedelta(minutes=10)
    ),
    JobSpec("template_sync", N_("Template review sync"), _sync_templates, timedelta(minutes=10)),
    JobSpec(
        "retention", N_("Retention purge"), _purge, timedelta(hours=1), lease=timedelta(hours=2)
    ),
)
BY_NAME = {job.name: job for job in JOBS}


def worker_id() -> str:
    """A name for this worker process: host, pid and a random tail."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"[:120]


def ensure_rows() -> None:
    """Create the ``worker_job`` rows (several workers may race; the primary key decides)."""
    known = set(db.session.scalars(sa.select(WorkerJob.name)))
    for job in JOBS:
        if job.name in known:
            continue
        db.session.add(WorkerJob(name=job.name, runs=0))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()


def _take_lease(job: JobSpec, owner: str, now: datetime, *, force: bool) -> bool:
    free = sa.or_(WorkerJob.lease_until.is_(None), WorkerJob.lease_until < now)
    conditions = [WorkerJob.name == job.name, free]
    if not force:
        conditions.append(
            sa.or_(
                WorkerJob.last_finished_at.is_(None),
                WorkerJob.last_finished_at <= now - job.interval,
            )
        )
    result = db.session.execute(
        sa.update(WorkerJob)
        .where(*conditions)
        .values(lease_owner=owner, lease_until=now + job.lease, last_started_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def _record(
    job: JobSpec, owner: str, outcome: str, detail: str | None, result: dict[str, Any] | None
) -> None:
    now = tracking.clock()
    values: dict[str, Any] = {
        "last_finished_at": now,
        "last_outcome": outcome,
        "last_detail": (detail or "")[:255] or None,
        "last_result": result,
        "last_worker": owner,
        "runs": WorkerJob.runs + 1,
    }
    where = [WorkerJob.name == job.name]
    if job.singleton:
        values.update(lease_owner=None, lease_until=None)
        where.append(WorkerJob.lease_owner == owner)
    else:
        values["last_started_at"] = now
    db.session.execute(
        sa.update(WorkerJob)
        .where(*where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def run_job(job: JobSpec, owner: str, *, force: bool = False) -> str:
    """Run ``job`` once if this worker may (inside an app context); returns the outcome."""
    if job.singleton and not _take_lease(job, owner, tracking.clock(), force=force):
        return "skipped"
    try:
        result = job.run()
    except Exception as exc:  # noqa: BLE001 - a failing job is recorded and retried next time
        db.session.rollback()
        logger.exception("job %s failed", job.name)
        _record(job, owner, "error", f"{type(exc).__name__}: {exc}", None)
        return "error"
    _record(job, owner, "ok", None, result)
    return "ok"


def run_once(app, owner: str | None = None, names: tuple[str, ...] | None = None) -> dict[str, str]:
    """One round of every job (``kmsg-console worker --once``)."""
    owner = owner or worker_id()
    outcomes = {}
    with app.app_context():
        ensure_rows()
        for job in JOBS:
            if names and job.name not in names:
                continue
            outcomes[job.name] = run_job(job, owner, force=True)
        db.session.remove()
    return outcomes
