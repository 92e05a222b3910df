"""``/throttle-policies``: operators read, admins edit; a dry-run tester for both."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kmsg_console.extensions import db
from kmsg_console.messaging.phone import InvalidPhoneNumber
from kmsg_console.operators.models import Role
from kmsg_console.orm import utcnow
from kmsg_console.throttle import engine, services
from kmsg_console.throttle.forms import (
    ERROR_MESSAGES,
    ListEntryForm,
    PolicyForm,
    TesterForm,
    split_seconds,
)
from kmsg_console.throttle.models import (
    EntryMatch,
    ListKind,
    ThrottleListEntry,
    ThrottlePolicy,
    ThrottleWindow,
)
from kmsg_console.web.access import access
from kmsg_console.web.forms import EmptyForm
from kmsg_console.web.htmx import is_partial
from kmsg_console.web.pagination import BadCursor

bp = Blueprint("throttle", __name__, url_prefix="/throttle-policies")

RECENT = timedelta(hours=24)


@bp.app_template_filter("throttle_span")
def throttle_span(seconds: float) -> str:
    """``600`` → "10 min", ``200`` → "200 s", ``514.3`` → "8.6 min"."""
    if float(seconds).is_integer():
        amount, unit = split_seconds(int(seconds))
    else:
        unit = next(u for u in (86400, 3600, 60, 1) if seconds >= u or u == 1)
        amount = round(seconds / unit, 1)  # type: ignore[assignment]
    labels = {
        86400: _("%(n)s d", n=amount),
        3600: _("%(n)s h", n=amount),
        60: _("%(n)s min", n=amount),
        1: _("%(n)s s", n=amount),
    }
    return labels[unit]


@bp.app_template_filter("policy_text")
def policy_text(text: str | None) -> str:
    """A policy's name or description as the operator reads it (see ``services.SEEDED``)."""
    return services.SEEDED.shown(text)


@bp.context_processor
def _template_names() -> dict:
    return {"Role": Role}


def _policy_or_404(policy_id: int) -> ThrottlePolicy:
    return db.get_or_404(ThrottlePolicy, policy_id)


def _row_context(policy: ThrottlePolicy) -> dict:
    counts = services.event_counts(utcnow() - RECENT).get(policy.id, {})
    return {"policy": policy, "counts": counts}


@bp.get("")
@access(Role.OPERATOR, write=Role.ADMIN)
def list_policies():
    """Every policy with its windows and the last 24 hours of blocks."""
    policies = db.session.scalars(sa.select(ThrottlePolicy).order_by(ThrottlePolicy.name)).all()
    counts = services.event_counts(utcnow() - RECENT)
    return render_template(
        "throttle/list.html",
        policies=policies,
        all_counts=counts,
        backend=engine.runtime().backend.name,
    )


def _save(form: PolicyForm, policy: ThrottlePolicy | None) -> ThrottlePolicy | None:
    """Validate and save; on failure leave field errors on ``form`` and return None."""
    data = form.to_data() if form.validate_on_submit() else None
    if data is None:
        return None
    if policy is not None:
        data.name = services.SEEDED.kept(data.name, policy.name)
        data.description = services.SEEDED.kept(data.description, policy.description)
    try:
        if policy is None:
            policy = services.create_policy(data, actor=current_user)
        else:
            services.update_policy(policy, data, actor=current_user)
    except services.ThrottleError as exc:
        db.session.rollback()
        form.add_error(exc)
        return None
    db.session.commit()
    return policy


@bp.route("/new", methods=["GET", "POST"])
@access(Role.OPERATOR, write=Role.ADMIN)
def create():
    """Add a policy."""
    form = PolicyForm() if request.method == "POST" else PolicyForm(data={"windows": [{}, {}]})
    policy = _save(form, None) if request.method == "POST" else None
    if policy is not None:
        flash(_("Policy %(name)s created.", name=policy_text(policy.name)), "success")
        return redirect(url_for("throttle.detail", policy_id=policy.id))
    status = 422 if request.method == "POST" else 200
    return render_template("throttle/form.html", form=form, policy=None), status


@bp.route("/<int:policy_id>/edit", methods=["GET", "POST"])
@access(Role.OPERATOR, write=Role.ADMIN)
def edit(policy_id: int):
    """Change a policy and its windows."""
    policy = _policy_or_404(policy_id)
    if request.method == "GET":
        return render_template(
            "throttle/form.html", form=PolicyForm.for_policy(policy), policy=policy
        )
    form = PolicyForm()
    if _save(form, policy) is not None:
        flash(_("Policy %(name)s saved.", name=policy_text(policy.name)), "success")
        return redirect(url_for("throttle.detail", policy_id=policy.id))
    return render_template("throttle/form.html", form=form, policy=policy), 422


@bp.get("/<int:policy_id>")
@access(Role.OPERATOR, write=Role.ADMIN)
def detail(policy_id: int):
    """One policy: windows, live counters and recent blocks."""
    policy = _policy_or_404(policy_id)
    page = services.policy_events(policy.id, cursor=None, per_page=current_app.config["PAGE_SIZE"])
    return render_template(
        "throttle/detail.html",
        policy=policy,
        page=page,
        counters=services.policy_counters(policy),
        now=utcnow(),
    )


