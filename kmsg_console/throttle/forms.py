"""Forms for throttle policies, the number lists and the dry-run tester."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, IPAddress, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from kmsg_console.throttle.models import (
    EntryMatch,
    KeyKind,
    ListKind,
    ThrottleAction,
    ThrottleMode,
    ThrottlePolicy,
)
from kmsg_console.throttle.services import (
    MAX_REQUESTS,
    MAX_WINDOW_SECONDS,
    SEEDED,
    PolicyData,
    ThrottleError,
    WindowData,
)
from kmsg_console.web.forms import choices

#: Messages for ThrottleError codes raised by the services.
ERROR_MESSAGES = {
    "name_required": _l("Enter a name."),
    "name_taken": _l("A policy with this name already exists."),
    "bad_purpose": _l("Use letters, digits and . _ : - only (at most 64 characters)."),
    "bad_prefix": _l("Enter digits, optionally after a + (for example 010 or +1)."),
    "prefix_unreachable": _l(
        "This prefix can match no number: a Korean mobile prefix starts with 01 (for example "
        "010 or +8210), a foreign one with + and the country code (for example +1)."
    ),
    "prefix_required": _l("A per-prefix policy needs a number prefix."),
    "purpose_conflict": _l(
        "A per-purpose policy counts each purpose separately; leave this empty."
    ),
    "actions_required": _l("Choose at least one action."),
    "windows_required": _l("Add at least one window."),
    "window_incomplete": _l("Enter both the number of requests and the window length."),
    "window_length": _l("A window lasts between 1 second and 31 days."),
    "window_limit": _l("Allow between 1 and 1,000,000 requests."),
    "window_too_dense": _l("At most 1,000 requests per second of window."),
    "window_duplicate": _l("Each window needs a different length."),
    "last_window": _l("A policy keeps at least one window."),
    "window_missing": _l("That window does not belong to this policy."),
    "bad_number": _l("Enter a Korean mobile number, or a foreign number starting with +."),
    "entry_exists": _l("This entry is already on the list."),
}

UNITS = ((86400, _l("days")), (3600, _l("hours")), (60, _l("minutes")), (1, _l("seconds")))


def mode_choices():
    return choices((m.value, _l(m.label)) for m in ThrottleMode)


def key_kind_choices():
    return choices((k.value, _l(k.label)) for k in KeyKind)


def action_choices():
    return choices((a.value, _l(a.label)) for a in ThrottleAction)


def unit_choices():
    return choices((str(seconds), label) for seconds, label in reversed(UNITS))


def split_seconds(seconds: int) -> tuple[int, int]:
    """``600`` → ``(10, 60)``: the largest unit that divides the length evenly."""
    for unit, _label in UNITS:
        if seconds % unit == 0:
            return seconds // unit, unit
    return seconds, 1


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class WindowForm(FlaskForm):
    """One "N requests per length" row (a sub-form: the parent form carries the CSRF token)."""

    class Meta:
        csrf = False

    window_id = HiddenField()
    max_requests = IntegerField(
        _l("Requests"),
        validators=[
            Optional(),
            NumberRange(min=1, max=MAX_REQUESTS, message=ERROR_MESSAGES["window_limit"]),
        ],
    )
    amount = IntegerField(
        _l("Per"),
        validators=[
            Optional(),
            NumberRange(min=1, max=MAX_WINDOW_SECONDS, message=ERROR_MESSAGES["window_length"]),
        ],
    )
    unit = SelectField(_l("Unit"), choices=unit_choices, default="60")


class PolicyForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(message=ERROR_MESSAGES["name_required"]), Length(max=100)],
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=500)])
    enabled = BooleanField(_l("Enabled"), default=True)
    mode = SelectField(_l("Mode"), choices=mode_choices, default=ThrottleMode.ENFORCE.value)
    key_kind = SelectField(_l("Count by"), choices=key_kind_choices, default=KeyKind.PHONE.value)
    actions = MultiCheckboxField(
        _l("Applies to"), choices=action_choices, default=[ThrottleAction.OTP_START.value]
    )
    purpose = StringField(_l("Only for purpose"), validators=[Optional(), Length(max=64)])
    prefix = StringField(
        _l("Only for numbers starting with"), validators=[Optional(), Length(max=16)]
    )
    windows = FieldList(FormField(WindowForm), min_entries=1, max_entries=20)

    #: Errors that belong to no single field.
    general_errors: list[Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.general_errors = []
        self._rows: list[int] = []

    @classmethod
    def for_policy(cls, policy: ThrottlePolicy, blank_rows: int = 1) -> PolicyForm:
        windows = []
        for window in policy.windows:
            amount, unit = split_seconds(window.window_seconds)
            windows.append(
                {
                    "window_id": str(window.id),
                    "max_requests": window.max_requests,
                    "amount": amount,
                    "unit": str(unit),
                }
            )
        form = cls(
            data={
                "name": SEEDED.shown(policy.name),
                "description": SEEDED.shown(policy.description),
                "enabled": policy.enabled,
                "mode": policy.mode.value,
                "key_kind": policy.key_kind.value,
                "actions": list(policy.actions),
                "purpose": policy.purpose or "",
                "prefix": policy.prefix or "",
                "windows": windows,
            }
        )
        for _ in range(blank_rows):
            form.windows.append_entry()
        return form

    def to_data(self) -> PolicyData | None:
        """The submitted policy, or None after adding field errors."""
        windows: list[WindowData] = []
        self._rows = []
        for index, row in enumerate(self.windows):
            limit, amount = row.form.max_requests.data, row.form.amount.data
            if limit is None and amount is None:
                continue
            if limit is None or amount is None:
                missing = row.form.max_requests if limit is None else row.form.amount
                missing.errors = [*missing.errors, ERROR_MESSAGES["window_incomplete"]]
                continue
            window_id = row.form.window_id.data
            windows.append(
                WindowData(
                    limit,
                    amount * int(row.form.unit.data),
                    int(window_id) if (window_id or "").isdigit() else None,
                )
            )
            self._rows.append(index)
        if any(row.form.errors for row in self.windows):
            return None
        return PolicyData(
            name=self.name.data or "",
            description=self.description.data or "",
            mode=ThrottleMode(self.mode.data),
            key_kind=KeyKind(self.key_kind.data),
            actions=list(self.actions.data or []),
            windows=windows,
            purpose=self.purpose.data,
            prefix=self.prefix.data,
            enabled=bool(self.enabled.data),
        )

    def add_error(self, exc: ThrottleError) -> None:
        """Show a service error next to the field it concerns."""
        message = ERROR_MESSAGES[exc.code]
        if (
            exc.field in {"max_requests", "amount"}
            and exc.index is not None
            and exc.index < len(self._rows)
        ):
            target = getattr(self.windows[self._rows[exc.index]].form, exc.field)
        elif exc.field in {"name", "purpose", "prefix", "actions"}:
            target = getattr(self, exc.field)
        else:
            self.general_errors.append(message)
            return
        target.errors = [*target.errors, message]


class TesterForm(FlaskForm):
    """A request to judge without counting it."""

    action = SelectField(
        _l("Action"), choices=action_choices, default=ThrottleAction.OTP_START.value
    )
    phone = StringField(_l("Phone number"), validators=[Optional(), Length(max=32)])
    ip = StringField(
        _l("Client IP"),
        validators=[
            Optional(),
            IPAddress(ipv4=True, ipv6=True, message=_l("Enter an IPv4 or IPv6 address.")),
        ],
    )
    purpose = StringField(_l("Purpose"), validators=[Optional(), Length(max=64)])
    api_key_id = IntegerField(_l("API key ID"), validators=[Optional(), NumberRange(min=1)])
    user_ref = StringField(_l("End-user reference"), validators=[Optional(), Length(max=128)])


class ListEntryForm(FlaskForm):
    list_kind = SelectField(
        _l("List"),
        default=ListKind.BLOCK.value,
        choices=lambda: choices((k.value, _l(k.label)) for k in ListKind),
    )
    match = SelectField(
        _l("Match"),
        default=EntryMatch.NUMBER.value,
        choices=lambda: choices((m.value, _l(m.label)) for m in EntryMatch),
    )
    value = StringField(_l("Number or prefix"), validators=[DataRequired(), Length(max=32)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
