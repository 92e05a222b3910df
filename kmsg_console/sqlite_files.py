"""The embedded SQLite database's files are readable by the service's own user only.

The database holds operators' password hashes, API-key hashes and the audit log, so it gets
the same 0600 as the generated key files (``keys.py``). SQLite itself creates new databases
0644 (less the umask), and it creates the ``-wal``, ``-shm`` and ``-journal`` files with the
mode of the database file they belong to: creating the database file 0600 before SQLite
first opens it makes all of them private without touching the process-wide umask, which
other threads may rely on while the app starts.
"""

from __future__ import annotations

import os
import stat

import sqlalchemy as sa

_COMPANIONS = ("", "-wal", "-shm", "-journal")


def database_path(database_url: str) -> str | None:
    """The file behind a SQLite URL; None for other databases, memory and ``file:`` URIs."""
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    path = url.database
    if not path or path == ":memory:" or path.startswith("file:") or url.query.get("uri"):
        return None
    return os.path.abspath(path)


def make_private(database_url: str) -> None:
    """Create the database file 0600, or take group and other access away from one that exists.

    Existing files are tightened too: a database created by an earlier version is 0644, and
    so are the ``-wal``/``-shm`` files SQLite keeps beside it while it is open.
    """
    path = database_path(database_url)
    if path is None:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except FileNotFoundError:
        return  # no such directory: SQLite reports that, with its own message, on connect
    else:
        os.close(fd)  # an empty file is a valid, empty SQLite database
        return
    for suffix in _COMPANIONS:
        _drop_shared_access(path + suffix)


def _drop_shared_access(path: str) -> None:
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
    except FileNotFoundError:
        pass  # -wal/-shm exist only while a connection is open
    except PermissionError:
        pass  # owned by another user (e.g. a read-only deployment): theirs to set
