"""``/settings/advertising``: everyone reads the rules and settings; admins change them."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kmsg_console.advertising import services
from kmsg_console.advertising.forms import AdSettingsForm
from kmsg_console.extensions import db
from kmsg_console.messaging import advertising
from kmsg_console.messaging.types import MessageType
from kmsg_console.operators.models import Role
from kmsg_console.web.access import access

bp = Blueprint("advertising", __name__)


@bp.route("/settings/advertising", methods=["GET", "POST"])
@access(Role.VIEWER, Role.ADMIN)
def settings():
    """The advertising rules, and the sender name and 080 line the send form writes."""
    saved = services.current()
    data = None
    if request.method == "GET" and saved is not None:
        data = {"sender_name": saved.sender_name, "opt_out_line": saved.opt_out_display}
    form = AdSettingsForm(data=data)
    if form.validate_on_submit():
        try:
            services.save(form.sender_name.data, form.opt_out_line.data, actor=current_user)
        except services.AdSettingsError as exc:
            form[exc.field].errors = [_(exc.reason, **exc.params)]
        else:
            db.session.commit()
            flash(_("Advertising settings saved."), "success")
            return redirect(url_for("advertising.settings"), 303)
    return render_template(
        "advertising/settings.html",
        form=form,
        saved=saved,
        text_hours=advertising.quiet_hours(MessageType.SMS),
        kakao_hours=advertising.quiet_hours(MessageType.FRIENDTALK),
    ), 422 if form.errors else 200
