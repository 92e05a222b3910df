"""Pooled connections: pinged only after sitting idle, and replaced when their server is gone."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kmsg_console import db_pool
from kmsg_console.extensions import db
from tests.conftest import POSTGRES_ADMIN_URL


@pytest.fixture
def pings(app, monkeypatch):
    with app.app_context():
        dialect = db.engine.dialect
    count = [0]
    original = dialect.do_ping

    def counting(dbapi_connection):
        count[0] += 1
        return original(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counting)
    return count


def _backend_pid(app) -> int:
    with app.app_context():
        pid = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
        db.session.remove()  # back to the pool
    return pid


def test_a_connection_reused_at_once_is_not_pinged(app, backend, pings):
    for _ in range(5):
        with app.app_context():
            assert db.session.scalar(sa.text("SELECT 1")) == 1
    assert pings[0] == 0  # pre_ping would have sent five (SQLite has no check at all)


postgresql_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@postgresql_only
def test_an_idle_connection_whose_server_is_gone_is_replaced(app, pings, monkeypatch):
    first = _backend_pid(app)
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            assert conn.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    finally:
        admin.dispose()
    monkeypatch.setattr(db_pool, "IDLE_PING_SECONDS", 0.0)  # as if it had waited in the pool
    assert _backend_pid(app) != first  # the request got a live connection, no error
    assert pings[0] == 1


@postgresql_only
def test_a_stale_connection_reused_at_once_fails_only_its_own_statement(app):
    first = _backend_pid(app)
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    finally:
        admin.dispose()
    with app.app_context(), pytest.raises(sa.exc.OperationalError):
        db.session.scalar(sa.text("SELECT 1"))  # not pinged: back in the pool a moment ago
    assert _backend_pid(app) != first  # the disconnect discarded the pool; the next one is fresh


def test_every_engine_keeps_the_configured_number_of_connections(tmp_path):
    from kmsg_console.extensions import THROTTLE_BIND, db
    from tests.conftest import make_app

    app = make_app(f"sqlite:///{tmp_path / 'pool.db'}", tmp_path / "instance", DB_POOL_SIZE=3)
    with app.app_context():
        try:
            assert db.engine.pool.size() == 3
            assert db.engines[THROTTLE_BIND].pool.size() == 3
        finally:
            for engine in db.engines.values():
                engine.dispose()
