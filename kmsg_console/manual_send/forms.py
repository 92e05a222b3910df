"""The compose form of ``/send``; the preview carries the same fields back as hidden inputs."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, StopValidation, ValidationError

from kmsg_console.manual_send import services
from kmsg_console.messaging.types import MessageType
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
    #: Required except for AlimTalk, whose text is its approved template's (``validate_text``).
    text = TextAreaField(_l("Text"), filters=[_unix_newlines], validators=[Length(max=4000)])
    sender = StringField(
        _l("Sender number"), filters=[_strip], validators=[Optional(), Length(max=32)]
    )
    provider = SelectField(_l("Provider"), validators=[Optional()])
    # AlimTalk: an approved template, its variables and the Kakao sender profile.
    template_code = SelectField(_l("AlimTalk template"), validate_choice=False)
    variables = TextAreaField(
        _l("Template variables"), filters=[_unix_newlines], validators=[Length(max=2000)]
    )
    #: A registered profile of the chosen provider (``_kakao_profile.html`` lists them).
    kakao_profile = SelectField(
        _l("Kakao sender profile"),
        filters=[_strip],
        validators=[Optional(), Length(max=64)],
        validate_choice=False,
    )
    #: An advertising message (정보통신망법 제50조): the advertising rules apply.
    ad = BooleanField(_l("Advertising"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.type.choices = choices(services.type_options())
        self.provider.choices = choices(services.provider_options())
        self.template_code.choices = choices(services.template_options())

    @property
    def is_alimtalk(self) -> bool:
        return services.requested_type(self.type.data) is MessageType.ALIMTALK

    def validate_text(self, field) -> None:
        if not self.is_alimtalk and not field.data:
            raise StopValidation(_("This field is required."))

    def validate_template_code(self, field) -> None:
        if not self.is_alimtalk:
            return
        if not field.data or field.data not in {c.value for c in self.template_code.choices}:
            raise StopValidation(_("Choose an approved AlimTalk template."))

    def validate_kakao_profile(self, field) -> None:
        """Only a registered, usable profile of the chosen provider (no typed key)."""
        if not field.data or not self.is_alimtalk:
            return
        problem = services.kakao_profile_problem(self.provider.data, field.data)
        if problem is not None:
            raise ValidationError(_(problem[0], **problem[1]))

    def variable_values(self) -> dict[str, str]:
        """``name=value`` lines of the variables box; blank and malformed lines are ignored."""
        values: dict[str, str] = {}
        for line in (self.variables.data or "").splitlines():
            name, sep, value = line.partition("=")
            if sep and name.strip():
                values[name.strip()] = value.strip()
        return values
