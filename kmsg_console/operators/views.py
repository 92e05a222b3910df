"""Sign-in, sign-out and the admin pages for operators."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from kmsg_console.extensions import db
from kmsg_console.operators import services
from kmsg_console.operators.forms import ERROR_MESSAGES, CreateOperatorForm, LoginForm, RoleForm
from kmsg_console.operators.models import Operator, Role
from kmsg_console.web.access import access, public
from kmsg_console.web.forms import EmptyForm
from kmsg_console.web.session import session_id, signed_in_at, start_session

bp = Blueprint("operators", __name__)


def _safe_next(target: str | None) -> str:
    """Only follow ``next`` to a path on this site (no scheme, no host)."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("dashboard.index")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Sign in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        result = services.authenticate(form.email.data, form.password.data, request.remote_addr)
        if result.operator is not None:
            db.session.commit()
            remember = bool(form.remember.data and current_app.config["REMEMBER_ME"])
            start_session()
            login_user(result.operator, remember=remember)
            return redirect(_safe_next(request.args.get("next")))
        db.session.commit()
        if result.retry_after is not None:
            status = 429
        # One message for unknown e-mail, wrong password, disabled account and throttling,
        # so the answer never tells which accounts exist.
        form.password.errors.append(
            _(
                "The e-mail or password is not correct, or too many attempts were made. "
                "Wait a moment and try again."
            )
        )
    response = current_app.make_response(
        (render_template("operators/login.html", form=form), status)
    )
    if status == 429:
        response.headers["Retry-After"] = "30"
    return response


@bp.post("/logout")
@access(Role.VIEWER, write=Role.VIEWER)
def logout():
    """Sign out: this session ends here and on every copy of its cookie."""
    services.sign_out(current_user._get_current_object(), session_id(), signed_in_at())
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("operators.login"))


@bp.get("/operators")
@access(Role.ADMIN)
def list_operators():
    """Every operator with role and status."""
    operators = db.session.scalars(sa.select(Operator).order_by(Operator.email)).all()
    return render_template(
        "operators/list.html", operators=operators, role_form=RoleForm(), action_form=EmptyForm()
    )


@bp.route("/operators/new", methods=["GET", "POST"])
@access(Role.ADMIN)
def create():
    """Add an operator."""
    form = CreateOperatorForm()
    if form.validate_on_submit():
        try:
            operator = services.create_operator(
                form.email.data,
                form.password.data,
                Role(form.role.data),
                display_name=form.display_name.data or "",
                actor=current_user,
            )
        except services.OperatorError as exc:
            field = form.email if str(exc) in {"bad_email", "email_taken"} else form.password
            field.errors.append(ERROR_MESSAGES[str(exc)])
        else:
            db.session.commit()
            flash(_("Operator %(email)s created.", email=operator.email), "success")
            return redirect(url_for("operators.list_operators"))
    return render_template("operators/form.html", form=form), 200 if not form.errors else 422


def _operator_or_404(operator_id: int) -> Operator:
    return db.get_or_404(Operator, operator_id)


@bp.post("/operators/<int:operator_id>/role")
@access(Role.ADMIN)
def change_role(operator_id: int):
    """Change an operator's role."""
    operator = _operator_or_404(operator_id)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            services.change_role(operator, Role(form.role.data), actor=current_user)
        except services.OperatorError as exc:
            flash(ERROR_MESSAGES[str(exc)], "error")
        else:
            db.session.commit()
            flash(
                _(
                    "Role of %(email)s is now %(role)s.",
                    email=operator.email,
                    role=_(operator.role.label),
                ),
                "success",
            )
    else:
        flash(_("Choose a valid role."), "error")
    return redirect(url_for("operators.list_operators"))


@bp.post("/operators/<int:operator_id>/active")
@access(Role.ADMIN)
def toggle_active(operator_id: int):
    """Disable or re-enable an operator."""
    operator = _operator_or_404(operator_id)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            services.set_active(operator, not operator.is_active, actor=current_user)
        except services.OperatorError as exc:
            flash(ERROR_MESSAGES[str(exc)], "error")
        else:
            db.session.commit()
            if operator.is_active:
                flash(_("%(email)s enabled.", email=operator.email), "success")
            else:
                flash(_("%(email)s disabled.", email=operator.email), "success")
    return redirect(url_for("operators.list_operators"))
