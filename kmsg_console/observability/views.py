"""``/metrics`` in the Prometheus text format."""

from __future__ import annotations

import hmac

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, request

from kmsg_console.extensions import db
from kmsg_console.observability import metrics
from kmsg_console.orm import utcnow
from kmsg_console.sending.models import MessageLog
from kmsg_console.web.access import public

bp = Blueprint("observability", __name__)


def _backlog() -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(MessageLog)
            .where(
                MessageLog.status.in_(("PENDING", "SENT", "UNKNOWN")),
                MessageLog.next_check_at <= utcnow(),
            )
        )
        or 0
    )


@bp.get("/metrics")
@public
def metrics_endpoint():
    """Prometheus metrics; protected by ``KMSG_METRICS_TOKEN`` when it is set."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        presented = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(presented, token):
            abort(403)
    body, content_type = metrics.render({"worker_backlog": _backlog()})
    return Response(body, content_type=content_type)
