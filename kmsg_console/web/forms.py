"""Form helpers shared by every feature."""

from __future__ import annotations

from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for bare POST buttons (disable, revoke, retry)."""
