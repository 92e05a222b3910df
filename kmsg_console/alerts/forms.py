"""The alert thresholds form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange, Optional


class AlertSettingsForm(FlaskForm):
    failure_rate_percent = IntegerField(
        _l("Failure rate alert (percent)"),
        description=_l("Empty: no failure-rate alert."),
        validators=[Optional(), NumberRange(1, 100, message=_l("Enter 1 to 100."))],
    )
    failure_window_minutes = IntegerField(
        _l("Failure rate window (minutes)"),
        validators=[InputRequired(), NumberRange(5, 1440, message=_l("Enter 5 to 1440 minutes."))],
    )
    failure_min_messages = IntegerField(
        _l("Failure rate minimum messages"),
        description=_l("Fewer messages in the window raise no alert."),
        validators=[InputRequired(), NumberRange(1, 100_000, message=_l("Enter 1 to 100,000."))],
    )
    daily_volume_cap = IntegerField(
        _l("Daily volume cap (messages)"),
        description=_l("Messages sent per KST day. Empty: no cap."),
        validators=[Optional(), NumberRange(1, 100_000_000, message=_l("Enter 1 to 100,000,000."))],
    )
    monthly_volume_cap = IntegerField(
        _l("Monthly volume cap (messages)"),
        description=_l("Messages sent per KST month. Empty: no cap."),
        validators=[Optional(), NumberRange(1, 100_000_000, message=_l("Enter 1 to 100,000,000."))],
    )
