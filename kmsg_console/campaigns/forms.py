"""Forms of the campaign pages: create (with the recipient file)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateTimeLocalField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from kmsg_console.campaigns.services import DEFAULT_RATE, NAME_MAX


class CampaignForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=NAME_MAX)])
    text = TextAreaField(_l("Text"), validators=[Optional(), Length(max=4000)])
    template_code = StringField(
        _l("AlimTalk template code"), validators=[Optional(), Length(max=64)]
    )
    subject = StringField(_l("Subject (LMS)"), validators=[Optional(), Length(max=120)])
    from_number = StringField(_l("Sender number"), validators=[Optional(), Length(max=32)])
    ad = BooleanField(_l("Advertising"))
    rate = IntegerField(
        _l("Rate (messages per second)"),
        default=DEFAULT_RATE,
        validators=[DataRequired(), NumberRange(min=1, max=10_000)],
    )
    scheduled_at = DateTimeLocalField(
        _l("Start at (Korea time)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    file = FileField(_l("Recipients (CSV file)"), validators=[FileRequired()])
