"""Session lifetime: an idle timeout and an absolute lifetime, enforced on the server."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

from flask import Flask, Request, current_app, flash, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from kmsg_console.web.access import rule_for

#: Where the JSON API lives: its requests authenticate with API keys, never with a session.
API_PATH_PREFIX = "/api/"

_LOGIN_AT = "login_at"
_SEEN_AT = "seen_at"
#: Names this session (not the operator) so that signing out can refuse every copy of its
#: cookie while the operator's sessions in other browsers go on (``operators.services``).
_SESSION_ID = "sid"


def start_session() -> None:
    """Begin a fresh session at sign-in (drops anything set before, e.g. by an attacker)."""
    session.clear()
    now = int(time.time())
    session[_LOGIN_AT] = now
    session[_SEEN_AT] = now
    session[_SESSION_ID] = secrets.token_urlsafe(32)
    session.permanent = True


def session_id() -> str | None:
    """This session's id; None for a cookie made without one, which cannot be signed out."""
    value = session.get(_SESSION_ID)
    return value if isinstance(value, str) and value else None


def signed_in_at() -> datetime:
    """When this session began; its absolute lifetime runs from here."""
    return datetime.fromtimestamp(session.get(_LOGIN_AT) or time.time(), UTC)


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, left closed on JSON API requests.

    API calls never sign in or read an operator's session (``api_view``), so verifying a
    cookie there is wasted work on the busiest routes; a session cookie sent along is
    ignored, and anything that tried to write the session would fail loudly.
    """

    def open_session(self, app: Flask, request: Request):
        if request.path.startswith(API_PATH_PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)


def enforce_session_lifetime():
    """``before_request`` hook: sign out sessions that are idle or too old."""
    if request.endpoint in {"static", None}:
        return None
    rule = rule_for(request.endpoint)
    if rule is not None and rule.api:
        return None  # no operator session on API requests (ConsoleSessionInterface)
    if not current_user.is_authenticated:
        return None
    now = int(time.time())
    config = current_app.config
    login_at = session.get(_LOGIN_AT, 0)
    seen_at = session.get(_SEEN_AT, 0)
    idle_limit = config["SESSION_IDLE_MINUTES"] * 60
    max_age = config["SESSION_MAX_HOURS"] * 3600
    if now - seen_at > idle_limit or now - login_at > max_age:
        logout_user()
        session.clear()
        flash(_("Your session has ended. Please sign in again."), "info")
        if getattr(request, "htmx", False):
            response = current_app.make_response(("", 401))
            response.headers["HX-Redirect"] = url_for("operators.login")
            return response
        return redirect(url_for("operators.login", next=request.full_path.rstrip("?")))
    session[_SEEN_AT] = now
    return None
