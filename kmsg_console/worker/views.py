"""Delivery reports (webhook), provider delivery settings, "check status now" and retention."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kmsg_console import sending
from kmsg_console.extensions import csrf, db
from kmsg_console.operators.models import Role
from kmsg_console.providers.adapters.registry import ADAPTERS
from kmsg_console.providers.models import Provider
from kmsg_console.web.access import access, public
from kmsg_console.web.forms import EmptyForm
from kmsg_console.worker import display, retention, services, settings, webhooks
from kmsg_console.worker.forms import (
    ProviderDeliveryForm,
    retention_form_class,
    split_codes,
    split_lines,
)
from kmsg_console.worker.health import worker_health

bp = Blueprint("delivery", __name__)
#: Vendors post here without a session or CSRF token; the HMAC signature authenticates them.
webhook_bp = Blueprint("delivery_webhooks", __name__)
csrf.exempt(webhook_bp)
retention_bp = Blueprint("retention", __name__)

bp.add_app_template_global(display.delivery_tracking, "delivery_tracking")
bp.add_app_template_global(worker_health, "worker_health")


@webhook_bp.post("/webhooks/delivery/<string:provider_code>")
@public
def receive_report(provider_code: str):
    """Accept signed delivery reports from a vendor (401 unless the signature checks out)."""
    answer = webhooks.receive(provider_code, request.headers, request.get_data(cache=False))
    return jsonify(answer.body), answer.status


@bp.route("/providers/<int:provider_id>/delivery", methods=["GET", "POST"])
@access(Role.ADMIN)
def provider_settings(provider_id: int):
    """A provider's AlimTalk fallback rules and delivery-report webhook."""
    provider = db.get_or_404(Provider, provider_id)
    form = ProviderDeliveryForm(
        data=None if request.method == "POST" else services.form_data(provider)
    )
    generated = None
    if form.validate_on_submit():
        generated = settings.generate_secret() if form.generate_secret.data else None
        settings.save_settings(
            provider,
            fallback_enabled=form.fallback_enabled.data,
            codes=split_codes(form.fallback_codes.data),
            texts=split_lines(form.fallback_texts.data),
            tolerance=form.tolerance.data,
            new_secret=generated or form.webhook_secret.data or None,
            remove_secret=form.remove_secret.data,
            actor=current_user,
        )
        db.session.commit()
        flash(_("Delivery settings of %(name)s saved.", name=provider.name), "success")
        if generated is None:
            return redirect(url_for("delivery.provider_settings", provider_id=provider.id), 303)
        form = ProviderDeliveryForm(
            formdata=None, data=services.form_data(provider)
        )  # shown once, not redirected
    return render_template(
        "worker/provider_delivery.html",
        provider=provider,
        form=form,
        adapter=ADAPTERS[provider.vendor],
        generated_secret=generated,
        has_secret=settings.webhook_secret(provider) is not None,
        header_names=(webhooks.TIMESTAMP_HEADER, webhooks.SIGNATURE_HEADER),
    ), (422 if form.errors else 200)


@bp.post("/send-logs/<string:message_id>/check-status")
@access(Role.OPERATOR)
def check_now(message_id: str):
    """Ask the provider for this message's status now (audited), then show the message."""
    log = sending.find_by_public_id(message_id)
    if log is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    outcome = services.check_now(log, actor=current_user)
    db.session.commit()
    flash(
        _("Status checked: %(status)s.", status=_(log.status_enum.label))
        if outcome != "skipped"
        else _("This message has a final status; there is nothing to check."),
        "success" if outcome != "skipped" else "error",
    )
    return redirect(url_for("send_logs.detail", message_id=log.public_id), 303)


@retention_bp.route("/settings/retention", methods=["GET", "POST"])
@access(Role.ADMIN)
def edit_retention():
    """How long each class of data is kept; the worker purges what is older."""
    form_class = retention_form_class()
    form = form_class(data=None if request.method == "POST" else retention.policies())
    if form.validate_on_submit():
        retention.save_policies(
            {spec.key: form[spec.key].data for spec in retention.CLASSES}, actor=current_user
        )
        db.session.commit()
        flash(_("Retention settings saved."), "success")
        return redirect(url_for("retention.edit_retention"), 303)
    return render_template(
        "worker/retention.html", form=form, classes=retention.CLASSES, health=worker_health()
    ), 422 if form.errors else 200
