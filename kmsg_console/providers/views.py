"""``/providers``: configure vendor accounts, test them and set routing and failover."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kmsg_console.extensions import db
from kmsg_console.messaging.phone import InvalidPhoneNumber
from kmsg_console.operators.models import Role
from kmsg_console.providers import services
from kmsg_console.providers.adapters.registry import ADAPTERS
from kmsg_console.providers.forms import (
    VendorPickForm,
    config_fields,
    config_values,
    mask_secret_fields,
    provider_form_class,
)
from kmsg_console.providers.models import Provider
from kmsg_console.sender_numbers.services import SenderNumberError
from kmsg_console.web.access import access
from kmsg_console.web.forms import EmptyForm

bp = Blueprint("providers", __name__)


@bp.get("/providers")
@access(Role.ADMIN)
def list_providers():
    """Providers with their health, and the routing table."""
    return _list_page(services.routes())


def _list_page(routes, route_errors=None, status: int = 200):
    return render_template(
        "providers/list.html",
        providers=services.all_providers(),
        adapters=ADAPTERS,
        routes=routes,
        route_errors=route_errors or {},
        routed_types=services.ROUTED_TYPES,
        action_form=EmptyForm(),
        pick_form=VendorPickForm(),
    ), status


def _apply_errors(form, exc: services.ProviderError) -> None:
    field_name = exc.field if exc.field in {"code", "name"} else f"cfg_{exc.field}"
    messages = {
        "code_taken": _("This provider id is already used."),
        "invalid": _("This value is not valid: %(detail)s", detail=exc.detail),
    }
    target = form[field_name] if field_name in form else form.name
    message = messages.get(exc.code, exc.detail or exc.code)
    if isinstance(exc.__cause__, InvalidPhoneNumber | SenderNumberError):
        # The number rules' own sentence, in the operator's language.
        message = _(exc.__cause__.reason, **exc.__cause__.params)
    target.errors = list(target.errors) + [message]


@bp.route("/providers/new", methods=["GET", "POST"])
@access(Role.ADMIN)
def create():
    """Add a provider of the vendor chosen in the query string (asked for when missing)."""
    vendor = request.args.get("vendor", "")
    if vendor not in ADAPTERS:
        if request.method == "POST":
            abort(404)  # nothing to save a form against
        return _vendor_page(vendor)
    form = provider_form_class(vendor, is_edit=False)()
    if form.validate_on_submit():
        try:
            provider = services.save_provider(
                None,
                vendor=vendor,
                code=form.code.data,
                name=form.name.data,
                values=config_values(form, vendor),
                enabled=form.enabled.data,
                duplicate_window_minutes=form.duplicate_window.data,
                balance_alert_below=form.balance_alert_below.data,
                actor=current_user,
            )
        except services.ProviderError as exc:
            _apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Provider %(name)s saved.", name=provider.name), "success")
            return redirect(url_for("providers.list_providers"))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "providers/form.html",
        form=form,
        vendor=vendor,
        adapter=ADAPTERS[vendor],
        fields=config_fields(form, vendor),
        provider=None,
    ), status


def _vendor_page(asked: str):
    """Which vendor the new provider is for; an unknown one is a 404 that still offers them."""
    form = VendorPickForm(request.args)
    if asked:
        form.vendor.errors = [_("Choose one of the vendors listed.")]
    return render_template("providers/pick.html", form=form), 404 if asked else 200


@bp.route("/providers/<int:provider_id>/edit", methods=["GET", "POST"])
@access(Role.ADMIN)
def edit(provider_id: int):
    """Change a provider; secret fields show a mask and keep their value unless replaced."""
    provider = db.get_or_404(Provider, provider_id)
    form_class = provider_form_class(provider.vendor, is_edit=True)
    if request.method == "POST":
        form = form_class()
        form.code.data = provider.code  # the id never changes
    else:
        data = {
            "code": provider.code,
            "name": provider.name,
            "enabled": provider.enabled,
            "duplicate_window": provider.duplicate_window_minutes,
            "balance_alert_below": provider.balance_alert_below,
        }
        data.update({f"cfg_{k}": v for k, v in services.form_values(provider).items()})
        form = form_class(data=data)
    if form.validate_on_submit():
        try:
            services.save_provider(
                provider,
                vendor=provider.vendor,
                code=provider.code,
                name=form.name.data,
                values=config_values(form, provider.vendor),
                enabled=form.enabled.data,
                duplicate_window_minutes=form.duplicate_window.data,
                balance_alert_below=form.balance_alert_below.data,
                actor=current_user,
            )
        except services.ProviderError as exc:
            _apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Provider %(name)s saved.", name=provider.name), "success")
            return redirect(url_for("providers.list_providers"))
    mask_secret_fields(form, provider.vendor, provider.secrets)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "providers/form.html",
        form=form,
        vendor=provider.vendor,
        adapter=ADAPTERS[provider.vendor],
        fields=config_fields(form, provider.vendor),
        provider=provider,
    ), status


@bp.post("/providers/<int:provider_id>/toggle")
@access(Role.ADMIN)
def toggle(provider_id: int):
    """Enable or disable a provider."""
    provider = db.get_or_404(Provider, provider_id)
    if EmptyForm().validate_on_submit():
        services.set_enabled(provider, not provider.enabled, actor=current_user)
        db.session.commit()
    return redirect(url_for("providers.list_providers"))


@bp.post("/providers/<int:provider_id>/test")
@access(Role.ADMIN)
def test_connection(provider_id: int):
    """Health check and balance; answers the result fragment for htmx."""
    provider = db.get_or_404(Provider, provider_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    result = services.test_connection(provider, actor=current_user)
    db.session.commit()
    return render_template("providers/_test_result.html", provider=provider, result=result)


@bp.post("/providers/routing")
@access(Role.ADMIN)
def save_routing():
    """Save the provider order per message type (first = primary, then failover)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    new_routes = {}
    for route in [services.DEFAULT_ROUTE] + [t.value for t in services.ROUTED_TYPES]:
        codes = [code for code in request.form.getlist(f"route_{route}") if code]
        new_routes[route] = codes
    try:
        services.save_routes(new_routes, actor=current_user)
    except services.ProviderError as exc:
        if exc.code == "sandbox_after_live":
            message = _(
                "The sandbox delivers nothing, so it cannot follow a live provider: "
                "a message failing over to it would never arrive."
            )
        else:
            message = _("Unknown provider: %(codes)s", codes=exc.detail)
        # The submitted order is shown again with the error, not the saved one.
        return _list_page(new_routes, {exc.field: message}, 422)
    db.session.commit()
    flash(_("Routing saved."), "success")
    return redirect(url_for("providers.list_providers"))
