"""``/otp``: send a test code, follow it live, check it; recent verifications; purposes.

Every OTP page sits in an ``hx-history="false"`` container and, like every console response,
is sent with ``Cache-Control: no-store``. A code is shown only in the sandbox delivery panel,
to the operator who started that test; an API verification's code is never shown.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.otp import purposes, queries, refusals, services
from kmsg_console.otp.chart import conversion_chart
from kmsg_console.otp.forms import CheckForm, PurposeForm, RecentFilterForm, StartForm
from kmsg_console.otp.models import Verification, VerificationPurpose, VerificationStatus
from kmsg_console.web.access import access, can
from kmsg_console.web.forms import EmptyForm
from kmsg_console.web.htmx import is_partial
from kmsg_console.web.pagination import BadCursor

bp = Blueprint("otp", __name__, url_prefix="/otp")


@bp.app_template_filter("purpose_name")
def purpose_name(name: str | None) -> str:
    """A purpose's name as the operator reads it (see ``services.SEEDED_NAMES``)."""
    return services.SEEDED_NAMES.shown(name)


# -- the console ----------------------------------------------------------------------------


def _recent(form: RecentFilterForm) -> dict:
    filters = form.data if form.validate() else {}
    try:
        page = queries.recent_page(
            filters, cursor=request.args.get("cursor"), per_page=current_app.config["PAGE_SIZE"]
        )
    except BadCursor:
        abort(400)
    return {
        "filter_form": form,
        "page": page,
        "operators": queries.operator_labels(page.items),
        "effective_status": queries.effective_status,
    }


def _console_page(form: StartForm, *, refusal: refusals.Refusal | None = None, status: int = 200):
    conversion = queries.conversion()
    context = _recent(RecentFilterForm(request.args))
    return (
        render_template(
            "otp/console.html",
            form=form,
            refusal=refusal,
            conversion=conversion,
            chart=conversion_chart(conversion),
            **context,
        ),
        status,
        refusal.headers if refusal else {},
    )


@bp.get("", endpoint="console")
@access(Role.OPERATOR)
def index():
    """Send a test code; recent verifications and conversion (the list alone for htmx)."""
    if is_partial():
        return render_template("otp/_recent.html", **_recent(RecentFilterForm(request.args)))
    return _console_page(StartForm())


@bp.post("")
@access(Role.OPERATOR)
def start():
    """Start a verification through the real OTP and send engines, then follow it."""
    form = StartForm()
    if not form.validate_on_submit():
        return _console_page(form, status=422)
    try:
        verification = services.start(
            phone=form.phone.data,
            purpose_code=form.purpose.data,
            client_ip=request.remote_addr,
            user_ref=f"operator:{current_user.id}",
            operator=current_user,
            provider_code=form.provider.data or None,
        )
    except services.OtpRefused as exc:
        refusal = refusals.explain(exc)
        field_name = refusals.FIELD_OF.get(exc.code)
        if field_name:
            form[field_name].errors = [refusal.message]
        else:
            refusals.record_refused_start(
                refusal, purpose=form.purpose.data, raw_phone=form.phone.data
            )
            db.session.commit()
        return _console_page(form, refusal=None if field_name else refusal, status=exc.status)
    db.session.commit()
    flash(_("Test code sent to %(to)s.", to=verification.phone_masked), "success")
    return redirect(url_for("otp.verification", public_id=verification.public_id), 303)


# -- one verification -----------------------------------------------------------------------


def _verification_or_404(public_id: str) -> Verification:
    verification = queries.find(public_id)
    if verification is None:
        abort(404)
    return verification


def _verification_page(
    verification: Verification,
    *,
    check_form: CheckForm | None = None,
    refusal: refusals.Refusal | None = None,
    status: int = 200,
):
    return (
        render_template(
            "otp/verification.html",
            live=queries.live_view(verification, viewer_id=current_user.id),
            oob=False,
            check_form=check_form or CheckForm(formdata=None),
            cancel_form=EmptyForm(),
            refusal=refusal,
        ),
        status,
        refusal.headers if refusal else {},
    )


@bp.get("/verifications/<public_id>")
@access(Role.OPERATOR)
def verification(public_id: str):
    """One verification; htmx polls the live panel from the same URL while it is pending."""
    found = _verification_or_404(public_id)
    if is_partial():
        return render_template(
            "otp/_live.html", live=queries.live_view(found, viewer_id=current_user.id), oob=True
        )
    return _verification_page(found)


def _check_outcome(result: services.CheckResult) -> str:
    if result.status is VerificationStatus.PENDING:
        return _("Wrong code. %(n)d attempts left.", n=result.attempts_left)
    if result.status is VerificationStatus.MAX_ATTEMPTS:
        return _(
            # One msgid in the catalogues, so not split.
            "Wrong code, and that was the last attempt: this verification can no longer be approved."  # noqa: E501
        )
    if result.status is VerificationStatus.EXPIRED:
        return _("The code has expired; start a new verification.")
    return _("This verification was canceled; start a new one.")


