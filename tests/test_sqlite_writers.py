"""SQLite's writer queue: one holder at a time across threads and processes, never a deadlock."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa

from kmsg_console import sqlite_writers


@pytest.fixture
def engine(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    yield engine
    engine.dispose()


def _held_by_another_thread(engine) -> tuple[threading.Thread, threading.Event]:
    """A thread that holds the queue until the returned event is set."""
    release, holding = threading.Event(), threading.Event()

    def holder():
        with sqlite_writers.hold(engine):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    assert holding.wait(5)
    return thread, release


def test_threads_hold_it_one_at_a_time(engine):
    inside, overlaps = [0], []
    lock = threading.Lock()

    def writer():
        for _ in range(50):
            with sqlite_writers.hold(engine):
                with lock:
                    inside[0] += 1
                    overlaps.append(inside[0])
                time.sleep(0.0005)
                with lock:
                    inside[0] -= 1

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(overlaps) == 200 and max(overlaps) == 1


HOLDER = """
import sys, time, fcntl, os
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_another_process_holding_it_makes_this_one_wait(engine, tmp_path):
    lock_file = f"{tmp_path / 'queue.db'}-writers.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, lock_file, "0.5"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        waited = threading.Event()
        got_it = threading.Event()

        def writer():
            waited.set()
            with sqlite_writers.hold(engine):
                got_it.set()

        thread = threading.Thread(target=writer)
        thread.start()
        waited.wait()
        assert not got_it.wait(0.2)  # the other process still holds the queue
        holder.wait(timeout=10)  # its exit releases the lock
        assert got_it.wait(5)
        thread.join()
    finally:
        holder.kill()


def test_a_transaction_that_wrote_already_and_nested_holds_do_not_wait(engine):
    thread, release = _held_by_another_thread(engine)
    passed = threading.Event()

    def already_writing():
        # A writer already holding SQLite's own lock must not queue behind one waiting for it.
        with sqlite_writers.hold(engine, already_writing=True):
            passed.set()

    mine = threading.Thread(target=already_writing)
    mine.start()
    try:
        assert passed.wait(5)  # while the other thread still holds the queue
    finally:
        release.set()
        thread.join()
        mine.join()
    with sqlite_writers.hold(engine), sqlite_writers.hold(engine):  # no self-deadlock
        pass


def test_it_tells_whether_the_session_has_written(engine):
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE t (v INTEGER)")
        conn.commit()
        conn.exec_driver_sql("SELECT 1")
        assert not sqlite_writers.session_has_written(conn)
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        assert sqlite_writers.session_has_written(conn)
        conn.commit()
        assert not sqlite_writers.session_has_written(conn)


def test_other_databases_have_no_queue(tmp_path):
    engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # never connected
    with sqlite_writers.hold(engine):
        pass
    assert sqlite_writers._queue_for(engine) is None
    assert sqlite_writers._queue_for(sa.create_engine("sqlite://")) is None


def test_a_forked_worker_is_not_stuck_behind_a_lock_its_parent_held(engine):
    thread, release = _held_by_another_thread(engine)
    parent_fd = sqlite_writers._queue_for(engine)._file()
    pid = os.fork()
    if pid == 0:  # the child: gets the queue once the parent's writer lets go of its flock
        # Its own descriptor: one inherited from the parent would share the parent's flock.
        if sqlite_writers._queue_for(engine)._file() == parent_fd:
            os._exit(2)
        got_it = threading.Event()

        def child_writer():
            with sqlite_writers.hold(engine):
                got_it.set()

        threading.Thread(target=child_writer, daemon=True).start()
        os._exit(0 if got_it.wait(10) else 1)
    time.sleep(0.2)
    release.set()
    thread.join()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


# -- durability by SQLite's own setting ------------------------------------------------------


def test_the_app_commits_with_synchronous_full_and_the_throttle_with_normal(tmp_path):
    """The app's commits wait for the disk inside SQLite (FULL); counters are soft (NORMAL)."""
    from kmsg_console.extensions import THROTTLE_BIND, db
    from tests.conftest import make_app

    app = make_app(f"sqlite:///{tmp_path / 'app.db'}", tmp_path / "instance")
    with app.app_context():
        try:
            with db.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            from kmsg_console.throttle import engine as throttle_engine

            backend = throttle_engine.runtime(app).backend
            with backend.connection() as conn:
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        finally:
            db.engines[THROTTLE_BIND].dispose()
            db.engine.dispose()
