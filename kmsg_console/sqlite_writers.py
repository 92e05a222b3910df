"""Writers to an embedded SQLite database wait in line instead of polling for its lock.

SQLite has one write lock per database. A writer that finds it taken sleeps in SQLite's busy
handler for 1, 2, 5, 10, 15, 20, 25 ... ms between tries, so under a steady stream of short
write transactions (the send path's commits, throttle decisions), from several threads and
gunicorn workers, some requests spend 100-200 ms asleep while the lock is free most of that
time. The hot writers take this queue first instead: a thread lock within the process and
an ``flock`` on a file beside the database across processes, both of which wake the next
waiter the moment the holder is done. SQLite's own lock (and busy handler) still protects
the database against every other writer; this only orders the ones that ask.

Deadlock-free because the queue is always taken before SQLite's lock: a session that has
already written in its open transaction (it holds SQLite's lock) does not queue again.
PostgreSQL needs none of this (row locks), so ``hold`` is a no-op there.

Commits wait for the disk outside the lock. With ``synchronous=FULL`` SQLite flushes the WAL
inside every commit while it still holds the write lock, so each writer's wait for the disk
(one ``fdatasync``, about a millisecond here) is also every other writer's. The app's engine
connects with :class:`DurableCommits`: SQLite commits with ``synchronous=NORMAL`` (the WAL
is written but not flushed) and the connection then flushes the WAL itself before
``commit()`` returns, after SQLite's lock and, inside :func:`hold`, after this queue are let
go. A committed transaction is on disk before its caller goes on (the send path calls no
provider before its row is there), as with ``FULL``; meanwhile the next writer is already
writing, and one flush covers every frame written before it. A transaction other
connections could read for that millisecond before it is flushed is the difference.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX system: threads of one process only
    fcntl = None  # type: ignore[assignment]


class _Queue:
    """The line for one database file, in this process and across processes."""

    def __init__(self, database_path: str) -> None:
        self.lock_path = f"{database_path}-writers.lock"
        self._threads = threading.Lock()
        self._fd: int | None = None

    def _file(self) -> int:
        # Opened per process (a descriptor inherited across fork shares its flock): a forked
        # child starts without queues (_forget_after_fork), so it opens its own.
        if self._fd is None:
            self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._threads:
            if fcntl is None:
                yield
                return
            fd = self._file()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)


_queues: dict[str, _Queue] = {}
_queues_lock = threading.Lock()
_holding = threading.local()


def _forget_after_fork() -> None:
    # A forked child (a gunicorn worker) starts with no queue: a thread lock copied while
    # another thread of the parent held it would stay taken forever in the child.
    global _queues_lock
    _queues.clear()
    _queues_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def _queue_for(engine: sa.Engine) -> _Queue | None:
    if (
        engine.dialect.name != "sqlite"
        or not engine.url.database
        or engine.url.database == ":memory:"
    ):
        return None
    path = os.path.abspath(engine.url.database)
    with _queues_lock:
        queue = _queues.get(path)
        if queue is None:
            queue = _queues[path] = _Queue(path)
    return queue


@contextmanager
def hold(engine: sa.Engine, *, already_writing: bool = False) -> Iterator[None]:
    """Wait for this database's writer queue (SQLite; nothing elsewhere) around a write transaction.

    ``already_writing``: the caller's transaction has written already, so it holds SQLite's
    lock and must not wait behind writers that are waiting for that lock.
    """
    queue = _queue_for(engine)
    if queue is None or already_writing or getattr(_holding, "depth", 0):
        yield
        return
    _holding.owed = set()
    try:
        with queue.hold():
            _holding.depth = 1
            try:
                yield
            finally:
                _holding.depth = 0
    finally:
        # Commits made inside the hold are on disk before the holder goes on, whatever
        # happened after them; the next writer is not kept waiting for it.
        for path in _holding.owed:
            flush_wal(path)
        _holding.owed = set()


class DurableCommits(sqlite3.Connection):
    """A SQLite connection whose commits wait for the disk after letting go of the lock.

    Connect with ``PRAGMA synchronous=NORMAL`` (the app's connect hook does); see the module
    docstring for why and for what it keeps.
    """

    _wal_path: str | None = None

    def commit(self) -> None:
        # Python's sqlite3 begins a transaction only before a write: none open, nothing to flush.
        wrote = self.in_transaction
        super().commit()
        if not wrote:
            return
        path = self._wal()
        if not path:
            return  # an in-memory or temporary database: nothing on disk to wait for
        if getattr(_holding, "depth", 0):
            _holding.owed.add(path)  # flushed when the queue is let go (hold)
        else:
            flush_wal(path)

    def _wal(self) -> str:
        if self._wal_path is None:
            # SQLite's own absolute path of the main database ("" when it has no file).
            databases = self.execute("PRAGMA database_list")
            main = next((path for _seq, name, path in databases if name == "main"), "")
            self._wal_path = f"{main}-wal" if main else ""
        return self._wal_path


_sync = getattr(os, "fdatasync", os.fsync)  # macOS has no fdatasync


def flush_wal(wal_path: str) -> None:
    """Wait until every frame written to ``wal_path`` so far is on disk."""
    try:
        fd = os.open(wal_path, os.O_RDONLY)
    except FileNotFoundError:
        # The WAL was checkpointed into the database and removed: SQLite flushes the
        # database at the end of every checkpoint, so the frames are on disk there.
        return
    try:
        _sync(fd)
    finally:
        os.close(fd)


def session_has_written(connection: sa.Connection) -> bool:
    """Whether this SQLite connection's transaction has written (Python's sqlite3 begins one
    only before the first write)."""
    driver = connection.connection.driver_connection
    return bool(getattr(driver, "in_transaction", False))
