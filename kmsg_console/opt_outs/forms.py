"""Forms of the opt-out page: filter (GET), add, CSV import."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from kmsg_console.messaging.phone import format_opt_out_line
from kmsg_console.opt_outs.models import GLOBAL_SCOPE
from kmsg_console.opt_outs.services import NOTE_MAX
from kmsg_console.web.forms import choices


class OptOutFilterForm(FlaskForm):
    class Meta:
        csrf = False

    phone = StringField(_l("Phone number"), validators=[Optional(), Length(max=32)])
    scope = SelectField(_l("Scope"), validators=[Optional()], validate_choice=False)

    def set_scopes(self, scopes: list[str]) -> None:
        self.scope.choices = choices(
            [("", _l("Any")), (GLOBAL_SCOPE, _l("All advertising"))]
            + [(scope, format_opt_out_line(scope)) for scope in scopes]
        )


class AddOptOutForm(FlaskForm):
    phone = StringField(_l("Phone number"), validators=[DataRequired(), Length(max=32)])
    scope = StringField(_l("080 opt-out number"), validators=[Optional(), Length(max=32)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=NOTE_MAX)])


class ImportOptOutsForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired()])


class SyncOptOutsForm(FlaskForm):
    """Import a provider's block list (the providers that keep one are the choices)."""

    provider = SelectField(_l("Provider"), validators=[DataRequired()])

    def set_providers(self, providers) -> None:
        self.provider.choices = choices((p.code, f"{p.name} ({p.code})") for p in providers)
