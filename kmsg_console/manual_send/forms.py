"""The compose form of ``/send``; the preview carries the same fields back as hidden inputs."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from kmsg_console.manual_send import services
from kmsg_console.web.forms import choices


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _unix_newlines(value: str | None) -> str | None:
    # Browsers submit textarea line breaks as CRLF; the API sends LF. Count and send the same.
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


class ComposeForm(FlaskForm):
    """SMS/LMS for now; ``services.OFFERED_TYPES`` says how AlimTalk joins."""

    to = StringField(
        _l("Recipient"), filters=[_strip], validators=[InputRequired(), Length(max=32)]
    )
    type = SelectField(_l("Type"), validators=[Optional()])
    subject = StringField(_l("Subject"), filters=[_strip], validators=[Optional(), Length(max=200)])
    text = TextAreaField(
        _l("Text"), filters=[_unix_newlines], validators=[InputRequired(), Length(max=4000)]
    )
    sender = StringField(
        _l("Sender number"), filters=[_strip], validators=[Optional(), Length(max=32)]
    )
    provider = SelectField(_l("Provider"), validators=[Optional()])
    #: An advertising message (정보통신망법 제50조): the advertising rules apply.
    ad = BooleanField(_l("Advertising"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.type.choices = choices(services.type_options())
        self.provider.choices = choices(services.provider_options())
