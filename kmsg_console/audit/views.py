"""The ``/audit-log`` page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, request

from kmsg_console.audit import presentation
from kmsg_console.audit.forms import AuditFilterForm
from kmsg_console.audit.services import filtered_events
from kmsg_console.operators.models import Role
from kmsg_console.web.access import access
from kmsg_console.web.htmx import render_page_or_fragment
from kmsg_console.web.pagination import BadCursor

bp = Blueprint("audit", __name__)


@bp.get("/audit-log")
@access(Role.ADMIN)
def list_events():
    """Audit events, newest first, filtered by the query string."""
    form = AuditFilterForm(request.args)
    if not form.validate():
        page = None
    else:
        try:
            page = filtered_events(
                form.data,
                cursor=request.args.get("cursor"),
                per_page=current_app.config["PAGE_SIZE"],
            )
        except BadCursor:
            abort(400)
    return render_page_or_fragment(
        "audit/list.html",
        "audit/_results.html",
        form=form,
        page=page,
        action_label=presentation.action_label,
        target_label=presentation.target_label,
        detail_lines=presentation.detail_lines,
    )
