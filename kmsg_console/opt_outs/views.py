"""``/opt-outs``: everyone signed in reads the list; operators add, remove and import."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.opt_outs import services, sync
from kmsg_console.opt_outs.forms import (
    AddOptOutForm,
    ImportOptOutsForm,
    OptOutFilterForm,
    SyncOptOutsForm,
)
from kmsg_console.opt_outs.models import OptOut, OptOutSource
from kmsg_console.web.access import access
from kmsg_console.web.forms import EmptyForm
from kmsg_console.web.htmx import render_page_or_fragment
from kmsg_console.web.pagination import BadCursor

bp = Blueprint("opt_outs", __name__)
#: The add form shares field names with the search form on the same page; its own prefix
#: keeps the HTML ids apart.
ADD_PREFIX = "new"


def _sync_form(formdata=None) -> SyncOptOutsForm:
    form = SyncOptOutsForm(formdata=formdata)
    form.set_providers(sync.block_list_providers())
    return form


def _page(add_form=None, import_form=None, report=None, status=200, sync_form=None):
    filters = OptOutFilterForm(request.args)
    filters.set_scopes(services.scopes_in_use())
    page = None
    if filters.validate():
        try:
            page = services.search(
                filters.data,
                cursor=request.args.get("cursor"),
                per_page=current_app.config["PAGE_SIZE"],
            )
        except services.OptOutError as exc:
            filters[exc.field].errors = [_(exc.reason, **exc.params)]
        except BadCursor:
            abort(400)
    return render_page_or_fragment(
        "opt_outs/list.html",
        "opt_outs/_results.html",
        filters=filters,
        page=page,
        form=add_form or AddOptOutForm(formdata=None, prefix=ADD_PREFIX),
        import_form=import_form or ImportOptOutsForm(formdata=None),
        report=report,
        remove_form=EmptyForm(),
        sync_form=sync_form or _sync_form(),
        scope_display=services.scope_display,
    ), status


@bp.route("/opt-outs", methods=["GET", "POST"])
@access(Role.VIEWER)
def list_opt_outs():
    """The list, newest first; POST adds a number."""
    if request.method == "GET":
        return _page()
    form = AddOptOutForm(prefix=ADD_PREFIX)
    if form.validate_on_submit():
        try:
            result = services.add_opt_out(
                form.phone.data,
                form.scope.data,
                form.note.data or "",
                source=OptOutSource.CONSOLE,
                actor=current_user,
            )
        except services.OptOutError as exc:
            form[exc.field].errors = [_(exc.reason, **exc.params)]
        else:
            db.session.commit()
            if result.created:
                flash(_("%(phone)s added.", phone=result.opt_out.phone_masked), "success")
            else:
                flash(
                    _("%(phone)s is already on the list.", phone=result.opt_out.phone_masked),
                    "info",
                )
            return redirect(url_for("opt_outs.list_opt_outs"))
    return _page(add_form=form, status=422)


@bp.post("/opt-outs/<int:opt_out_id>/remove")
@access(Role.VIEWER)
def remove(opt_out_id: int):
    """Take a number off the list (asked to confirm in the page first)."""
    opt_out = db.get_or_404(OptOut, opt_out_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    masked = opt_out.phone_masked
    services.remove_opt_out(opt_out, actor=current_user)
    db.session.commit()
    flash(_("%(phone)s removed from the list.", phone=masked), "success")
    return redirect(url_for("opt_outs.list_opt_outs"))


@bp.post("/opt-outs/import")
@access(Role.VIEWER)
def import_csv():
    """Add the numbers of a CSV file; the page reports what was added and what was not."""
    form = ImportOptOutsForm()
    if form.validate_on_submit():
        try:
            report = services.import_csv(form.file.data.read(), actor=current_user)
        except services.OptOutError as exc:
            form.file.errors = [_(exc.reason, **exc.params)]
        else:
            db.session.commit()
            return _page(report=report)
    return _page(import_form=form, status=422)


@bp.post("/opt-outs/sync")
@access(Role.VIEWER)
def sync_from_provider():
    """Import a provider's block list (SOLAPI 수신 거부); the counts are flashed."""
    form = _sync_form(request.form)
    if not form.validate_on_submit():
        return _page(sync_form=form, status=422)
    provider = next(p for p in sync.block_list_providers() if p.code == form.provider.data)
    try:
        report = sync.sync_provider(provider, actor=current_user)
    except sync.SyncFailed as exc:
        db.session.rollback()
        flash(
            _("The provider's block list could not be read: %(error)s", error=exc.error.code.value),
            "error",
        )
    else:
        db.session.commit()
        flash(
            _(
                "%(provider)s: %(listed)d blocked numbers read, %(added)d added, "
                "%(present)d already on the list, %(invalid)d not mobile numbers, "
                "%(skipped)d only in inactive groups.",
                provider=provider.name,
                listed=report.listed,
                added=report.added,
                present=report.present,
                invalid=report.invalid,
                skipped=report.skipped,
            ),
            "success",
        )
    return redirect(url_for("opt_outs.list_opt_outs"), 303)