@bp.post("/verifications/<public_id>/check")
@access(Role.OPERATOR)
def check(public_id: str):
    """Check a code as the application would; the typed code is never shown back."""
    found = _verification_or_404(public_id)
    form = CheckForm()
    if not form.validate_on_submit():
        return _verification_page(found, check_form=form, status=422)
    try:
        result = services.check(
            public_id, form.code.data, client_ip=request.remote_addr, operator=current_user
        )
    except services.OtpRefused as exc:
        refusal = refusals.explain(exc, checking=True)
        field_name = refusals.CHECK_FIELD_OF.get(exc.code)
        if field_name:
            form[field_name].errors = [refusal.message]
            return _verification_page(found, check_form=form, status=exc.status)
        return _verification_page(found, check_form=form, refusal=refusal, status=exc.status)
    db.session.commit()
    if result.status is VerificationStatus.APPROVED:
        flash(_("Code accepted: the verification is approved."), "success")
        return redirect(url_for("otp.verification", public_id=public_id), 303)
    form.code.errors = [_check_outcome(result)]
    return _verification_page(found, check_form=form, status=422)


@bp.post("/verifications/<public_id>/cancel")
@access(Role.OPERATOR)
def cancel(public_id: str):
    """Cancel a pending verification: its code stops working."""
    found = _verification_or_404(public_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if services.cancel(found, operator=current_user):
        flash(_("Verification canceled; its code no longer works."), "success")
    else:
        flash(_("Only a pending verification can be canceled."), "error")
    db.session.commit()
    return redirect(url_for("otp.verification", public_id=public_id), 303)


# -- purposes -------------------------------------------------------------------------------


@bp.get("/purposes")
@access(Role.OPERATOR, write=Role.ADMIN)
def list_purposes():
    """Every verification purpose with its rules."""
    return render_template(
        "otp/purposes.html", purposes=purposes.all_purposes(), can_edit=can(Role.ADMIN)
    )


def _purpose_form_page(form: PurposeForm, purpose: VerificationPurpose | None):
    preview = purposes.preview(
        form.message_template.data,
        form.brand.data,
        form.lifetime_seconds.data,
        form.code_length.data,
    )
    return render_template(
        "otp/purpose_form.html",
        form=form,
        purpose=purpose,
        preview=preview,
        can_edit=can(Role.ADMIN),
    ), 422 if form.errors else 200


def _save(form: PurposeForm, purpose: VerificationPurpose | None) -> VerificationPurpose | None:
    """Validate and save; on failure leave the problems on ``form``'s fields and return None."""
    if not form.validate_on_submit():
        return None
    try:
        if purpose is None:
            purpose = purposes.create_purpose(form.code.data, form.settings())
        else:
            settings = form.settings()
            settings["name"] = services.SEEDED_NAMES.kept(settings["name"], purpose.name)
            purposes.update_purpose(purpose, settings)
    except purposes.PurposeInvalid as exc:
        db.session.rollback()
        for field_name, problem in exc.problems:
            form[field_name].errors = [*form[field_name].errors, _(purposes.PROBLEMS[problem])]
        return None
    db.session.commit()
    return purpose


@bp.route("/purposes/new", methods=["GET", "POST"])
@access(Role.OPERATOR, write=Role.ADMIN)
def create_purpose():
    """Add a purpose (admins); operators see the form read-only."""
    form = PurposeForm() if request.method == "POST" else PurposeForm(data=purposes.form_defaults())
    saved = _save(form, None)
    if saved is not None:
        flash(_("Purpose %(code)s saved.", code=saved.code), "success")
        return redirect(url_for("otp.list_purposes"), 303)
    return _purpose_form_page(form, None)


@bp.route("/purposes/<int:purpose_id>/edit", methods=["GET", "POST"])
@access(Role.OPERATOR, write=Role.ADMIN)
def edit_purpose(purpose_id: int):
    """Change a purpose's rules and text (admins); its id never changes."""
    purpose = db.get_or_404(VerificationPurpose, purpose_id)
    form = PurposeForm() if request.method == "POST" else PurposeForm(obj=purpose)
    del form.code  # the id never changes
    if request.method != "POST":
        form.name.data = services.SEEDED_NAMES.shown(purpose.name)
    if _save(form, purpose) is not None:
        flash(_("Purpose %(code)s saved.", code=purpose.code), "success")
        return redirect(url_for("otp.list_purposes"), 303)
    return _purpose_form_page(form, purpose)


@bp.post("/purposes/preview")
@access(Role.OPERATOR, write=Role.ADMIN)
def preview_purpose():
    """The rendered SMS with a sample code and its byte count, for what is typed so far (htmx)."""
    form = PurposeForm()
    return render_template(
        "otp/_preview.html",
        preview=purposes.preview(
            form.message_template.data,
            form.brand.data,
            form.lifetime_seconds.data,
            form.code_length.data,
        ),
    )
