"""The send engine's durability points: rows as written, objects loaded, nothing written twice."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from kmsg_console.extensions import db
from kmsg_console.orm import utcnow
from kmsg_console.sending.models import MessageAttempt, MessageEvent, MessageLog
from kmsg_console.sending.records import RowUpdate, add_to_loaded, durability_point


def _new_log(public_id: str | None = None) -> MessageLog:
    log = MessageLog(
        public_id=public_id or str(uuid.uuid4()),
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
    """The first word of each statement SQLAlchemy sends while the block runs."""

    def __enter__(self):
        self.seen: list[str] = []
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", self._record)
        return self.seen

    def __exit__(self, *exc):
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, params, context, executemany):
        self.seen.append(statement.split()[0].upper())


def _stored(public_id: str) -> MessageLog | None:
    return db.session.scalar(sa.select(MessageLog).where(MessageLog.public_id == public_id))


def test_a_point_writes_its_rows_with_defaults_commits_and_keeps_them_loaded(app):
    with app.app_context():
        log = _new_log()
        attempt = MessageAttempt(
            number=1,
            trigger="initial",
            provider_code="sandbox",
            outcome="in_flight",
            started_at=utcnow(),
        )
        attempt.message = log
        with durability_point() as point:
            point.insert(log, *log.events, attempt)
        state = sa.inspect(log)
        assert state.persistent and not state.modified and log.id is not None
        # Defaults were computed before the INSERT, so the object shows what the row holds.
        assert log.created_at is not None and log.warnings == [] and log.retryable is False
        assert log.events[0].message_id == log.id == attempt.message_id
        with Statements() as seen:
            shown = (log.status, len(log.events), log.attempts[0].outcome, attempt.number)
        assert shown == ("UNKNOWN", 1, "in_flight", 1)
        assert seen == []  # no reload after the commit

    with app.app_context():  # committed: another session reads the same
        row = _stored(log.public_id)
        assert row.id == log.id and row.created_at == log.created_at and row.warnings == []
        assert [(a.number, a.outcome) for a in row.attempts] == [(1, "in_flight")]
        assert [e.kind for e in row.events] == ["accepted"]


def test_an_update_writes_only_its_columns_and_shows_them(app):
    with app.app_context():
        log = _new_log()
        with durability_point() as point:
            point.insert(log, *log.events)
        event = MessageEvent(message_id=log.id, kind="status", status="SENT", detail="done")
        with durability_point() as point:
            point.update(log, {"status": "SENT", "provider_code": "sandbox"})
            point.insert(event)
            add_to_loaded(log, "events", [event])
        assert (log.status, log.provider_code) == ("SENT", "sandbox")
        assert [e.kind for e in log.events] == ["accepted", "status"]
        assert not sa.inspect(log).modified

    with app.app_context():
        row = _stored(log.public_id)
        assert (row.status, row.provider_code, row.to_masked) == (
            "SENT",
            "sandbox",
            "010-****-5678",
        )
        assert [e.kind for e in row.events] == ["accepted", "status"]


def test_a_failed_point_rolls_back_everything_and_forgets_its_objects(app):
    with app.app_context():
        first = _new_log()
        with durability_point() as point:
            point.insert(first, *first.events)
        clash = _new_log(public_id=first.public_id)  # public_id is unique
        other = _new_log()
        ids = {"first": first.public_id, "other": other.public_id}
        with pytest.raises(IntegrityError), durability_point() as point:
            point.insert(other, *other.events)
            point.update(first, {"status": "SENT"})
            point.insert(clash, *clash.events)
        assert other not in db.session and clash not in db.session
        # The session goes on: a new point can write again.
        again = _new_log()
        with durability_point() as point:
            point.insert(again, *again.events)
        ids["again"] = again.public_id

    with app.app_context():
        assert _stored(ids["other"]) is None
        assert _stored(ids["first"]).status == "UNKNOWN"  # the update went with the rest
        assert _stored(ids["again"]) is not None


def test_handed_over_writes_run_in_order(app):
    with app.app_context():
        old = _new_log()
        with durability_point() as point:
            point.insert(old, *old.events)
        new = _new_log()
        with durability_point() as point:
            point.apply(RowUpdate(old, {"status": "FAILED"}), new, *new.events)
        assert old.status == "FAILED" and sa.inspect(new).persistent

    with app.app_context():
        assert _stored(old.public_id).status == "FAILED"
        assert len(_stored(new.public_id).events) == 1


def test_rows_are_written_parents_first_and_only_once(app):
    with app.app_context():
        log = _new_log()
        with pytest.raises(ValueError, match="insert it before its children"):
            with durability_point() as point:
                point.insert(*log.events, log)
        log = _new_log()
        with durability_point() as point:
            point.insert(log, *log.events)
        with pytest.raises(ValueError, match="not a new object"), durability_point() as point:
            point.insert(log)
        log.status = "SENT"  # an ORM change not yet flushed
        with pytest.raises(ValueError, match="without unflushed changes"):
            with durability_point() as point:
                point.update(log, {"provider_code": "sandbox"})


def test_rows_read_from_the_database_are_expired_by_the_commit_as_usual(app):
    with app.app_context():
        written = _new_log()
        loaded_before = _new_log()
        with durability_point() as point:
            point.insert(loaded_before, *loaded_before.events)
        db.session.expunge_all()
        read = _stored(loaded_before.public_id)
        with durability_point() as point:
            point.insert(written, *written.events)
        assert "status" not in sa.inspect(read).dict  # expired: read again when next used
        assert "status" in sa.inspect(written).dict


def test_rows_written_by_an_earlier_point_stay_loaded_through_later_commits(app):
    with app.app_context():
        first = _new_log()
        with durability_point() as point:
            point.insert(first, *first.events)
        second = _new_log()
        with durability_point() as point:
            point.insert(second, *second.events)
        with Statements() as seen:
            shown = (first.status, first.public_id, len(first.events))
        assert shown[0] == "UNKNOWN" and shown[2] == 1
        assert seen == []  # not expired by the second point's commit
