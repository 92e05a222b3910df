"""Forms: a provider's delivery settings and the retention periods."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from kmsg_console.worker import retention, settings

MAX_RULES = 50


def split_codes(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").replace("\n", ",").split(",") if part.strip()]


def split_lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ProviderDeliveryForm(FlaskForm):
    """Fallback rules and the webhook secret of one provider."""

    fallback_enabled = BooleanField(
        _l("Send an SMS/LMS fallback when tracking shows the recipient cannot get Kakao")
    )
    fallback_codes = StringField(
        _l("Vendor status codes"), validators=[Optional(), Length(max=1000)]
    )
    fallback_texts = TextAreaField(
        _l("Vendor status texts"), validators=[Optional(), Length(max=2000)]
    )
    tolerance = IntegerField(
        _l("Signature time tolerance (seconds)"),
        validators=[InputRequired(), NumberRange(*settings.TOLERANCE_RANGE)],
    )
    webhook_secret = PasswordField(
        _l("New webhook secret"), validators=[Optional(), Length(min=16, max=200)]
    )
    generate_secret = BooleanField(_l("Generate a new secret (shown once)"))
    remove_secret = BooleanField(_l("Remove the secret (refuse every delivery report)"))

    def validate_fallback_codes(self, field: StringField) -> None:
        codes = split_codes(field.data)
        if len(codes) > MAX_RULES or any(len(code) > 40 for code in codes):
            raise ValidationError(
                _l("At most %(count)d codes of at most 40 characters each.", count=MAX_RULES)
            )

    def validate_fallback_texts(self, field: TextAreaField) -> None:
        if len(split_lines(field.data)) > MAX_RULES:
            raise ValidationError(_l("At most %(count)d texts.", count=MAX_RULES))

    def validate_remove_secret(self, field: BooleanField) -> None:
        if field.data and (self.generate_secret.data or self.webhook_secret.data):
            raise ValidationError(_l("Either remove the secret or set a new one, not both."))


def retention_form_class() -> type[FlaskForm]:
    """A form with one "days" field per retention class, each within its range."""

    class RetentionForm(FlaskForm):
        pass

    for spec in retention.CLASSES:
        setattr(
            RetentionForm,
            spec.key,
            IntegerField(
                _l(spec.label),
                validators=[InputRequired(), NumberRange(spec.minimum, spec.maximum)],
            ),
        )
    return RetentionForm
