"""Dashboard: the console's front page."""

from __future__ import annotations

from flask import Blueprint, render_template

from kmsg_console.alerts import services as alert_services
from kmsg_console.dashboard import services
from kmsg_console.dashboard.chart import sends_chart
from kmsg_console.events import services as event_services
from kmsg_console.operators.models import Role
from kmsg_console.otp.chart import conversion_chart
from kmsg_console.send_logs.services import local_input_value
from kmsg_console.web.access import access, can

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@access(Role.VIEWER)
def index():
    """Today's and the last seven days' sends, failures, providers, OTP and worker health."""
    overview = services.overview()
    alert_services.check_worker_on_view()
    return render_template(
        "dashboard/index.html",
        overview=overview,
        sends_chart=sends_chart(overview.days, overview.per_day),
        chart=conversion_chart(overview.otp),
        conversion=overview.otp,
        local_value=local_input_value,
        failing_webhooks=event_services.failing_count() if can(Role.ADMIN) else 0,
        alerts=alert_services.active_alerts(),
    )
