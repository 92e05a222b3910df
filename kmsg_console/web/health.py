"""``/healthz`` (the process answers) and ``/readyz`` (the database answers)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from kmsg_console.extensions import db
from kmsg_console.web.access import public

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz():
    """Liveness: the process is up and serving."""
    return jsonify(status="ok")


@bp.get("/readyz")
@public
def readyz():
    """Readiness: the database can be queried."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
