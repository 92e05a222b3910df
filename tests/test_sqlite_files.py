"""The embedded database holds password and API-key hashes: its files are the owner's alone."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kmsg_console import create_app, migrate
from kmsg_console.extensions import db, dispose_engines
from kmsg_console.operators.models import Role
from kmsg_console.operators.services import create_operator
from tests.conftest import PASSWORD


@pytest.fixture
def usual_umask() -> Iterator[None]:
    # The common default, under which files are created readable by everyone unless the
    # code asks otherwise; set here so the test does not depend on the runner's umask.
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _files(database: Path) -> list[Path]:
    return [database, Path(f"{database}-wal"), Path(f"{database}-shm")]


def _write_and_check(database: Path, instance: Path) -> dict[str, int]:
    app = create_app(
        {"TESTING": True, "DATABASE_URL": f"sqlite:///{database}", "INSTANCE_PATH": str(instance)}
    )
    migrate.upgrade(app)
    with app.app_context():
        create_operator("owner@example.com", PASSWORD, Role.ADMIN)
        db.session.commit()
        # SQLite removes -wal and -shm when the last connection closes, so look while the
        # pool still holds the one that wrote.
        modes = {path.name: _mode(path) for path in _files(database)}
        db.session.remove()
        dispose_engines()
    return modes


def test_a_new_database_and_its_wal_files_are_created_0600(tmp_path, usual_umask):
    database = tmp_path / "data" / "kmsg.db"
    database.parent.mkdir()
    modes = _write_and_check(database, tmp_path / "instance")
    assert modes == {"kmsg.db": 0o600, "kmsg.db-wal": 0o600, "kmsg.db-shm": 0o600}


def test_the_default_instance_database_is_created_0600(tmp_path, usual_umask):
    instance = tmp_path / "instance"
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance)})
    migrate.upgrade(app)
    with app.app_context():
        dispose_engines()
    assert _mode(instance / "kmsg.db") == 0o600


def test_an_existing_readable_database_is_made_private(tmp_path, usual_umask):
    database = tmp_path / "kmsg.db"
    # A database left by an earlier version: world-readable, in WAL mode, still open
    # elsewhere so that its -wal and -shm files exist too.
    other = sqlite3.connect(database)
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("CREATE TABLE leftover (x)")
    other.execute("INSERT INTO leftover VALUES (1)")
    other.commit()
    try:
        assert [_mode(path) for path in _files(database)] == [0o644] * 3
        modes = _write_and_check(database, tmp_path / "instance")
    finally:
        other.close()
    assert modes == {"kmsg.db": 0o600, "kmsg.db-wal": 0o600, "kmsg.db-shm": 0o600}
