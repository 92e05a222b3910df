"""Forms for signing in and for managing operators."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from kmsg_console.operators.models import Role
from kmsg_console.operators.passwords import MAX_LENGTH, MIN_LENGTH
from kmsg_console.web.forms import choices

#: Messages for OperatorError codes raised by the services.
ERROR_MESSAGES = {
    "bad_email": _l("Enter a valid e-mail address."),
    "email_taken": _l("An operator with this e-mail already exists."),
    "too_short": _l("Use at least %(n)s characters.", n=MIN_LENGTH),
    "too_long": _l("Use at most %(n)s characters.", n=MAX_LENGTH),
    "contains_email": _l("The password must not contain the e-mail address."),
    "last_admin": _l("The last active admin cannot be demoted or disabled."),
    "disable_self": _l("You cannot disable your own account."),
    "wrong_current": _l("The current password is not correct."),
}


def role_choices():
    return choices(
        (role.value, _l(role.label)) for role in (Role.VIEWER, Role.OPERATOR, Role.ADMIN)
    )


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_LENGTH)])
    remember = BooleanField(_l("Keep me signed in on this device"))


class CreateOperatorForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    display_name = StringField(_l("Name"), validators=[Optional(), Length(max=100)])
    role = SelectField(_l("Role"), choices=role_choices, default=Role.VIEWER.value)
    password = PasswordField(
        _l("Initial password"), validators=[DataRequired(), Length(max=MAX_LENGTH)]
    )


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=role_choices)


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(max=MAX_LENGTH)]
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )


class PreferencesForm(FlaskForm):
    locale = SelectField(
        _l("Language"),
        choices=choices([("", _l("Browser setting")), ("ko", "한국어"), ("en", "English")]),
        validators=[Optional()],
    )
    timezone = SelectField(_l("Time zone"), validators=[Optional()])
