"""``/sender-numbers``: everyone signed in reads the list; admins register, verify and sync."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.registry import ADAPTERS
from kmsg_console.sender_numbers import services
from kmsg_console.sender_numbers.forms import (
    AddSenderNumberForm,
    EditSenderNumberForm,
    StatusForm,
    SyncForm,
)
from kmsg_console.sender_numbers.models import (
    RegistrationSource,
    SenderNumber,
    SenderNumberStatus,
)
from kmsg_console.web.access import access
from kmsg_console.web.forms import EmptyForm

bp = Blueprint("sender_numbers", __name__)
ADD_PREFIX = "new"


def _defaults() -> dict[str, list[str]]:
    """Number -> codes of the providers using it as their default sender."""
    table: dict[str, list[str]] = {}
    for provider in provider_services.all_providers():
        number = services.default_sender(provider)
        if number:
            table.setdefault(number, []).append(provider.code)
    return table


def _error(form, exc: services.SenderNumberError) -> None:
    target = form[exc.field] if exc.field in form else None
    text = _(exc.reason, **exc.params)
    if target is not None:
        target.errors = [*target.errors, text]
    else:
        form.form_errors.append(text)


def _list_page(add_form=None, sync_form=None, report=None, synced=None, status=200):
    providers = provider_services.all_providers()
    add_form = add_form or AddSenderNumberForm(formdata=None, prefix=ADD_PREFIX)
    add_form.set_providers(providers)
    syncable = [p for p in providers if services.can_sync(p)]
    sync_form = sync_form or SyncForm(formdata=None)
    sync_form.set_providers(syncable)
    without_api = sorted({_(ADAPTERS[p.vendor].label) for p in providers if p not in syncable})
    return render_template(
        "sender_numbers/list.html",
        numbers=services.all_numbers(),
        defaults=_defaults(),
        display=services.display,
        form=add_form,
        sync_form=sync_form,
        syncable=syncable,
        without_api=without_api,
        report=report,
        shown={
            key: [services.display(n) for n in getattr(report, key)]
            for key in ("kept_refused", "not_usable", "delisted")
        }
        if report
        else {},
        synced=synced,
        status_form=EmptyForm(),
        Status=SenderNumberStatus,
    ), status


@bp.get("/sender-numbers")
@access(Role.VIEWER, Role.ADMIN)
def list_numbers():
    """Every sender number with its status and providers."""
    return _list_page()


@bp.post("/sender-numbers")
@access(Role.VIEWER, Role.ADMIN)
def add():
    """Register a number (pending until an admin verifies it)."""
    form = AddSenderNumberForm(prefix=ADD_PREFIX)
    form.set_providers(provider_services.all_providers())
    if form.validate_on_submit():
        try:
            result = services.register(
                form.number.data,
                providers=form.providers.data or [],
                label=form.label.data or "",
                category=form.category.data,
                source=RegistrationSource.CONSOLE,
                actor=current_user,
            )
        except services.SenderNumberError as exc:
            _error(form, exc)
        else:
            db.session.commit()
            number = services.display(result.sender.number)
            if result.created:
                flash(
                    _("%(number)s registered; verify it once the vendor has.", number=number),
                    "success",
                )
            else:
                flash(
                    _(
                        "%(number)s was already registered; its providers were updated.",
                        number=number,
                    ),
                    "info",
                )
            return redirect(url_for("sender_numbers.list_numbers"))
    return _list_page(add_form=form, status=422)


def _edit_page(sender, form=None, status_form=None, status=200):
    if form is None:
        form = EditSenderNumberForm(
            formdata=None,
            data={
                "label": sender.label,
                "category": sender.category,
                "providers": sender.provider_codes,
            },
        )
    form.set_providers(provider_services.all_providers())
    return render_template(
        "sender_numbers/edit.html",
        sender=sender,
        form=form,
        status_form=status_form or StatusForm(formdata=None),
        delete_form=EmptyForm(),
        defaults=_defaults().get(sender.number, []),
        display=services.display,
        Status=SenderNumberStatus,
    ), status


@bp.route("/sender-numbers/<int:sender_id>", methods=["GET", "POST"])
@access(Role.VIEWER, Role.ADMIN)
def edit(sender_id: int):
    """A number's details; admins change its label, category and providers."""
    sender = db.get_or_404(SenderNumber, sender_id)
    if request.method == "GET":
        return _edit_page(sender)
    form = EditSenderNumberForm()
    form.set_providers(provider_services.all_providers())
    if form.validate_on_submit():
        try:
            services.update(
                sender,
                label=form.label.data or "",
                category=form.category.data,
                providers=form.providers.data or [],
                actor=current_user,
            )
        except services.SenderNumberError as exc:
            _error(form, exc)
        else:
            db.session.commit()
            flash(_("%(number)s saved.", number=services.display(sender.number)), "success")
            return redirect(url_for("sender_numbers.list_numbers"))
    db.session.rollback()
    return _edit_page(db.get_or_404(SenderNumber, sender_id), form=form, status=422)


