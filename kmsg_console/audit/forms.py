"""Filter form of the audit log page (a GET form, so no CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional

from kmsg_console.web.forms import choices


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = StringField(_l("Action"), validators=[Optional(), Length(max=64)])
    actor = StringField(_l("Actor"), validators=[Optional(), Length(max=254)])
    outcome = SelectField(
        _l("Outcome"),
        choices=choices([("", _l("Any")), ("success", _l("Success")), ("failure", _l("Failure"))]),
        validators=[Optional()],
    )
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
