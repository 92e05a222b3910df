"""Reading and saving the advertising settings (audited), and the send form's label helper."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kmsg_console.field_errors import FieldError
from kmsg_console.i18n_markers import N_
from kmsg_console.messaging import advertising
from kmsg_console.messaging.phone import (
    InvalidPhoneNumber,
    format_opt_out_line,
    normalize_opt_out_line,
)
from kmsg_console.settings import services as settings

SENDER_NAME_MAX = 40


class AdSettingsError(FieldError):
    """Input that cannot be saved; ``field`` names the input, ``reason`` is an ``N_()`` text."""


@dataclass(frozen=True)
class AdIdentity:
    """The sender name and 080 line advertising from this console carries."""

    sender_name: str
    opt_out_line: str  # digits

    @property
    def opt_out_display(self) -> str:
        return format_opt_out_line(self.opt_out_line)

    @property
    def label(self) -> str:
        return f"{advertising.LABEL} {self.sender_name}"

    @property
    def footer(self) -> str:
        return f"{advertising.OPT_OUT_WORDING} {self.opt_out_display}"


#: Keys of the console-wide settings store.
SENDER_NAME_KEY = "advertising.sender_name"
OPT_OUT_LINE_KEY = "advertising.opt_out_line"


def current() -> AdIdentity | None:
    """The saved settings, or None until an admin saves them."""
    name, line = settings.get(SENDER_NAME_KEY), settings.get(OPT_OUT_LINE_KEY)
    return AdIdentity(name, line) if name and line else None


def save(sender_name: str, opt_out_line: str, *, actor: Any) -> AdIdentity:
    """Save the sender name and the free 080 line (each change audited, before and after).

    :raises AdSettingsError: for an empty or too long name, or a line that is not an 080 number.
    """
    name = " ".join((sender_name or "").split())
    if not name:
        raise AdSettingsError("sender_name", N_("Enter the name advertising is sent under."))
    if len(name) > SENDER_NAME_MAX:
        raise AdSettingsError("sender_name", N_("At most %(max)d characters."), max=SENDER_NAME_MAX)
    try:
        line = normalize_opt_out_line(opt_out_line or "")
    except InvalidPhoneNumber as exc:
        raise AdSettingsError("opt_out_line", exc.reason, **exc.params) from None
    settings.put(SENDER_NAME_KEY, name, actor=actor)
    settings.put(OPT_OUT_LINE_KEY, line, actor=actor)
    return AdIdentity(name, line)


def add_label_and_footer(text: str | None, identity: AdIdentity) -> str:
    """``text`` with ``(광고) <name>`` in front and ``무료수신거부 <080 line>`` at the end."""
    return advertising.with_label_and_footer(text, identity.sender_name, identity.opt_out_display)
