"""kmsg-console: operator console and OTP service for Korean transactional messaging."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, make_response, redirect, request, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

from kmsg_console import config as config_module
from kmsg_console import sqlite_files
from kmsg_console.crypto import Keyring
from kmsg_console.db_pool import ping_when_idle
from kmsg_console.extensions import THROTTLE_BIND, babel, csrf, db, htmx, login_manager
from kmsg_console.keys import load_keys
from kmsg_console.paths import resource_dir


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the console: defaults, then ``KMSG_*`` environment, then ``test_config``."""
    env = config_module.from_environment()
    overrides = dict(test_config or {})
    instance_path = overrides.pop("INSTANCE_PATH", None) or env["INSTANCE_PATH"]
    app = Flask(
        __name__,
        instance_path=str(Path(instance_path).resolve()) if instance_path else None,
        template_folder=str(resource_dir("templates")),
        static_folder=str(resource_dir("static")),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(env)
    app.config.update(overrides)
    _derive_config(app)

    _init_extensions(app)
    _register_blueprints(app)
    _connect_features(app)
    _register_hooks(app)
    _register_cli(app)
    return app


def _derive_config(app: Flask) -> None:
    """Settings computed from others: database URL, keys, cookie and session policy."""
    config = app.config
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'kmsg.db'}"
    sqlite_files.make_private(config["DATABASE_URL"])
    keys = load_keys(
        Path(app.instance_path),
        {k: config.get(k) for k in ("SECRET_KEY", "ENCRYPTION_KEYS", "HASH_KEY")},
    )
    config.update(keys)
    config["KEYRING"] = Keyring.from_config(config["ENCRYPTION_KEYS"], config["HASH_KEY"])
    config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
    # Connections are pinged only after sitting idle in the pool (db_pool.ping_when_idle).
    # A request holds a connection only while it reads or writes, never while a vendor
    # answers, so serve's 32 threads per process share far fewer: 8 or 32 per engine gave
    # the same throughput (bench/README.md), and each process has two engines (the app's,
    # the throttle's), so PostgreSQL needs max_connections >= processes x 2 x (pool + 10).
    config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    url = sa.engine.make_url(config["DATABASE_URL"])
    if url.get_backend_name() != "sqlite" or url.database not in (None, "", ":memory:"):
        pool_size = max(1, int(config["DB_POOL_SIZE"]))
        config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("pool_size", pool_size)
    # Throttle decisions run on a pool of their own: a request that already holds a session
    # connection must never wait for a second one from the same pool, or N busy threads each
    # holding one connection and waiting for another deadlock until the pool times out.
    throttle_engine = {"url": config["DATABASE_URL"], **config["SQLALCHEMY_ENGINE_OPTIONS"]}
    config.setdefault("SQLALCHEMY_BINDS", {THROTTLE_BIND: throttle_engine})
    config["PAGE_SIZE"] = max(1, min(int(config["PAGE_SIZE"]), 200))
    secure = bool(config["SECURE_COOKIES"])
    config.update(
        SESSION_COOKIE_NAME="kmsg_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=config["SESSION_MAX_HOURS"]),
        REMEMBER_COOKIE_DURATION=timedelta(hours=config["SESSION_MAX_HOURS"]),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session, which is bounded
        WTF_CSRF_SSL_STRICT=secure,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        BABEL_DEFAULT_LOCALE=config["DEFAULT_LOCALE"],
        BABEL_DEFAULT_TIMEZONE=config["DEFAULT_TIMEZONE"],
    )


