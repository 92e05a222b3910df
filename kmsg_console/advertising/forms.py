"""The advertising settings form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from kmsg_console.advertising.services import SENDER_NAME_MAX


class AdSettingsForm(FlaskForm):
    sender_name = StringField(
        _l("Sender name"), validators=[InputRequired(), Length(max=SENDER_NAME_MAX)]
    )
    opt_out_line = StringField(
        _l("Free 080 opt-out number"), validators=[InputRequired(), Length(max=32)]
    )
