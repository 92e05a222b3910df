"""Console pages whose features are not built yet say so plainly instead of 404."""

from __future__ import annotations

from flask import Blueprint, render_template

from kmsg_console.i18n_markers import N_
from kmsg_console.operators.models import Role
from kmsg_console.web.access import access

bp = Blueprint("placeholders", __name__)

#: endpoint name -> (path, title, role needed to read)
PLANNED_PAGES: dict[str, tuple[str, str, Role]] = {}


def _planned(endpoint: str, path: str, title: str, role: Role) -> None:
    PLANNED_PAGES[endpoint] = (path, title, role)

    @access(role)
    def view():
        return render_template("placeholder.html", title=title)

    view.__name__ = endpoint
    view.__doc__ = f"Placeholder for {path}."
    bp.add_url_rule(path, endpoint, view, methods=["GET"])


_planned("send_logs", "/send-logs", N_("Send logs"), Role.VIEWER)
_planned("send", "/send", N_("Send a message"), Role.OPERATOR)
_planned("otp", "/otp", N_("Test OTP"), Role.OPERATOR)
_planned("templates", "/templates", N_("Templates"), Role.VIEWER)
_planned("throttle_policies", "/throttle-policies", N_("Throttle policies"), Role.OPERATOR)
