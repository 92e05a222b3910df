"""``/api-keys``: create, list and revoke the keys applications use."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kmsg_console.api_keys import services
from kmsg_console.api_keys.forms import CreateApiKeyForm
from kmsg_console.api_keys.models import ApiKey
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.web.access import access
from kmsg_console.web.forms import EmptyForm

bp = Blueprint("api_keys", __name__)


@bp.route("/api-keys", methods=["GET", "POST"])
@access(Role.ADMIN)
def list_keys():
    """List keys; POST creates one and shows its secret once."""
    form = CreateApiKeyForm()
    issued = None
    status = 200
    if form.validate_on_submit():
        issued = services.issue_key(form.name.data, form.scopes.data, actor=current_user)
        db.session.commit()
        form = CreateApiKeyForm(formdata=None)
    elif form.is_submitted():
        status = 422
    return render_template(
        "api_keys/list.html",
        form=form,
        keys=services.list_keys(),
        issued=issued,
        revoke_form=EmptyForm(),
    ), status


@bp.post("/api-keys/<int:key_id>/revoke")
@access(Role.ADMIN)
def revoke(key_id: int):
    """Revoke a key; requests with it are refused from now on."""
    key = db.get_or_404(ApiKey, key_id)
    if EmptyForm().validate_on_submit():
        services.revoke(key, actor=current_user)
        db.session.commit()
        flash(_("Key %(name)s revoked.", name=key.name), "success")
    return redirect(url_for("api_keys.list_keys"))
