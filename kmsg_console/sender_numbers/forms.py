"""Forms of the sender-number pages: add, edit, change status, sync."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from kmsg_console.sender_numbers.models import SenderNumberCategory, SenderNumberStatus
from kmsg_console.sender_numbers.services import LABEL_MAX, NOTE_MAX
from kmsg_console.web.forms import choices


def _categories():
    return choices((c.value, _l(c.label)) for c in SenderNumberCategory)


class _Details(FlaskForm):
    label = StringField(_l("Label"), validators=[Optional(), Length(max=LABEL_MAX)])
    category = SelectField(_l("Category"), choices=_categories)
    providers = SelectMultipleField(
        _l("Providers that may send from it"),
        validate_choice=False,  # unknown codes are refused by the service, with their names
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )

    def set_providers(self, providers) -> None:
        self.providers.choices = choices((p.code, f"{p.name} ({p.code})") for p in providers)


class AddSenderNumberForm(_Details):
    number = StringField(_l("Sender number"), validators=[DataRequired(), Length(max=32)])


class EditSenderNumberForm(_Details):
    pass


class StatusForm(FlaskForm):
    #: The new status: ``verified``, ``rejected`` or ``blocked``.
    action = SelectField(
        choices=choices(
            (s.value, s.value) for s in SenderNumberStatus if s is not SenderNumberStatus.PENDING
        )
    )
    note = StringField(_l("Reason (optional)"), validators=[Optional(), Length(max=NOTE_MAX)])


class SyncForm(FlaskForm):
    provider = SelectField(_l("Provider"), validators=[DataRequired()], validate_choice=False)

    def set_providers(self, providers) -> None:
        self.provider.choices = choices((p.code, f"{p.name} ({p.code})") for p in providers)
