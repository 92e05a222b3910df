"""Forms of the test-OTP console and of the verification purposes."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from kmsg_console.extensions import db
from kmsg_console.otp.models import OtpChannel, VerificationPurpose, VerificationStatus
from kmsg_console.otp.services import SEEDED_NAMES, test_providers
from kmsg_console.web.forms import choices

PURPOSE_CODE_PATTERN = r"^[a-z0-9_]{2,40}$"


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _unix_newlines(value: str | None) -> str | None:
    # Browsers submit textarea line breaks as CRLF; count and send what the handset shows.
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def _purpose_choices(*, enabled_only: bool) -> list[tuple[str, str]]:
    query = sa.select(VerificationPurpose).order_by(VerificationPurpose.code)
    if enabled_only:
        query = query.where(VerificationPurpose.enabled.is_(True))
    return [(p.code, f"{SEEDED_NAMES.shown(p.name)} ({p.code})") for p in db.session.scalars(query)]


class StartForm(FlaskForm):
    """Send a test code to a number for a purpose."""

    phone = StringField(
        _l("Phone number"), filters=[_strip], validators=[DataRequired(), Length(max=32)]
    )
    purpose = SelectField(_l("Purpose"), validators=[InputRequired()])
    provider = SelectField(_l("Send through"), validators=[Optional()], default="")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.purpose.choices = choices(_purpose_choices(enabled_only=True))
        self.provider.choices = choices(
            [("", _("The routing table, like an API call"))]
            + [
                (
                    code,
                    _("%(name)s (%(code)s): the code shows on the next page", name=name, code=code),
                )
                for code, name in test_providers().items()
            ]
        )


class CheckForm(FlaskForm):
    """Check a code. The field is always rendered empty: a typed code is never echoed back."""

    code = StringField(_l("Code"), filters=[_strip], validators=[DataRequired(), Length(max=20)])


class RecentFilterForm(FlaskForm):
    """Filters of the recent verifications list (a GET form, so no CSRF token)."""

    class Meta:
        csrf = False

    # Own ids: the page also holds the start form, whose purpose select is ``#purpose``.
    purpose = SelectField(_l("Purpose"), id="recent-purpose", validators=[Optional()])
    status = SelectField(_l("Status"), id="recent-status", validators=[Optional()])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.purpose.choices = choices([("", _l("Any"))] + _purpose_choices(enabled_only=False))
        self.status.choices = choices(
            [("", _l("Any"))] + [(s.value, _l(s.label)) for s in VerificationStatus]
        )


class PurposeForm(FlaskForm):
    """A verification purpose. Ranges are checked by ``validate_purpose_settings``."""

    code = StringField(
        _l("Purpose id"),
        filters=[_strip],
        validators=[
            InputRequired(),
            Regexp(
                PURPOSE_CODE_PATTERN,
                message=_l("Use 2 to 40 lower-case letters, digits or underscores."),
            ),
        ],
    )
    name = StringField(_l("Name"), filters=[_strip], validators=[DataRequired(), Length(max=80)])
    enabled = BooleanField(_l("Enabled"), default=True)
    code_length = IntegerField(_l("Code length (digits)"), default=6, validators=[InputRequired()])
    lifetime_seconds = IntegerField(
        _l("Lifetime (seconds)"), default=180, validators=[InputRequired()]
    )
    max_checks = IntegerField(_l("Maximum checks"), default=5, validators=[InputRequired()])
    resend_cooldown_seconds = IntegerField(
        _l("Resend cooldown (seconds)"), default=30, validators=[InputRequired()]
    )
    channel = SelectField(_l("Channel"), default=OtpChannel.SMS.value)
    alimtalk_template_code = StringField(
        _l("AlimTalk template code"), filters=[_strip], validators=[Optional(), Length(max=64)]
    )
    sms_fallback = BooleanField(_l("Fall back to SMS when AlimTalk fails"), default=True)
    brand = StringField(_l("Brand"), filters=[_strip], validators=[Optional(), Length(max=30)])
    sender_number = StringField(
        _l("Sender number"), filters=[_strip], validators=[Optional(), Length(max=20)]
    )
    message_template = TextAreaField(
        _l("SMS text"), filters=[_unix_newlines], validators=[InputRequired(), Length(max=500)]
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.channel.choices = choices(
            [
                (OtpChannel.SMS.value, _l("SMS")),
                (OtpChannel.ALIMTALK.value, _l("AlimTalk (SMS fallback optional)")),
            ]
        )

    def settings(self) -> dict:
        """The purpose's settings as typed (everything but the id)."""
        return {
            name: self[name].data
            for name in (
                "name",
                "enabled",
                "code_length",
                "lifetime_seconds",
                "max_checks",
                "resend_cooldown_seconds",
                "channel",
                "alimtalk_template_code",
                "sms_fallback",
                "brand",
                "sender_number",
                "message_template",
            )
        }
