"""``/settings/sending``: the console-wide sending rules an admin sets."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.providers import services as provider_services
from kmsg_console.sending import duplicates
from kmsg_console.settings.forms import SendingRulesForm
from kmsg_console.web.access import access

bp = Blueprint("settings", __name__)


@bp.get("/settings")
@access(Role.ADMIN)
def index():
    """The console-wide settings, one card each with what it governs."""
    return render_template("settings/index.html")


@bp.route("/settings/sending", methods=["GET", "POST"])
@access(Role.ADMIN)
def sending_rules():
    """The duplicate-send window for every provider without one of its own."""
    form = SendingRulesForm(
        data=None if request.method == "POST" else {"duplicate_window": duplicates.global_window()}
    )
    if form.validate_on_submit():
        duplicates.save_global_window(form.duplicate_window.data, actor=current_user)
        db.session.commit()
        flash(_("Sending rules saved."), "success")
        return redirect(url_for("settings.sending_rules"), 303)
    return render_template(
        "settings/sending.html",
        form=form,
        providers=provider_services.all_providers(),
        max_minutes=duplicates.MAX_WINDOW_MINUTES,
    ), 422 if form.errors else 200
