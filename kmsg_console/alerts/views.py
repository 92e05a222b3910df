"""``/settings/alerts``: the operator alert thresholds an admin sets."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kmsg_console.alerts import services
from kmsg_console.alerts.forms import AlertSettingsForm
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.registry import ADAPTERS
from kmsg_console.web.access import access

bp = Blueprint("alerts", __name__)


@bp.route("/settings/alerts", methods=["GET", "POST"])
@access(Role.ADMIN)
def settings():
    """Failure rate and volume cap thresholds; balance thresholds are listed per provider."""
    form = AlertSettingsForm(
        data=None if request.method == "POST" else asdict(services.current_settings())
    )
    if form.validate_on_submit():
        services.save_settings(
            services.AlertSettings(
                failure_rate_percent=form.failure_rate_percent.data,
                failure_window_minutes=form.failure_window_minutes.data,
                failure_min_messages=form.failure_min_messages.data,
                daily_volume_cap=form.daily_volume_cap.data,
                monthly_volume_cap=form.monthly_volume_cap.data,
            ),
            actor=current_user,
        )
        db.session.commit()
        flash(_("Alert settings saved."), "success")
        return redirect(url_for("alerts.settings"), 303)
    providers = [
        (
            provider,
            ADAPTERS[provider.vendor].supports_balance if provider.vendor in ADAPTERS else False,
        )
        for provider in provider_services.all_providers()
    ]
    return render_template(
        "alerts/settings.html", form=form, providers=providers
    ), 422 if form.errors else 200
