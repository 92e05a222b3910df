"""SQLite's writer queue: one holder at a time across threads and processes, never a deadlock."""

from __future__ import annotations

import os
import sqlite3
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


# -- commits wait for the disk after the lock is let go ---------------------------------------


@pytest.fixture
def durable(tmp_path):
    """An engine connecting as the app's does: DurableCommits, synchronous=NORMAL, WAL."""
    engine = sa.create_engine(
        f"sqlite:///{tmp_path / 'durable.db'}",
        connect_args={"factory": sqlite_writers.DurableCommits},
    )

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE t (v INTEGER)")
        conn.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def flushes(monkeypatch):
    """Each WAL flush, with what was true at that moment (see ``probe``)."""
    seen: list[dict] = []
    probe: dict = {}
    real = sqlite_writers.flush_wal

    def recording(path):
        seen.append({"path": path, **{name: check() for name, check in probe.items()}})
        real(path)

    monkeypatch.setattr(sqlite_writers, "flush_wal", recording)
    return seen, probe


def _lock_is_free(path) -> bool:
    """Whether another connection can take SQLite's write lock at once."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


def test_a_commit_that_wrote_is_flushed_after_sqlite_lets_go_of_its_lock(
    durable, flushes, tmp_path
):
    seen, probe = flushes
    database = str(tmp_path / "durable.db")
    probe["lock free"] = lambda: _lock_is_free(database)
    probe["row in the wal"] = lambda: os.path.getsize(f"{database}-wal") > 0
    with durable.connect() as conn:
        conn.exec_driver_sql("SELECT count(*) FROM t").scalar()
        conn.commit()
        assert seen == []  # nothing written: nothing to wait for
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        conn.commit()
        assert seen == [{"path": f"{database}-wal", "lock free": True, "row in the wal": True}]
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_inside_the_queue_the_flush_waits_until_the_queue_is_let_go(durable, flushes):
    seen, probe = flushes
    queue = sqlite_writers._queue_for(durable)

    def queue_free():
        taken = queue._threads.acquire(blocking=False)
        if taken:
            queue._threads.release()
        return taken

    probe["queue free"] = queue_free
    with durable.connect() as conn:
        with sqlite_writers.hold(durable):
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            conn.commit()
            assert seen == []  # owed, not yet paid: the queue is still ours
        assert [flush["queue free"] for flush in seen] == [True]  # paid on the way out


def test_a_commit_inside_the_queue_is_flushed_even_when_the_holder_then_fails(durable, flushes):
    seen, _probe = flushes
    with durable.connect() as conn, pytest.raises(RuntimeError):
        with sqlite_writers.hold(durable):
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            conn.commit()
            raise RuntimeError("after the commit")
    assert len(seen) == 1
    with sqlite_writers.hold(durable):
        pass
    assert len(seen) == 1  # nothing is owed twice


def test_a_missing_wal_means_its_frames_are_in_the_database_already(tmp_path):
    sqlite_writers.flush_wal(str(tmp_path / "gone.db-wal"))  # no error


def test_the_app_writes_through_durable_commits_and_the_throttle_does_not(tmp_path, flushes):
    from kmsg_console.extensions import THROTTLE_BIND, db
    from tests.conftest import make_app

    seen, _probe = flushes
    app = make_app(f"sqlite:///{tmp_path / 'app.db'}", tmp_path / "instance")
    with app.app_context():
        try:
            with db.engine.connect() as conn:
                driver = conn.connection.driver_connection
                assert isinstance(driver, sqlite_writers.DurableCommits)
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
            with db.engines[THROTTLE_BIND].connect() as conn:
                assert not isinstance(
                    conn.connection.driver_connection, sqlite_writers.DurableCommits
                )
            db.session.execute(sa.text("CREATE TABLE probe (v INTEGER)"))
            db.session.execute(sa.text("INSERT INTO probe VALUES (1)"))
            db.session.commit()
            assert [flush["path"] for flush in seen] == [f"{tmp_path / 'app.db'}-wal"]
        finally:
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
