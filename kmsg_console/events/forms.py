"""The webhook endpoint form (create and edit)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from kmsg_console.events.services import DESCRIPTION_MAX, URL_MAX
from kmsg_console.events.types import EventType
from kmsg_console.web.forms import choices


class EndpointForm(FlaskForm):
    url = StringField(_l("URL"), validators=[DataRequired(), Length(max=URL_MAX)])
    description = StringField(
        _l("Description"), validators=[Optional(), Length(max=DESCRIPTION_MAX)]
    )
    event_types = SelectMultipleField(
        _l("Event types"),
        choices=lambda: choices((t.value, f"{t.value} · {_l(t.label)}") for t in EventType),
        validators=[DataRequired(message=_l("Choose at least one event type."))],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )
    enabled = BooleanField(_l("Enabled"), default=True)
