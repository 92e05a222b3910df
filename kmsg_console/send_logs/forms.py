"""Filter forms of the send-log pages (GET forms: no CSRF token, state in the query string)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField, SelectField, StringField, ValidationError
from wtforms.validators import Length, Optional, Regexp

from kmsg_console import sending
from kmsg_console.api_keys.models import ApiKey
from kmsg_console.campaigns import services as campaign_services
from kmsg_console.campaigns.models import Campaign
from kmsg_console.extensions import db
from kmsg_console.messaging.types import MessageType
from kmsg_console.providers.models import Provider
from kmsg_console.send_logs.explanations import SOURCE_LABELS, error_code_choices
from kmsg_console.send_logs.report import DEFAULT_PERIOD
from kmsg_console.send_logs.services import (
    AD_FILTERS,
    ATTEMPT_OUTCOMES,
    FALLBACK_FILTERS,
    LOCAL_INPUT_FORMAT,
    LogFilters,
    local_to_utc,
)
from kmsg_console.sending.models import MessageSource, MessageStatus
from kmsg_console.web.forms import choices

ANY = ("", _l("Any"))


def _status_choices():
    return choices([ANY] + [(s.value, _(s.label)) for s in MessageStatus])


def _error_choices():
    return choices([ANY] + error_code_choices())


ATTEMPT_OUTCOME_LABELS = {
    "accepted": _l("Accepted"),
    "failed": _l("Failed"),
    "unknown": _l("Outcome unknown"),
    "not_accepted": _l("Failed or unknown"),
}


def _attempt_outcome_choices():
    # Offered from what the query knows, so no choice can name an outcome it cannot filter on.
    return choices(
        [ANY] + [(value, _(ATTEMPT_OUTCOME_LABELS[value])) for value in ATTEMPT_OUTCOMES]
    )


FALLBACK_LABELS = {
    "delivered": _l("Delivered by fallback"),
    "none": _l("Not delivered by fallback"),
}


def _fallback_choices():
    return choices([ANY] + [(value, _(FALLBACK_LABELS[value])) for value in FALLBACK_FILTERS])


AD_LABELS = {"yes": _l("Advertising only"), "no": _l("Not advertising")}


def _ad_choices():
    return choices([ANY] + [(value, _(AD_LABELS[value])) for value in AD_FILTERS])


def _type_choices():
    return choices([ANY] + [(t.value, t.value) for t in MessageType])


def _source_choices():
    return choices([ANY] + [(s.value, _(SOURCE_LABELS[s.value])) for s in MessageSource])


def _provider_choices():
    codes = db.session.scalars(sa.select(Provider.code).order_by(Provider.code))
    return choices([ANY] + [(code, code) for code in codes])


def _api_key_choices():
    keys = db.session.execute(sa.select(ApiKey.id, ApiKey.name).order_by(ApiKey.name, ApiKey.id))
    return choices([ANY] + [(str(key_id), name) for key_id, name in keys])


class SendLogFilterForm(FlaskForm):
    class Meta:
        csrf = False

    since = DateTimeLocalField(_l("Since"), format=LOCAL_INPUT_FORMAT, validators=[Optional()])
    until = DateTimeLocalField(_l("Until"), format=LOCAL_INPUT_FORMAT, validators=[Optional()])
    status = SelectField(_l("Status"), choices=_status_choices, validators=[Optional()])
    error_code = SelectField(_l("Error code"), choices=_error_choices, validators=[Optional()])
    provider = SelectField(_l("Provider"), choices=_provider_choices, validators=[Optional()])
    attempted = SelectField(
        _l("Tried at provider"), choices=_provider_choices, validators=[Optional()]
    )
    attempt_outcome = SelectField(
        _l("Attempt outcome"), choices=_attempt_outcome_choices, validators=[Optional()]
    )
    type = SelectField(_l("Message type"), choices=_type_choices, validators=[Optional()])
    fallback = SelectField(
        _l("AlimTalk fallback"), choices=_fallback_choices, validators=[Optional()]
    )
    source = SelectField(_l("Source"), choices=_source_choices, validators=[Optional()])
    ad = SelectField(_l("Advertising"), choices=_ad_choices, validators=[Optional()])
    api_key = SelectField(_l("API key"), choices=_api_key_choices, validators=[Optional()])
    template = StringField(_l("Template code"), validators=[Optional(), Length(max=64)])
    vendor_code = StringField(_l("Vendor code"), validators=[Optional(), Length(max=40)])
    phone = StringField(
        _l("Recipient number"),
        validators=[Optional(), Length(max=40)],
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )
    #: A phone lookup hash: the number itself never travels in links.
    recipient = HiddenField(
        validators=[
            Optional(),
            Regexp(
                r"^[0-9a-f]{64}$",
                message=_l("This recipient link is not valid; search by number instead."),
            ),
        ]
    )
    #: A campaign's public id (links from its progress page); shown by its name.
    campaign = HiddenField(validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.phone_digest: str | None = None
        self.campaign_found: Campaign | None = None
        # A provider that was deleted still has messages; keep its code selectable.
        for select in (self.provider, self.attempted):
            if select.data and select.data not in {c.value for c in select.choices}:
                select.choices = list(select.choices) + choices([(select.data, select.data)])

    def validate_phone(self, field) -> None:
        if field.data:
            self.phone_digest = sending.phone_hash(field.data)
            if self.phone_digest is None:
                raise ValidationError(_("Enter a valid phone number, e.g. 010-1234-5678."))

    def validate_campaign(self, field) -> None:
        if field.data:
            public_id = field.data.strip()
            if len(public_id) <= campaign_services.PUBLIC_ID_MAX:
                self.campaign_found = campaign_services.get(public_id)
            if self.campaign_found is None:
                raise ValidationError(
                    _("No campaign has this id; open the send log from the campaign's page.")
                )

    def validate_until(self, field) -> None:
        if field.data and self.since.data and field.data <= self.since.data:
            raise ValidationError(_("Must be later than the start."))

    @property
    def recipient_hash(self) -> str | None:
        return self.phone_digest or self.recipient.data or None

    def filters(self) -> LogFilters:
        """The validated form as query filters (times in UTC)."""
        data = self.data
        return LogFilters(
            since=local_to_utc(data["since"]) if data["since"] else None,
            until=local_to_utc(data["until"]) if data["until"] else None,
            status=data["status"] or None,
            error_code=data["error_code"] or None,
            provider=data["provider"] or None,
            attempted=data["attempted"] or None,
            attempt_outcome=data["attempt_outcome"] or None,
            type=data["type"] or None,
            fallback=data["fallback"] or None,
            source=data["source"] or None,
            ad=data["ad"] or None,
            api_key=int(data["api_key"]) if data["api_key"] else None,
            template=(data["template"] or "").strip() or None,
            vendor_code=(data["vendor_code"] or "").strip() or None,
            recipient=self.recipient_hash,
            campaign=self.campaign_found.id if self.campaign_found else None,
        )

    def canonical_args(self) -> dict[str, str]:
        """The filters as query arguments for links: the phone number replaced by its hash."""
        args = {
            name: value
            for name in (
                "since",
                "until",
                "status",
                "error_code",
                "provider",
                "attempted",
                "attempt_outcome",
                "type",
                "fallback",
                "source",
                "ad",
                "api_key",
                "template",
                "vendor_code",
                "campaign",
            )
            if (value := (self[name].raw_data or [""])[0].strip())
        }
        if self.recipient_hash:
            args["recipient"] = self.recipient_hash
        return args


PERIOD_LABELS = {"24h": _l("Last 24 hours"), "7d": _l("Last 7 days"), "30d": _l("Last 30 days")}


class FailureReportForm(FlaskForm):
    class Meta:
        csrf = False

    period = SelectField(
        _l("Period"),
        choices=lambda: choices(PERIOD_LABELS.items()),
        default=DEFAULT_PERIOD,
        validators=[Optional()],
    )
    type = SelectField(_l("Message type"), choices=_type_choices, validators=[Optional()])