def _init_extensions(app: Flask) -> None:
    from kmsg_console.operators import services as operator_services
    from kmsg_console.operators.models import Operator
    from kmsg_console.web.i18n import select_locale, select_timezone
    from kmsg_console.web.session import session_id as current_session_id

    db.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    login_manager.init_app(app)
    login_manager.login_view = "operators.login"
    login_manager.login_message = None  # the login page needs no "please log in" flash
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_operator(user_id: str) -> Operator | None:
        operator_id, _sep, epoch = user_id.partition(":")
        if not operator_id.isdigit() or not epoch.isdigit():
            return None
        operator = db.session.get(Operator, int(operator_id))
        if operator is None or not operator.is_active or operator.session_epoch != int(epoch):
            return None
        # The epoch ends all of an operator's sessions at once; signing out ends one.
        current = current_session_id()
        if current is None or operator_services.is_signed_out(current):
            return None
        return operator

    @login_manager.unauthorized_handler
    def unauthorized():
        if getattr(request, "htmx", False):
            response = make_response("", 401)
            response.headers["HX-Redirect"] = url_for("operators.login")
            return response
        return redirect(url_for("operators.login", next=request.full_path.rstrip("?")))

    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                sa.event.listen(engine, "connect", _sqlite_pragmas)
            else:
                ping_when_idle(engine)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers work while one writer commits; busy_timeout makes concurrent writers
    # wait for the lock instead of failing at once; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Every commit is on disk before it returns (the send path relies on it: no provider is
    # called before the message's row is durable). The throttle's engine lowers this to
    # NORMAL on its own connections: counters are soft state.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _register_blueprints(app: Flask) -> None:
    from kmsg_console import (
        account,
        advertising,
        api,
        api_keys,
        audit,
        dashboard,
        manual_send,
        message_templates,
        operators,
        opt_outs,
        sender_numbers,
    )
    from kmsg_console.alerts import views as alert_views
    from kmsg_console.campaigns import views as campaign_views
    from kmsg_console.events import views as event_views
    from kmsg_console.kakao_channels import views as kakao_channel_views
    from kmsg_console.observability import views as observability_views
    from kmsg_console.otp import bp as otp_bp
    from kmsg_console.providers import views as provider_views
    from kmsg_console.send_logs import views as send_log_views
    from kmsg_console.settings import views as settings_views
    from kmsg_console.throttle import bp as throttle_bp
    from kmsg_console.web import health
    from kmsg_console.worker import views as worker_views

    for blueprint in (worker_views.bp, worker_views.webhook_bp, worker_views.retention_bp):
        app.register_blueprint(blueprint)
    for blueprint in (
        operators.bp,
        account.bp,
        dashboard.bp,
        audit.bp,
        health.bp,
        api_keys.bp,
        provider_views.bp,
        api.bp,
        manual_send.bp,
        throttle_bp,
        observability_views.bp,
        send_log_views.bp,
        otp_bp,
        message_templates.bp,
        opt_outs.bp,
        settings_views.bp,
        kakao_channel_views.bp,
        advertising.bp,
        sender_numbers.bp,
        event_views.bp,
        alert_views.bp,
        campaign_views.bp,
    ):
        app.register_blueprint(blueprint)
    from kmsg_console.web.access import public

    public(app.view_functions["static"])


def _connect_features(app: Flask) -> None:
    from kmsg_console import sending
    from kmsg_console.message_templates.sends import resolve_template

    # AlimTalk sends (API, console, OTP) find approved templates in the template registry.
    sending.use_template_resolver(app, resolve_template)


def _register_hooks(app: Flask) -> None:
    from flask_babel import get_locale

    from kmsg_console.observability.logs import configure_logging
    from kmsg_console.operators.models import Role
    from kmsg_console.web.access import can, enforce_access
    from kmsg_console.web.navigation import NAV_ITEMS
    from kmsg_console.web.security import add_security_headers, register_error_handlers
    from kmsg_console.web.session import ConsoleSessionInterface, enforce_session_lifetime
    from kmsg_console.web.timezones import format_local

    configure_logging(app)
    app.session_interface = ConsoleSessionInterface()
    app.before_request(enforce_session_lifetime)
    app.before_request(enforce_access)
    app.after_request(add_security_headers)
    register_error_handlers(app)
    app.jinja_env.filters["localtime"] = format_local
    app.jinja_env.globals.update(can=can, Role=Role, NAV_ITEMS=NAV_ITEMS, get_locale=get_locale)


def _register_cli(app: Flask) -> None:
    from kmsg_console.cli import register_commands

    register_commands(app)
