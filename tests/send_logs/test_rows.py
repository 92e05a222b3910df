"""The send path's Core writes: rows as written, objects loaded and clean, nothing written twice."""

from __future__ import annotations

import contextlib
import uuid

import pytest
import sqlalchemy as sa

from kmsg_console import sqlite_writers
from kmsg_console.extensions import db
from kmsg_console.orm import utcnow
from kmsg_console.send_logs.models import MessageAttempt, MessageEvent, MessageLog
from kmsg_console.send_logs.rows import (
    add_to_loaded,
    commit_kept,
    insert_rows,
    new_row,
    unqueue,
    update_row,
    write_at_commit,
)


def _new_log() -> MessageLog:
    log = MessageLog(
        public_id=str(uuid.uuid4()),
        status="UNKNOWN",
        source="api",
        type="SMS",
        to_hash="h" * 64,
        to_enc="enc",
        to_masked="010-****-5678",
        attempts=[],
    )
    log.events.append(MessageEvent(kind="accepted", status="UNKNOWN", detail="accepted"))
    return log


class Statements:
    """The statements SQLAlchemy sends while the block runs."""

    def __enter__(self):
        self.seen: list[str] = []
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", self._record)
        return self.seen

    def __exit__(self, *exc):
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, params, context, executemany):
        self.seen.append(statement.split()[0].upper())


def test_insert_writes_defaults_and_children_and_leaves_nothing_to_flush(app):
    with app.app_context():
        log = _new_log()
        insert_rows(log, *log.events)
        state = sa.inspect(log)
        assert state.persistent and not state.modified and log.id is not None
        # Defaults were computed here, so the object knows what the row holds.
        assert log.created_at is not None and log.warnings == [] and log.retryable is False
        assert log.events[0].message_id == log.id and log.events[0].at is not None
        with Statements() as seen:
            commit_kept()
            assert (log.status, log.created_at, len(log.events)) == ("UNKNOWN", log.created_at, 1)
        assert [
            s for s in seen if s in {"INSERT", "UPDATE", "SELECT"}
        ] == []  # no second write, no reload

    with app.app_context():
        row = db.session.scalar(sa.select(MessageLog).where(MessageLog.public_id == log.public_id))
        assert row.id == log.id and row.warnings == [] and row.body_redacted is False
        assert row.created_at == log.created_at
        assert [(e.kind, e.message_id) for e in row.events] == [("accepted", log.id)]


def _log_row(**overrides) -> MessageLog:
    values = dict(
        public_id=str(uuid.uuid4()),
        status="UNKNOWN",
        source="api",
        type="SMS",
        to_hash="h" * 64,
        to_enc="enc",
        to_masked="010-****-5678",
        attempts=[],
    )
    return new_row(MessageLog, **{**values, **overrides})


def test_new_row_objects_are_written_with_every_value_and_their_children(app):
    with app.app_context():
        log = _log_row(subject="subject", byte_count=42)
        event = new_row(MessageEvent, kind="accepted", status="UNKNOWN", detail="accepted")
        log.events.append(event)
        assert event.message is log  # relationships go through the ORM: the backref is set
        assert sa.inspect(log).transient and type(log.attempts).__name__ != "list"
        insert_rows(log, *log.events)
        assert sa.inspect(log).persistent and not sa.inspect(log).modified
        commit_kept()

    with app.app_context():
        row = db.session.scalar(sa.select(MessageLog).where(MessageLog.public_id == log.public_id))
        assert (row.subject, row.byte_count, row.to_masked, row.warnings) == (
            "subject",
            42,
            "010-****-5678",
            [],
        )
        assert [(e.kind, e.detail) for e in row.events] == [("accepted", "accepted")]


def test_a_new_row_object_flushed_by_the_orm_writes_its_values_too(app):
    with app.app_context():
        log = _log_row()
        insert_rows(log)
        commit_kept()
        event = new_row(
            MessageEvent, message_id=log.id, kind="status", status="SENT", detail="by the ORM"
        )
        db.session.add(event)
        db.session.commit()
        log_id, event_id = log.id, event.id

    with app.app_context():
        stored = db.session.get(MessageEvent, event_id)
        assert (stored.message_id, stored.kind, stored.status, stored.detail) == (
            log_id,
            "status",
            "SENT",
            "by the ORM",
        )


def test_new_row_refuses_names_the_class_does_not_have(app):
    with app.app_context(), pytest.raises(TypeError, match="not_a_column"):
        new_row(MessageLog, not_a_column=1)


def test_update_writes_the_values_and_the_onupdate_columns(app):
    with app.app_context():
        log = _new_log()
        insert_rows(log, *log.events)
        commit_kept()
        before = log.updated_at
        update_row(log, {"status": "SENT", "provider_code": "solapi"})
        assert not sa.inspect(log).modified and log.status == "SENT"
        assert log.updated_at > before
        attempt = MessageAttempt(
            message_id=log.id,
            number=1,
            trigger="initial",
            provider_code="solapi",
            started_at=utcnow(),
            outcome="in_flight",
        )
        insert_rows(attempt)
        add_to_loaded(log, "attempts", [attempt])
        commit_kept()
        assert [a.id for a in log.attempts] == [attempt.id]
        expected = (log.status, log.provider_code, log.updated_at)

    with app.app_context():
        row = db.session.get(MessageLog, log.id)
        assert (row.status, row.provider_code, row.updated_at) == expected
        assert [a.provider_code for a in row.attempts] == ["solapi"]


def test_an_unloaded_collection_stays_unloaded_and_then_reads_the_new_row(app):
    with app.app_context():
        log = _new_log()
        insert_rows(log, *log.events)
        db.session.commit()  # a plain commit expires everything, collections included
        event = MessageEvent(message_id=log.id, at=utcnow(), kind="status", status="SENT")
        insert_rows(event)
        add_to_loaded(log, "events", [event])
        assert "events" not in sa.inspect(log).dict
        assert [e.kind for e in log.events] == ["accepted", "status"]  # loaded once, not twice


