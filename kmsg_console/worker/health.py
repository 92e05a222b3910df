"""Worker health for the dashboard: last runs per job and the status-check backlog."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.sending.models import MessageLog
from kmsg_console.worker import fallback, jobs, tracking
from kmsg_console.worker.models import WorkerJob
from kmsg_console.worker.outcomes import POLLABLE

#: Polling runs every few seconds; silence for this long means no worker is running.
STALE_AFTER = timedelta(minutes=2)


def worker_health() -> dict[str, Any]:
    """``{"running", "last_run", "backlog": {...}, "jobs": [...]}`` for display and checks.

    ``running`` is False when delivery polling has not finished a round recently (no
    worker, or a stuck one); ``backlog["late"]`` counts checks overdue by 5 minutes.
    """
    now = tracking.clock()
    rows = {row.name: row for row in db.session.scalars(sa.select(WorkerJob))}
    polling = rows.get("delivery_tracking")
    last_run = polling.last_finished_at if polling else None
    job_views = []
    for spec in jobs.JOBS:
        row = rows.get(spec.name)
        job_views.append(
            {
                "name": spec.name,
                "label": spec.label,
                "last_finished_at": row.last_finished_at if row else None,
                "last_outcome": row.last_outcome if row else None,
                "last_detail": row.last_detail if row else None,
                "last_result": row.last_result if row else None,
                "runs": row.runs if row else 0,
            }
        )
    return {
        "running": last_run is not None and now - last_run <= STALE_AFTER,
        "last_run": last_run,
        "backlog": due_backlog(now),
        "jobs": job_views,
    }


def due_backlog(now: datetime | None = None) -> dict[str, int]:
    """How many messages wait for a status check: due now, late by over 5 minutes, tracked."""
    now = now or tracking.clock()
    base = (
        sa.select(sa.func.count())
        .select_from(MessageLog)
        .where(MessageLog.status.in_(POLLABLE), MessageLog.next_check_at.is_not(None))
    )
    return {
        "due": db.session.scalar(base.where(MessageLog.next_check_at <= now)) or 0,
        "late": db.session.scalar(
            base.where(MessageLog.next_check_at <= now - timedelta(minutes=5))
        )
        or 0,
        "tracked": db.session.scalar(base) or 0,
        "fallback_due": db.session.scalar(
            sa.select(sa.func.count())
            .select_from(MessageLog)
            .where(MessageLog.fallback_state == fallback.DUE)
        )
        or 0,
    }
