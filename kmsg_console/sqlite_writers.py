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

Durability is SQLite's own: the app's connections commit with ``synchronous=FULL`` in WAL
mode, so a committed row is on disk before ``commit()`` returns (the send path calls no
provider before its row is there). The throttle's engine commits with ``NORMAL``: counters
are soft state.
"""

from __future__ import annotations

import os
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
    with queue.hold():
        _holding.depth = 1
        try:
            yield
        finally:
            _holding.depth = 0


def session_has_written(connection: sa.Connection) -> bool:
    """Whether this SQLite connection's transaction has written (Python's sqlite3 begins one
    only before the first write)."""
    driver = connection.connection.driver_connection
    return bool(getattr(driver, "in_transaction", False))
