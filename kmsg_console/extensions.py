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


def end_read_transaction() -> None:
    """End the session's transaction, which has only read, keeping what it loaded.

    Called before a request waits on something that is not this session (a throttle
    decision on its own pool, a vendor), so that the session's pooled connection goes back
    to the pool instead of sitting idle in a transaction meanwhile. Nothing was written, so
    nothing needs reloading: what the session read stays as it was read. On SQLite there is
    nothing to end: Python's sqlite3 opens a transaction only before a write.
    """
    session = db.session()
    if not session.in_transaction() or db.engine.dialect.name == "sqlite":
        return
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("unflushed changes: commit them where they are made")
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
