"""Forms of the console-wide settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from kmsg_console.sending.duplicates import MAX_WINDOW_MINUTES


class SendingRulesForm(FlaskForm):
    """The console-wide duplicate-send window."""

    duplicate_window = IntegerField(
        _l("Duplicate-send window (minutes)"),
        validators=[
            InputRequired(),
            NumberRange(
                0,
                MAX_WINDOW_MINUTES,
                message=_l("Enter 0 (off) to %(max)s minutes.", max=MAX_WINDOW_MINUTES),
            ),
        ],
    )
