"""Provider forms, built from each adapter's declared config fields."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import PasswordInput

from kmsg_console.providers.adapters.config import ConfigField
from kmsg_console.providers.adapters.registry import ADAPTERS
from kmsg_console.providers.services import MASK
from kmsg_console.sending.duplicates import MAX_WINDOW_MINUTES
from kmsg_console.web.forms import choices

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


class ProviderBaseForm(FlaskForm):
    code = StringField(
        _l("Provider id"),
        validators=[
            DataRequired(),
            Length(max=40),
            Regexp(CODE_PATTERN, message=_l("Use 2-40 lower-case letters, digits and hyphens.")),
        ],
    )
    name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=80)])
    enabled = BooleanField(_l("Enabled"), default=True)
    duplicate_window = IntegerField(
        _l("Duplicate-send window (minutes)"),
        description=_l(
            "Empty: the console-wide window (Sending rules). 0: off for this provider. "
            "At most %(max)s minutes.",
            max=MAX_WINDOW_MINUTES,
        ),
        validators=[
            Optional(),
            NumberRange(
                0,
                MAX_WINDOW_MINUTES,
                message=_l("Enter 0 (off) to %(max)s minutes.", max=MAX_WINDOW_MINUTES),
            ),
        ],
    )
    balance_alert_below = IntegerField(
        _l("Balance alert below (KRW)"),
        description=_l(
            "Empty: no alert. The worker reads the balance every 10 minutes and alerts once "
            "when it falls below this amount (vendors with a balance call: SOLAPI, IWINV)."
        ),
        validators=[
            Optional(),
            NumberRange(0, 1_000_000_000, message=_l("Enter an amount from 0 to 1,000,000,000.")),
        ],
    )


def _field_for(spec: ConfigField, is_edit: bool):
    label = _l(spec.label)
    description = _l(spec.help) if spec.help else ""
    needed = [DataRequired()] if spec.required and not (spec.secret and is_edit) else [Optional()]
    if spec.kind == "bool":
        return BooleanField(label, description=description, default=bool(spec.default))
    if spec.kind == "int":
        return IntegerField(
            label, description=description, validators=[Optional()], default=spec.default
        )
    if spec.secret:
        # Rendered with the mask as its value once saved; the mask coming back keeps the secret.
        return PasswordField(label, description=description, validators=needed + [Length(max=500)])
    if spec.kind == "url":
        return StringField(
            label,
            description=description,
            default=spec.default,
            validators=[Optional(), Length(max=300), _url_check],
        )
    return StringField(
        label, description=description, default=spec.default, validators=needed + [Length(max=300)]
    )


def _url_check(_form, field) -> None:
    if field.data and not re.match(r"^https?://[^\s/$.?#][^\s]*$", field.data):
        raise ValidationError(_l("Enter an http:// or https:// address."))


def provider_form_class(vendor: str, *, is_edit: bool) -> type[ProviderBaseForm]:
    """A form class with the base fields plus ``cfg_<name>`` fields for ``vendor``."""
    attrs = {
        f"cfg_{spec.name}": _field_for(spec, is_edit) for spec in ADAPTERS[vendor].CONFIG_FIELDS
    }
    return type(f"{vendor.title()}ProviderForm", (ProviderBaseForm,), attrs)


def config_fields(form: FlaskForm, vendor: str):
    """The vendor-specific bound fields of ``form``, in declaration order."""
    return [(spec, form[f"cfg_{spec.name}"]) for spec in ADAPTERS[vendor].CONFIG_FIELDS]


def config_values(form: FlaskForm, vendor: str) -> dict:
    return {spec.name: form[f"cfg_{spec.name}"].data for spec in ADAPTERS[vendor].CONFIG_FIELDS}


def vendor_choices():
    return choices((vendor, _l(cls.label)) for vendor, cls in ADAPTERS.items())


class VendorPickForm(FlaskForm):
    class Meta:
        csrf = False

    vendor = SelectField(_l("Vendor"), choices=vendor_choices)


def mask_secret_fields(form: FlaskForm, vendor: str, saved_secrets) -> None:
    """Show the mask in saved secret fields (PasswordField never renders its data)."""
    for spec, field in config_fields(form, vendor):
        if spec.secret and spec.name in saved_secrets and field.data in (None, "", MASK):
            field.widget = PasswordInput(hide_value=False)
            field.data = MASK
            field.render_kw = {"autocomplete": "new-password"}
