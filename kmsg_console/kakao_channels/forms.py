"""Forms of the Kakao sender profile pages: add by hand, edit, sync one provider."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from kmsg_console.web.forms import choices

from . import services
from .models import KEY_MAX, ProfileStatus


def _status_choices() -> list:
    return choices([(status.value, _(status.label)) for status in ProfileStatus])


def _provider_choices(only_syncable: bool = False) -> list:
    providers = services.kakao_providers()
    if only_syncable:
        providers = [p for p in providers if services.can_sync(p)]
    return choices([(p.code, f"{p.name} ({p.code})") for p in providers])


class ProfileForm(FlaskForm):
    """Add a profile by hand (IWINV, the sandbox, or a key a sync has not found yet)."""

    provider = SelectField(_l("Provider"), choices=lambda: _provider_choices())
    profile_key = StringField(
        _l("Profile key (pfId / senderKey)"),
        validators=[DataRequired(), Length(max=KEY_MAX)],
    )
    plus_id = StringField(_l("Channel id (@plusId)"), validators=[Optional(), Length(max=40)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=100)])
    status = SelectField(_l("Status"), choices=_status_choices, default=ProfileStatus.UNKNOWN.value)


class EditProfileForm(FlaskForm):
    plus_id = StringField(_l("Channel id (@plusId)"), validators=[Optional(), Length(max=40)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=100)])
    status = SelectField(_l("Status"), choices=_status_choices)


class SyncForm(FlaskForm):
    provider = SelectField(_l("Provider"), choices=lambda: _provider_choices(only_syncable=True))
