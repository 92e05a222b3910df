"""Flask extensions, created unbound here and bound to an app in ``create_app``."""

from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

from kmsg_console.orm import Base

db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
htmx = Htmx()

#: The engine bind that throttle counters use (same database, separate connection pool).
THROTTLE_BIND = "throttle"


def dispose_engines() -> None:
    """Close every pooled connection of the current app (before forking, in test teardown)."""
    for engine in db.engines.values():
        engine.dispose()
