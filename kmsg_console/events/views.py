"""``/webhook-endpoints``: admins register integrators' endpoints and read the delivery log."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kmsg_console.events import services
from kmsg_console.events.forms import EndpointForm
from kmsg_console.events.models import WebhookDelivery
from kmsg_console.events.types import EventType
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.web.access import access
from kmsg_console.web.forms import EmptyForm

bp = Blueprint("webhook_endpoints", __name__)


def _endpoint_or_404(public_id: str):
    endpoint = services.find_endpoint(public_id) if len(public_id) <= 40 else None
    if endpoint is None:
        abort(404)
    return endpoint


def _labels() -> dict[str, str]:
    return {t.value: _(t.label) for t in EventType}


@bp.route("/webhook-endpoints", methods=["GET", "POST"])
@access(Role.ADMIN, Role.ADMIN)
def list_endpoints():
    """The endpoints; POST registers one and shows its secret once."""
    form = EndpointForm()
    issued = None
    status = 200
    if form.validate_on_submit():
        try:
            issued = services.create_endpoint(
                form.url.data,
                form.event_types.data,
                enabled=form.enabled.data,
                description=form.description.data or "",
                actor=current_user,
            )
        except services.EndpointError as exc:
            db.session.rollback()
            form[exc.field].errors = [_(exc.reason, **exc.params)]
            status = 422
        else:
            db.session.commit()
            form = EndpointForm(formdata=None)
    elif form.is_submitted():
        status = 422
    return render_template(
        "webhook_endpoints/list.html",
        form=form,
        endpoints=services.list_endpoints(),
        issued=issued,
        type_labels=_labels(),
    ), status


def _detail(endpoint, form=None, secret=None, status=200):
    if form is None:
        form = EndpointForm(
            formdata=None,
            data={
                "url": endpoint.url,
                "description": endpoint.description,
                "event_types": list(endpoint.event_types),
                "enabled": endpoint.enabled,
            },
        )
    return render_template(
        "webhook_endpoints/detail.html",
        endpoint=endpoint,
        form=form,
        secret=secret,
        deliveries=services.recent_deliveries(endpoint),
        body_of=lambda d: services.event_body(d.event).decode(),
        action_form=EmptyForm(),
        type_labels=_labels(),
    ), status


@bp.route("/webhook-endpoints/<string:public_id>", methods=["GET", "POST"])
@access(Role.ADMIN, Role.ADMIN)
def show(public_id: str):
    """An endpoint's settings and its delivery log; POST saves the settings."""
    endpoint = _endpoint_or_404(public_id)
    form = EndpointForm()
    if not form.is_submitted():
        return _detail(endpoint)
    if form.validate():
        try:
            services.update_endpoint(
                endpoint,
                url=form.url.data,
                event_types=form.event_types.data,
                enabled=form.enabled.data,
                description=form.description.data or "",
                actor=current_user,
            )
        except services.EndpointError as exc:
            db.session.rollback()
            endpoint = _endpoint_or_404(public_id)
            form[exc.field].errors = [_(exc.reason, **exc.params)]
        else:
            db.session.commit()
            flash(_("Endpoint saved."), "success")
            return redirect(url_for("webhook_endpoints.show", public_id=public_id))
    return _detail(endpoint, form=form, status=422)


@bp.post("/webhook-endpoints/<string:public_id>/rotate-secret")
@access(Role.ADMIN, Role.ADMIN)
def rotate_secret(public_id: str):
    """A new signing secret, shown once; the old one keeps signing for 24 hours."""
    endpoint = _endpoint_or_404(public_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    secret = services.rotate_secret(endpoint, actor=current_user)
    db.session.commit()
    return _detail(endpoint, secret=secret)


@bp.post("/webhook-endpoints/<string:public_id>/delete")
@access(Role.ADMIN, Role.ADMIN)
def delete(public_id: str):
    endpoint = _endpoint_or_404(public_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    url = endpoint.url
    services.delete_endpoint(endpoint, actor=current_user)
    db.session.commit()
    flash(_("Endpoint %(url)s deleted.", url=url), "success")
    return redirect(url_for("webhook_endpoints.list_endpoints"))


@bp.post("/webhook-endpoints/<string:public_id>/deliveries/<int:delivery_id>/redeliver")
@access(Role.ADMIN, Role.ADMIN)
def redeliver(public_id: str, delivery_id: int):
    """Queue a delivery again; the worker sends it at its next round."""
    endpoint = _endpoint_or_404(public_id)
    delivery = db.get_or_404(WebhookDelivery, delivery_id)
    if delivery.endpoint_id != endpoint.id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.redeliver(delivery, actor=current_user)
    db.session.commit()
    flash(_("Event %(id)s queued for redelivery.", id=delivery.event.public_id), "success")
    return redirect(url_for("webhook_endpoints.show", public_id=public_id))