@bp.post("/<int:policy_id>/toggle")
@access(Role.OPERATOR, write=Role.ADMIN)
def toggle(policy_id: int):
    """Enable or disable a policy."""
    policy = _policy_or_404(policy_id)
    if EmptyForm().validate_on_submit():
        services.set_enabled(policy, not policy.enabled, actor=current_user)
        db.session.commit()
    if is_partial():
        return render_template("throttle/_row.html", **_row_context(policy))
    if policy.enabled:
        flash(_("Policy %(name)s enabled.", name=policy_text(policy.name)), "success")
    else:
        flash(_("Policy %(name)s disabled.", name=policy_text(policy.name)), "success")
    return redirect(url_for("throttle.detail", policy_id=policy.id))


@bp.post("/<int:policy_id>/windows/<int:window_id>/delete")
@access(Role.OPERATOR, write=Role.ADMIN)
def delete_window(policy_id: int, window_id: int):
    """Remove one window of a policy."""
    policy = _policy_or_404(policy_id)
    window = db.get_or_404(ThrottleWindow, window_id)
    error = None
    if EmptyForm().validate_on_submit():
        try:
            services.delete_window(policy, window, actor=current_user)
        except services.ThrottleError as exc:
            db.session.rollback()
            error = ERROR_MESSAGES[exc.code]
        else:
            db.session.commit()
    if is_partial():
        return render_template(
            "throttle/_windows.html", policy=policy, error=error
        ), 422 if error else 200
    flash(error or _("Window removed."), "error" if error else "success")
    return redirect(url_for("throttle.detail", policy_id=policy.id))


@bp.get("/<int:policy_id>/events")
@access(Role.OPERATOR, write=Role.ADMIN)
def events(policy_id: int):
    """Recent blocks of one policy (a fragment; keyset pages)."""
    policy = _policy_or_404(policy_id)
    try:
        page = services.policy_events(
            policy.id, cursor=request.args.get("cursor"), per_page=current_app.config["PAGE_SIZE"]
        )
    except BadCursor:
        abort(400)
    return render_template("throttle/_events.html", policy=policy, page=page)


@bp.get("/<int:policy_id>/counters")
@access(Role.OPERATOR, write=Role.ADMIN)
def counters(policy_id: int):
    """Live counters of one policy (a fragment)."""
    policy = _policy_or_404(policy_id)
    return render_template(
        "throttle/_counters.html",
        policy=policy,
        counters=services.policy_counters(policy),
        now=utcnow(),
    )


@bp.route("/test", methods=["GET", "POST"])
@access(Role.OPERATOR)
def tester():
    """Would this request be allowed? A dry run that counts nothing."""
    form = TesterForm()
    decision = None
    if form.validate_on_submit():
        try:
            phone = services.normalize_number(form.phone.data) if form.phone.data else None
        except InvalidPhoneNumber as exc:
            form.phone.errors.append(_(exc.reason, **exc.params))
        else:
            ctx = engine.ThrottleContext(
                phone=phone,
                ip=(form.ip.data or "").strip() or None,
                api_key_id=form.api_key_id.data,
                purpose=form.purpose.data or None,
                user_ref=form.user_ref.data or None,
            )
            decision = engine.check_and_consume(form.action.data, ctx, dry_run=True)
    status = 422 if request.method == "POST" and decision is None else 200
    template = "throttle/_tester.html" if is_partial() else "throttle/tester.html"
    return render_template(template, form=form, decision=decision), status


def _lists_response(form: ListEntryForm, status: int = 200):
    template = "throttle/_lists.html" if is_partial() else "throttle/lists.html"
    hits = services.policy_events(None, cursor=None, per_page=20).items
    return render_template(template, form=form, entries=services.list_entries(), hits=hits), status


@bp.get("/lists")
@access(Role.OPERATOR, write=Role.ADMIN)
def lists():
    """The safelist and the blocklist."""
    return _lists_response(ListEntryForm())


@bp.post("/lists")
@access(Role.OPERATOR, write=Role.ADMIN)
def add_entry():
    """Add a number or prefix to the safelist or the blocklist."""
    form = ListEntryForm()
    if form.validate_on_submit():
        try:
            services.add_list_entry(
                ListKind(form.list_kind.data),
                EntryMatch(form.match.data),
                form.value.data,
                form.note.data or "",
                actor=current_user,
            )
        except services.ThrottleError as exc:
            db.session.rollback()
            form.value.errors.append(ERROR_MESSAGES[exc.code])
        else:
            db.session.commit()
            if not is_partial():
                flash(_("Entry added."), "success")
                return redirect(url_for("throttle.lists"))
            return _lists_response(ListEntryForm(formdata=None))
    return _lists_response(form, 422)


@bp.post("/lists/<int:entry_id>/delete")
@access(Role.OPERATOR, write=Role.ADMIN)
def delete_entry(entry_id: int):
    """Remove a safelist or blocklist entry."""
    entry = db.get_or_404(ThrottleListEntry, entry_id)
    if EmptyForm().validate_on_submit():
        services.remove_list_entry(entry, actor=current_user)
        db.session.commit()
    if is_partial():
        return _lists_response(ListEntryForm(formdata=None))
    flash(_("Entry removed."), "success")
    return redirect(url_for("throttle.lists"))
