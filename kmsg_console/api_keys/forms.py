"""Form for creating an API key."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from kmsg_console.api_keys.models import Scope
from kmsg_console.web.forms import choices


class CreateApiKeyForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    scopes = SelectMultipleField(
        _l("Scopes"),
        choices=lambda: choices((scope.value, _l(scope.label)) for scope in Scope),
        validators=[DataRequired(message=_l("Choose at least one scope."))],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )
