"""Shared fixtures: an app per test on SQLite and on PostgreSQL, signed-in clients, CSRF.

Every test that uses ``app`` runs once per database backend. PostgreSQL runs when it is
reachable (``KMSG_TEST_POSTGRES_URL``, default the local server's ``test`` database); under
``CI=true`` an unreachable PostgreSQL is an error, never a silent skip.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from itsdangerous import URLSafeTimedSerializer

from kmsg_console import create_app, migrate
from kmsg_console.extensions import db, dispose_engines
from kmsg_console.models import metadata
from kmsg_console.operators import passwords
from kmsg_console.operators.models import Role

# The vendor simulators' fixtures (simulator, simulator_server, simulator_factory) for every suite.
pytest_plugins = ["tests.simulator_fixtures"]

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_ADMIN_URL = os.environ.get(
    "KMSG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]
PASSWORD = "correct horse battery"


def unavailable(reason: str) -> None:
    """Skip with ``reason`` on a developer machine; fail under CI."""
    if IN_CI:
        pytest.fail(f"required test service unavailable under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    # Production hashing costs 64 MiB per hash; tests hash hundreds of passwords. The
    # production parameters are checked separately in test_operators.
    original = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    passwords._hasher = original


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("instance")


def _postgres_database() -> Iterator[str]:
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        unavailable(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc.__class__.__name__}")
    name = f"kmsg_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            sa.engine.make_url(POSTGRES_ADMIN_URL)
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory, instance_dir) -> Iterator[str]:
    """A migrated, empty database per backend, shared by the session's tests."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "kmsg.db"
        url = f"sqlite:///{path}"
        source = iter([url])
    else:
        source = _postgres_database()
    url = next(source)
    app = create_app({"TESTING": True, "DATABASE_URL": url, "INSTANCE_PATH": str(instance_dir)})
    migrate.upgrade(app)
    with app.app_context():
        dispose_engines()
    yield url
    for _rest in source:  # runs the PostgreSQL generator's cleanup
        pass


def _empty_all_tables() -> None:
    tables = [table.name for table in reversed(metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        quoted = ", ".join(f'"{name}"' for name in tables)
        db.session.execute(sa.text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    else:
        for name in tables:
            db.session.execute(sa.text(f'DELETE FROM "{name}"'))
    db.session.commit()


def make_app(database_url: str, instance_dir: Path, **overrides):
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance_dir),
        "WTF_CSRF_ENABLED": True,
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def app(database_url: str, instance_dir: Path):
    """A console app on a clean database (each backend in turn)."""
    application = make_app(database_url, instance_dir)
    yield application
    with application.app_context():
        db.session.rollback()
        _empty_all_tables()
        db.session.remove()
        dispose_engines()


@pytest.fixture
def backend(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


def csrf_token_for(app, client) -> str:
    """A valid CSRF token for ``client``'s session (what a rendered form would carry)."""
    with client.session_transaction() as session:
        raw = session.get("csrf_token")
        if raw is None:
            raw = session["csrf_token"] = secrets.token_hex(20)
    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)


class Console:
    """Test helper: create operators and sign in as them."""

    def __init__(self, app, client) -> None:
        self.app = app
        self.client = client

    def create_operator(self, email: str, role: Role, password: str = PASSWORD):
        from kmsg_console.operators.services import create_operator

        with self.app.app_context():
            operator = create_operator(email, password, role)
            db.session.commit()
            return operator.id

    def login(self, role: Role = Role.ADMIN, email: str | None = None) -> str:
        email = email or f"{role.value}-{uuid.uuid4().hex[:6]}@example.com"
        self.create_operator(email, role)
        response = self.post("/login", data={"email": email, "password": PASSWORD})
        assert response.status_code == 302, response.data[:500]
        return email

    def post(self, path: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", csrf_token_for(self.app, self.client))
        return self.client.post(path, data=data, **kwargs)

    def htmx_post(self, path: str, data: dict | None = None, **kwargs):
        headers = {"HX-Request": "true", "X-CSRFToken": csrf_token_for(self.app, self.client)}
        headers.update(kwargs.pop("headers", {}))
        return self.client.post(path, data=data or {}, headers=headers, **kwargs)


@pytest.fixture
def client(app):
    # Assertions read English text; Korean rendering is tested explicitly.
    test_client = app.test_client()
    test_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return test_client


@pytest.fixture
def console(app, client) -> Console:
    return Console(app, client)