def test_rows_are_refused_in_the_wrong_order_or_state(app):
    with app.app_context():
        log = _new_log()
        with pytest.raises(ValueError, match="insert it before its children"):
            insert_rows(*log.events, log)
        db.session.rollback()
        log = _new_log()
        insert_rows(log, *log.events)
        with pytest.raises(ValueError, match="not a new object"):
            insert_rows(log)
        log.status = "SENT"  # an unflushed ORM change would be lost under a Core UPDATE
        with pytest.raises(ValueError, match="without unflushed changes"):
            update_row(log, {"provider_code": "solapi"})
        db.session.rollback()


def test_a_rollback_forgets_the_inserted_objects_and_the_queued_writes(app):
    with app.app_context():
        log = _new_log()
        insert_rows(log, *log.events)
        public_id = log.public_id
        late = _new_log()
        write_at_commit(lambda: insert_rows(late, *late.events))
        db.session.rollback()
        assert log not in db.session  # its row is gone; a new row may get the same id
        again = _new_log()
        insert_rows(again, *again.events)  # would clash with a stale identity left behind
        kept = again.public_id
        db.session.commit()
        assert sa.inspect(late).transient  # the queued insert never ran
    with app.app_context():
        ids = set(db.session.scalars(sa.select(MessageLog.public_id)))
        assert public_id not in ids and late.public_id not in ids and kept in ids


def test_queued_writes_run_at_any_commit_right_before_it(app):
    with app.app_context():
        log = _new_log()
        write_at_commit(lambda: insert_rows(log, *log.events))
        assert sa.inspect(log).transient
        log.status = "FAILED"  # changed after queueing: the row takes what the object holds then
        db.session.commit()
        assert sa.inspect(log).persistent
        insert_rows(
            attempt := MessageAttempt(
                message_id=log.id,
                number=1,
                trigger="initial",
                provider_code="solapi",
                started_at=utcnow(),
                outcome="in_flight",
            )
        )
        update_row(attempt, {"outcome": "accepted"}, at_commit=True)
        assert attempt.outcome == "accepted"  # in memory at once
        commit_kept()
        log_id, attempt_id = log.id, attempt.id
    with app.app_context():
        assert (
            db.session.scalar(sa.select(MessageLog.status).where(MessageLog.id == log_id))
            == "FAILED"
        )
        assert (
            db.session.scalar(
                sa.select(MessageAttempt.outcome).where(MessageAttempt.id == attempt_id)
            )
            == "accepted"
        )


def test_inserts_prepared_now_are_written_by_the_commit_with_their_parents_ids(app):
    with app.app_context():
        log = _new_log()
        attempt = MessageAttempt(
            number=1,
            trigger="initial",
            provider_code="solapi",
            started_at=utcnow(),
            outcome="in_flight",
        )
        attempt.message = log  # the parent has no id yet: it is copied when the rows are written
        with Statements() as seen:
            insert_rows(log, *log.events, attempt, at_commit=True)
        assert (
            seen == [] and sa.inspect(log).transient and log.created_at is not None
        )  # values computed now
        with Statements() as seen:
            commit_kept()
        assert seen.count("INSERT") == 3
        assert sa.inspect(attempt).persistent and not sa.inspect(log).modified
        assert attempt.message_id == log.id == log.events[0].message_id
        assert log.attempts == [attempt]
        log_id = log.id
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(MessageAttempt.message_id).where(MessageAttempt.id == attempt.id)
            )
            == log_id
        )


def test_prepared_inserts_are_dropped_by_a_rollback(app):
    with app.app_context():
        log = _new_log()
        insert_rows(log, *log.events, at_commit=True)
        db.session.rollback()
        db.session.commit()
        assert sa.inspect(log).transient
    with app.app_context():
        assert (
            db.session.scalar(sa.select(MessageLog.id).where(MessageLog.public_id == log.public_id))
            is None
        )


def test_a_durability_point_holds_the_writer_queue_for_the_commit_alone(app, monkeypatch):
    """The objects its inserts wrote become persistent after the queue is let go."""
    events: list[str] = []
    real_hold = sqlite_writers.hold

    @contextlib.contextmanager
    def recording_hold(engine, **kwargs):
        with real_hold(engine, **kwargs):
            events.append("queue taken")
            yield
            events.append("queue let go")

    monkeypatch.setattr(sqlite_writers, "hold", recording_hold)

    def attached(session, obj):
        events.append(type(obj).__name__)

    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"
        log = _new_log()
        sa.event.listen(db.session, "detached_to_persistent", attached)
        try:
            insert_rows(log, *log.events, at_commit=True)
            commit_kept(in_writer_queue=True)
        finally:
            sa.event.remove(db.session, "detached_to_persistent", attached)
        assert sa.inspect(log).persistent and not sa.inspect(log).modified
        assert log.events[0].message_id == log.id
    # SQLite queues its writers; elsewhere the queue is not taken at all.
    expected = ["queue taken", "queue let go"] if sqlite else []
    assert events == [*expected, "MessageLog", "MessageEvent"]


def test_unqueued_writes_do_not_run(app):
    with app.app_context():
        log, other = _new_log(), _new_log()
        dropped = insert_rows(log, *log.events, at_commit=True)
        insert_rows(other, *other.events, at_commit=True)
        unqueue(dropped)
        commit_kept()
        assert sa.inspect(log).transient and sa.inspect(other).persistent
    with app.app_context():
        assert set(db.session.scalars(sa.select(MessageLog.public_id))) == {other.public_id}
