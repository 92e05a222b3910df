"""Form helpers shared by every feature."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for bare POST buttons (disable, revoke, retry)."""


def choices(pairs: Iterable[tuple[str, Any]]) -> list[SelectChoice]:
    """``SelectField`` choices from ``(value, label)`` pairs (WTForms' non-deprecated form)."""
    return [SelectChoice(value, label) for value, label in pairs]
