"""The send path's router is reused while providers and routing are unchanged, in any process."""

from __future__ import annotations

import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.messaging.types import MessageType
from kmsg_console.orm import utcnow
from kmsg_console.providers import services


def _solapi(simulator, code="solapi-main"):
    return services.save_provider(
        None,
        vendor="solapi",
        code=code,
        name=code,
        enabled=True,
        actor=None,
        values={
            "api_key": "demo-api-key",
            "api_secret": "demo-api-secret",
            "default_from": "0212345678",
            "base_url": simulator.url("solapi"),
        },
    )


def _setup(app, simulator):
    with app.app_context():
        services.ensure_sandbox_provider()
        _solapi(simulator)
        services.save_routes({"SMS": ["solapi-main"]}, actor=None)
        db.session.commit()


def _router(app):
    with app.app_context():
        return services.build_router()


def _statements(app, fn):
    seen = []

    def count(conn, cursor, statement, params, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            fn()
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
    return seen


def test_an_unchanged_configuration_reuses_the_router_with_one_query(app, simulator):
    _setup(app, simulator)
    first = _router(app)
    statements = _statements(app, services.build_router)
    assert _router(app) is first
    assert len(statements) == 1  # the fingerprint; no provider or routing rows are loaded
    assert "provider.settings" not in statements[0] and "provider.secrets" not in statements[0]


def test_a_routing_change_from_another_process_is_seen_by_the_next_send(app, simulator):
    _setup(app, simulator)
    assert _router(app).by_type[MessageType.SMS] == ["solapi-main"]
    # Another process writes the table directly: nothing in this process is told.
    with app.app_context():
        db.session.execute(
            sa.update(services.RoutingRule)
            .where(services.RoutingRule.message_type == "SMS")
            .values(provider_codes=["sandbox"], updated_at=utcnow())
        )
        db.session.commit()
    assert _router(app).by_type[MessageType.SMS] == ["sandbox"]


def test_a_provider_disabled_or_added_elsewhere_is_seen_by_the_next_send(app, simulator):
    _setup(app, simulator)
    assert "solapi-main" in _router(app).providers
    with app.app_context():
        db.session.execute(
            sa.update(services.Provider)
            .where(services.Provider.code == "solapi-main")
            .values(enabled=False, updated_at=utcnow())
        )
        db.session.commit()
    assert "solapi-main" not in _router(app).providers
    with app.app_context():
        _solapi(simulator, code="solapi-backup")
        db.session.commit()
    assert "solapi-backup" in _router(app).providers


def test_a_change_stamped_by_a_clock_running_behind_is_still_seen(app, simulator):
    _setup(app, simulator)
    with app.app_context():
        newest = db.session.scalar(sa.select(sa.func.max(services.Provider.updated_at)))
    assert "solapi-main" in _router(app).providers
    with app.app_context():
        # An older stamp than any present: a "latest change" check would miss it.
        db.session.execute(
            sa.update(services.Provider)
            .where(services.Provider.code == "solapi-main")
            .values(enabled=False, updated_at=newest.replace(year=newest.year - 1))
        )
        db.session.commit()
    assert "solapi-main" not in _router(app).providers


def test_forget_adapters_rebuilds_with_the_current_timeouts(app, simulator):
    _setup(app, simulator)
    before = _router(app).providers["solapi-main"]
    app.config["PROVIDER_READ_TIMEOUT"] = 1.25
    assert _router(app).providers["solapi-main"] is before  # config is not in the fingerprint
    services.forget_adapters()
    after = _router(app).providers["solapi-main"]
    assert after is not before
