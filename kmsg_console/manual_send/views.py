"""``/send``: an operator composes an SMS/LMS, previews it, then sends it (send engine)."""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from kmsg_console import sending
from kmsg_console.advertising import services as ad_settings
from kmsg_console.extensions import db
from kmsg_console.manual_send import services
from kmsg_console.manual_send.forms import ComposeForm
from kmsg_console.operators.models import Role
from kmsg_console.sending.models import MessageSource
from kmsg_console.web.access import access

bp = Blueprint("manual_send", __name__)


def _compose_page(form: ComposeForm, status: int = 200, refused_log=None):
    counter = services.count(form.text.data, form.subject.data, form.type.data)
    return render_template(
        "manual_send/compose.html",
        form=form,
        counter=counter,
        profiles=services.kakao_profiles(form.provider.data),
        ad=services.ad_panel(form),
        refused_log=refused_log,
    ), status


def _redirect(url: str):
    """Post/Redirect/Get; htmx callers get ``HX-Redirect`` so the whole page moves."""
    if getattr(request, "htmx", False):
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


@bp.get("/send")
@access(Role.OPERATOR)
def compose():
    """The empty compose form."""
    return _compose_page(ComposeForm())


@bp.get("/send/kakao-profile")
@access(Role.OPERATOR)
def kakao_profile_field():
    """The sender profile select for the chosen provider (htmx, when the provider changes)."""
    if not getattr(request, "htmx", False):  # a field, not a page: the form it belongs to
        return redirect(url_for("manual_send.compose"), 303)
    form = ComposeForm(request.args, meta={"csrf": False})
    return render_template(
        "manual_send/_kakao_profile.html",
        form=form,
        profiles=services.kakao_profiles(form.provider.data),
    )


@bp.post("/send/count")
@access(Role.OPERATOR)
def count():
    """The byte counter fragment for what is typed so far (htmx, as you type)."""
    form = ComposeForm()
    counter = services.count(form.text.data, form.subject.data, form.type.data)
    return render_template(
        "manual_send/_counter.html",
        counter=counter,
        form=form,
        clear_field_errors=True,
        ad=services.ad_panel(form),
    )


@bp.post("/send/ad-label")
@access(Role.OPERATOR)
def add_ad_label():
    """Put ``(광고) <sender name>`` in front of the text and the 080 opt-out line after it."""
    form = ComposeForm()
    form.ad.data = True
    identity = ad_settings.current()
    if identity is None:
        form.text.errors = [
            _("An admin has to set the sender name and the 080 opt-out number first.")
        ]
        return _compose_page(form, 422)
    # The form is not validated: the operator may add the label before typing the rest.
    form.text.data = ad_settings.add_label_and_footer(form.text.data, identity)
    form.text.raw_data = [form.text.data]
    return _compose_page(form)


@bp.post("/send/edit")
@access(Role.OPERATOR)
def edit():
    """Back from the preview to the form, with every value kept."""
    return _compose_page(ComposeForm())


@bp.post("/send/preview")
@access(Role.OPERATOR)
def preview():
    """Validate and route without sending: final text, type, bytes, providers, warnings."""
    form = ComposeForm()
    if not form.validate_on_submit():
        return _compose_page(form, 422)
    try:
        result = sending.preview(services.send_request(form))
    except sending.SendRefused as exc:
        services.apply_refusal(form, exc)
        return _compose_page(form, 422)
    return render_template(
        "manual_send/preview.html", form=form, preview=services.describe(result, form)
    )


@bp.post("/send")
@access(Role.OPERATOR)
def send():
    """Send the previewed message (the engine commits the log), audit it, show its log entry."""
    form = ComposeForm()
    if not form.validate_on_submit():
        return _compose_page(form, 422)
    try:
        result = sending.send(
            services.send_request(form), source=MessageSource.CONSOLE, operator_id=current_user.id
        )
    except sending.SendRefused as exc:
        services.apply_refusal(form, exc)
        return _compose_page(form, 422, refused_log=exc.log)
    services.record_send(result.log)
    db.session.commit()
    flash(*services.outcome_flash(result.log))
    return _redirect(url_for("send_logs.detail", message_id=result.log.public_id))
