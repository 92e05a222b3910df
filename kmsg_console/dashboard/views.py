"""Dashboard: the console's front page."""

from __future__ import annotations

from flask import Blueprint, render_template

from kmsg_console.operators.models import Role
from kmsg_console.web.access import access

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@access(Role.VIEWER)
def index():
    """Today's and the last seven days' figures."""
    return render_template("dashboard/index.html")
