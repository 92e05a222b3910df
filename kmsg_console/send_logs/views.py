"""``/send-logs``: find messages, explain one, retry it, export a selection, see failure trends."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from kmsg_console import sending
from kmsg_console.extensions import db
from kmsg_console.messaging.rule_codes import RuleCode
from kmsg_console.operators.models import Role
from kmsg_console.orm import utcnow
from kmsg_console.send_logs import explanations, report, send_again, services
from kmsg_console.send_logs import export as csv_export
from kmsg_console.send_logs.explanations import (
    OUTCOME_BADGES,
    OUTCOME_LABELS,
    SOURCE_LABELS,
    TRIGGER_LABELS,
)
from kmsg_console.send_logs.forms import FailureReportForm, SendLogFilterForm
from kmsg_console.sending.models import MessageStatus
from kmsg_console.web.access import access, can
from kmsg_console.web.forms import EmptyForm
from kmsg_console.web.htmx import is_partial, render_page_or_fragment
from kmsg_console.web.pagination import BadCursor
from kmsg_console.web.timezones import to_local

bp = Blueprint("send_logs", __name__)


def _list_response(form: SendLogFilterForm, page, status: int = 200):
    args = form.canonical_args() if page is not None else {}
    label = (
        services.recipient_label(form.recipient_hash)
        if page is not None and form.recipient_hash
        else None
    )
    html = render_page_or_fragment(
        "send_logs/list.html",
        "send_logs/_results.html",
        form=form,
        page=page,
        args=args,
        recipient_label=label,
        campaign=form.campaign_found,
        source_labels=SOURCE_LABELS,
    )
    return make_response(html, status)


@bp.get("/send-logs")
@access(Role.VIEWER)
def list_logs():
    """Messages newest first, filtered by the query string; a typed number becomes its hash."""
    form = SendLogFilterForm(request.args)
    if not form.validate():
        return _list_response(form, None, 422)
    canonical = url_for("send_logs.list_logs", **form.canonical_args())
    if form.phone.data and not is_partial():
        return redirect(canonical, 303)  # keep the number out of the address bar and history
    try:
        page = services.list_page(
            form.filters(),
            cursor=request.args.get("cursor"),
            per_page=current_app.config["PAGE_SIZE"],
        )
    except BadCursor:
        abort(400)
    response = _list_response(form, page)
    if form.phone.data:
        response.headers["HX-Push-Url"] = canonical
    return response


@bp.get("/send-logs/export.csv")
@access(Role.VIEWER)
def export():
    """The filtered messages as CSV (recipients masked), audited; refused above the row limit."""
    form = SendLogFilterForm(request.args)
    if not form.validate():
        return _list_response(form, None, 422)
    filters, args = form.filters(), form.canonical_args()
    rows = services.count_matching(filters)
    if rows > csv_export.EXPORT_LIMIT:
        flash(
            _(
                "%(rows)s messages match; narrow the filters to at most %(limit)s to export them.",
                rows=f"{rows:,}",
                limit=f"{csv_export.EXPORT_LIMIT:,}",
            ),
            "error",
        )
        return redirect(url_for("send_logs.list_logs", **args), 303)
    label = services.recipient_label(filters.recipient) if filters.recipient else None
    csv_export.record_export(args, rows, label)
    db.session.commit()
    name = f"send-logs-{to_local(utcnow()).strftime('%Y%m%d-%H%M')}.csv"
    return Response(
        stream_with_context(csv_export.csv_lines(filters)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/send-logs/failures")
@access(Role.VIEWER)
def failures():
    """Failed messages per error code and provider over the chosen period, top vendor codes."""
    form = FailureReportForm(request.args)
    result = None
    if form.validate():
        result = report.failure_report(
            form.period.data or report.DEFAULT_PERIOD, message_type=form.type.data or None
        )
    html = render_page_or_fragment(
        "send_logs/failures.html",
        "send_logs/_failures.html",
        form=form,
        report=result,
        heat_level=report.heat_level,
        failure_chart=report.failure_chart(result) if result is not None else None,
        links=report.grid_links(result) if result is not None else None,
        statuses=list(MessageStatus),
        local_value=services.local_input_value,
        error_label=explanations.error_label,
        rule_explanation=explanations.rule_explanation,
    )
    return make_response(html, 200 if result is not None else 422)


@bp.get("/send-logs/<string:message_id>")
@access(Role.VIEWER)
def detail(message_id: str):
    """One message: its error explained, every attempt, the timeline; the text for operators."""
    log = services.get_log_or_404(message_id)
    info = services.log_detail(log, with_body=can(Role.OPERATOR))
    return render_template(
        "send_logs/detail.html",
        d=info,
        log=log,
        can_retry=services.can_retry(log),
        retry_form=EmptyForm(),
        is_operator=can(Role.OPERATOR),
        is_admin=can(Role.ADMIN),
        source_labels=SOURCE_LABELS,
        trigger_labels=TRIGGER_LABELS,
        outcome_labels=OUTCOME_LABELS,
        outcome_badges=OUTCOME_BADGES,
    )


@bp.post("/send-logs/<string:message_id>/retry")
@access(Role.OPERATOR)
def retry(message_id: str):
    """Send a failed, retryable message again through the current routing (audited)."""
    log = services.get_log_or_404(message_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.retry_message(log, operator=current_user)
    except sending.SendRefused as exc:
        if exc.code == RuleCode.AD_QUIET_HOURS:
            flash(
                _(
                    "This advertisement cannot be retried now: advertising is not sent from "
                    "21:00 to 08:00 Korea time (FriendTalk from 20:00). Retry it after 08:00."
                ),
                "error",
            )
            return redirect(url_for("send_logs.detail", message_id=log.public_id), 303)
        flash(
            _(
                "This message cannot be retried: it is not a failed message with a "
                "retryable error, or a retry is already running."
            ),
            "error",
        )
    else:
        status = log.status_enum
        ok = status in (MessageStatus.SENT, MessageStatus.PENDING, MessageStatus.DELIVERED)
        flash(
            _("Retried. The message is now: %(status)s.", status=_(status.label)),
            "success" if ok else "error",
        )
    return redirect(url_for("send_logs.detail", message_id=log.public_id), 303)


@bp.get("/send-logs/<string:message_id>/send-again")
@access(Role.OPERATOR)
def confirm_send_again(message_id: str):
    """What sending a failed or unknown message again would do, to confirm."""
    log = services.get_log_or_404(message_id)
    reason = send_again.refusal(log)
    if reason is not None:
        flash(_(reason), "error")
        return redirect(url_for("send_logs.detail", message_id=log.public_id), 303)
    return render_template(
        "send_logs/send_again.html",
        log=log,
        request_again=send_again.request_of(log),
        body=sending.decrypt_body(log),
        form=EmptyForm(),
    )


@bp.post("/send-logs/<string:message_id>/send-again")
@access(Role.OPERATOR)
def send_message_again(message_id: str):
    """Send a failed or unknown message again as a new message (confirmed, audited)."""
    log = services.get_log_or_404(message_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        new = send_again.send_again(log, operator=current_user)
    except sending.SendRefused as exc:
        if exc.code == "not_sendable_again":
            flash(_(exc.message), "error")
        else:
            flash(_("The message cannot be sent again: %(reason)s", reason=exc.message), "error")
        return redirect(url_for("send_logs.detail", message_id=log.public_id), 303)
    status = new.status_enum
    ok = status in (MessageStatus.SENT, MessageStatus.PENDING, MessageStatus.DELIVERED)
    flash(
        _("Sent again as a new message. It is now: %(status)s.", status=_(status.label)),
        "success" if ok else "error",
    )
    return redirect(url_for("send_logs.detail", message_id=new.public_id), 303)