@bp.post("/sender-numbers/<int:sender_id>/status")
@access(Role.VIEWER, Role.ADMIN)
def change_status(sender_id: int):
    """Verify, reject or block a number (who and when are recorded)."""
    sender = db.get_or_404(SenderNumber, sender_id)
    form = StatusForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _edit_page(sender, status_form=form, status=422)
    status = SenderNumberStatus(form.action.data)
    try:
        services.change_status(sender, status, note=form.note.data or "", actor=current_user)
    except services.SenderNumberError as exc:
        _error(form, exc)
        return _edit_page(sender, status_form=form, status=422)
    db.session.commit()
    number = services.display(sender.number)
    messages = {
        SenderNumberStatus.VERIFIED: _("%(number)s verified.", number=number),
        SenderNumberStatus.REJECTED: _("%(number)s rejected.", number=number),
        SenderNumberStatus.BLOCKED: _(
            "%(number)s blocked: no message is sent from it.", number=number
        ),
    }
    flash(messages[status], "success")
    using = _defaults().get(sender.number, [])
    if status is not SenderNumberStatus.VERIFIED and using:
        flash(
            _(
                "%(codes)s uses this number as its default sender: its messages without a "
                "sender number are refused until its default sender changes.",
                codes=", ".join(using),
            ),
            "warning",
        )
    return redirect(url_for("sender_numbers.list_numbers"))


@bp.post("/sender-numbers/<int:sender_id>/delete")
@access(Role.VIEWER, Role.ADMIN)
def delete(sender_id: int):
    """Delete a number, unless a provider uses it as its default sender (the page says so)."""
    sender = db.get_or_404(SenderNumber, sender_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    number = services.display(sender.number)
    try:
        services.delete(sender, actor=current_user)
    except services.SenderNumberError as exc:
        flash(_(exc.reason, **exc.params), "error")
        return redirect(url_for("sender_numbers.edit", sender_id=sender_id), 303)
    db.session.commit()
    flash(_("%(number)s deleted.", number=number), "success")
    return redirect(url_for("sender_numbers.list_numbers"))


@bp.post("/sender-numbers/sync")
@access(Role.VIEWER, Role.ADMIN)
def sync():
    """Import the numbers a vendor lists for a provider (verified by the vendor)."""
    form = SyncForm()
    providers = provider_services.all_providers()
    form.set_providers([p for p in providers if services.can_sync(p)])
    provider = None
    if form.validate_on_submit():
        provider = provider_services.get_by_code(form.provider.data)
        if provider is None or not services.can_sync(provider):
            form.provider.errors = [
                _("This provider's vendor has no API that lists sender numbers.")
            ]
        else:
            try:
                report = services.sync_from_provider(provider, actor=current_user)
            except services.SyncError as exc:
                db.session.rollback()
                form.provider.errors = [_(exc.reason, **exc.params)]
            else:
                db.session.commit()
                return _list_page(report=report, synced=provider)
    return _list_page(sync_form=form, status=422)
