"""Two workers, one database, a backlog of 1,000 due messages: no double polls, no double fallbacks.

Each worker is its own app (its own engine and connection pool) in its own thread, as two
worker processes would be. It runs on both backends; PostgreSQL (SKIP LOCKED) is the one
production uses for several workers.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from kmsg_console.extensions import db, dispose_engines
from kmsg_console.messaging.phone import mask_phone
from kmsg_console.sending.models import MessageLog
from kmsg_console.worker import tracking
from kmsg_console.worker.health import due_backlog
from tests.conftest import make_app
from tests.worker.conftest import NON_KAKAO, PHONE, alimtalk, load

BACKLOG = 1_000
ALIMTALKS = 40


def _bulk_sms_rows(count: int, now) -> None:
    keyring = current_app.config["KEYRING"]
    rows = []
    for i in range(count):
        public_id = str(uuid.uuid4())
        rows.append(
            {
                "public_id": public_id,
                "created_at": now - timedelta(seconds=40),
                "updated_at": now,
                "status": "SENT",
                "status_updated_at": now,
                "source": "api",
                "type": "SMS",
                "provider_code": "solapi",
                "provider_message_id": f"M4VFAKE{i:06d}",
                "to_hash": keyring.lookup_hash(PHONE, "phone"),
                "to_enc": keyring.encrypt(PHONE, f"message:{public_id}:to"),
                "to_masked": mask_phone(PHONE),
                "body_redacted": False,
                "retryable": False,
                "attempt_count": 1,
                "warnings": [],
                "sent_at": now - timedelta(seconds=40),
                "next_check_at": now - timedelta(seconds=1),
                "check_count": 0,
            }
        )
    db.session.execute(sa.insert(MessageLog), rows)
    db.session.commit()


def test_two_workers_poll_each_message_once_and_fall_back_once(
    app, database_url, instance_dir, simulator, route, clock
):
    route("solapi")
    talks = [alimtalk(app, to=NON_KAKAO) for _ in range(ALIMTALKS)]
    for public_id in talks:
        simulator.control.set_status(
            "solapi", load(app, public_id).provider_message_id, "non_kakao_user"
        )
    clock.advance(seconds=40)
    with app.app_context():
        _bulk_sms_rows(BACKLOG - ALIMTALKS, clock.now)
        db.session.execute(
            sa.update(MessageLog).values(next_check_at=clock.now - timedelta(seconds=1))
        )
        db.session.commit()
        assert due_backlog(clock.now)["due"] == BACKLOG
        backlog = set(db.session.scalars(sa.select(MessageLog.provider_message_id)))
    simulator.control.clear_requests("solapi")

    workers = [make_app(database_url, instance_dir) for _ in range(2)]
    start = threading.Barrier(len(workers), timeout=60)
    results: list[dict | BaseException | None] = [None] * len(workers)

    def work(index: int) -> None:
        with workers[index].app_context():
            try:
                start.wait()
                results[index] = tracking.run_round(max_batches=1_000, batch_size=25)
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                results[index] = exc
            finally:
                db.session.remove()
                dispose_engines()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert all(isinstance(r, dict) for r in results), results

    polls = Counter(
        r["query"]["messageId"] for r in simulator.control.requests("solapi", "/messages/v4/list")
    )
    assert len(backlog) == BACKLOG and backlog <= set(
        polls
    )  # every message of the backlog was polled...
    assert (
        max(polls.values()) == 1
    )  # ...and none twice (fallbacks sent meanwhile may be polled once too)
    assert sum(r["checked"] for r in results) == len(polls)
    assert all(r["checked"] > 0 for r in results)  # both workers took part

    fallback_sends = [
        r
        for r in simulator.control.requests("solapi", "/messages/v4/send-many/detail")
        if r["body"]["messages"][0]["type"] == "SMS"
    ]
    assert len(fallback_sends) == ALIMTALKS
    assert sum(r.get("fallback_sent", 0) for r in results) == ALIMTALKS
    with app.app_context():
        parents = db.session.scalars(
            sa.select(MessageLog).where(MessageLog.public_id.in_(talks))
        ).all()
        assert {p.fallback_state for p in parents} == {"sent"}
        children = Counter(
            db.session.scalars(
                sa.select(MessageLog.fallback_of_id).where(MessageLog.fallback_of_id.is_not(None))
            )
        )
        assert sorted(children) == sorted(p.id for p in parents) and set(children.values()) == {1}
        assert db.session.scalar(sa.select(sa.func.sum(MessageLog.check_count))) == len(polls)
