"""``/account``: change your own password and display preferences."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_user

from kmsg_console.extensions import db
from kmsg_console.operators import services
from kmsg_console.operators.forms import ERROR_MESSAGES, PasswordForm, PreferencesForm
from kmsg_console.operators.models import Role
from kmsg_console.web.access import access
from kmsg_console.web.forms import choices
from kmsg_console.web.session import start_session

bp = Blueprint("account", __name__)

_COMMON_ZONES = [
    "Asia/Seoul",
    "UTC",
    "Asia/Tokyo",
    "Asia/Singapore",
    "America/Los_Angeles",
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
]


def _zone_choices():
    others = sorted(z for z in available_timezones() if "/" in z and z not in _COMMON_ZONES)
    default = ("", _("Default (%(zone)s)", zone=current_app.config["DEFAULT_TIMEZONE"]))
    return choices([default] + [(z, z) for z in _COMMON_ZONES + others])


def _forms() -> tuple[PasswordForm, PreferencesForm]:
    prefs = PreferencesForm(
        prefix="prefs",
        data={"locale": current_user.locale or "", "timezone": current_user.timezone or ""},
    )
    prefs.timezone.choices = _zone_choices()
    return PasswordForm(prefix="pw"), prefs


@bp.get("/account")
@access(Role.VIEWER, write=Role.VIEWER)
def settings():
    """Show the password and preference forms."""
    password_form, prefs_form = _forms()
    return render_template(
        "account/settings.html", password_form=password_form, prefs_form=prefs_form
    )


@bp.post("/account/password")
@access(Role.VIEWER, write=Role.VIEWER)
def change_password():
    """Change your password; other sessions end, this one continues."""
    _unused, prefs_form = _forms()
    form = PasswordForm(prefix="pw")
    if form.validate_on_submit():
        try:
            services.change_own_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except services.OperatorError as exc:
            field = form.current_password if str(exc) == "wrong_current" else form.new_password
            field.errors.append(ERROR_MESSAGES[str(exc)])
            db.session.commit()  # keeps the audit row of a failed attempt
        else:
            db.session.commit()
            operator = current_user._get_current_object()
            start_session()
            login_user(operator)
            flash(_("Your password was changed."), "success")
            return redirect(url_for("account.settings"))
    return render_template("account/settings.html", password_form=form, prefs_form=prefs_form), 422


@bp.post("/account/preferences")
@access(Role.VIEWER, write=Role.VIEWER)
def update_preferences():
    """Save language and time zone."""
    password_form, _unused = _forms()
    form = PreferencesForm(prefix="prefs")
    form.timezone.choices = _zone_choices()
    if form.validate_on_submit():
        services.update_preferences(
            current_user, locale=form.locale.data, timezone=form.timezone.data
        )
        db.session.commit()
        refresh()
        flash(_("Preferences saved."), "success")
        return redirect(url_for("account.settings"))
    return render_template(
        "account/settings.html", password_form=password_form, prefs_form=form
    ), 422
