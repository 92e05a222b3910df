"""Language and time zone selection for Flask-Babel."""

from __future__ import annotations

from flask import current_app, has_request_context, request
from flask_login import current_user

SUPPORTED_LOCALES = ("ko", "en")


def select_locale() -> str:
    """The operator's own setting, else the browser's Accept-Language, else the default."""
    if has_request_context():
        if (
            current_user
            and current_user.is_authenticated
            and current_user.locale in SUPPORTED_LOCALES
        ):
            return current_user.locale
        best = request.accept_languages.best_match(SUPPORTED_LOCALES)
        if best:
            return best
    return current_app.config["DEFAULT_LOCALE"]


def select_timezone() -> str:
    if (
        has_request_context()
        and current_user
        and current_user.is_authenticated
        and current_user.timezone
    ):
        return current_user.timezone
    return current_app.config["DEFAULT_TIMEZONE"]
