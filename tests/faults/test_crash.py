"""Crash safety: SIGKILL the production server (gunicorn master and workers) mid-send.

The console runs as ``kmsg-console serve`` on SQLite and on PostgreSQL, in front of a
vendor that holds every send (latency injection), so sends are in flight at the vendor
when the processes die; a second wave is caught at whatever stage it reached. Afterwards:

* every request the client saw accepted (2xx) has its log row, with the status it was told;
* every send a vendor received has a row, and no such row says FAILED: it is UNKNOWN with
  its attempt still ``in_flight`` at that vendor (the vendor processes it after the crash);
* a request that never got a 2xx has either no row or a truthful one;
* nothing is half-written (attempts and events belong to existing rows, counts agree,
  every row has its "accepted" event; SQLite's integrity and foreign-key checks pass);
* a new server starts on the same database, answers /readyz, serves every message over the
  API and the send-log page, and sends again;
* a client that retries its unanswered sends with the same ``Idempotency-Key`` gets the
  crashed row back (no second send) when one was written, and a first send otherwise.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

import requests
import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.orm import utcnow
from kmsg_console.otp.models import Verification
from kmsg_console.sending.models import MessageAttempt, MessageEvent, MessageLog
from kmsg_console.worker import interrupted
from tests.faults import truth
from tests.faults.conftest import VENDOR_OF, configure, new_phone, settle
from tests.faults.served import ADMIN_EMAIL, ADMIN_PASSWORD, ServedConsole

HOLD_MS = 120_000  # the vendor "works" on each send far longer than the test takes
WAIT = 90.0
CLIENT_TIMEOUT = (5, 300)


@dataclass
class Request:
    phone: str
    kind: str  # "message" or "otp"
    status: int | None = None
    body: dict | None = None
    error: str | None = None


@dataclass
class Client:
    base_url: str
    key: str
    made: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, kind: str, phone: str | None = None) -> Request:
        """One API call; messages carry ``Idempotency-Key: <number>`` so they can be retried."""
        request = Request(phone or new_phone(), kind)
        with self.lock:
            self.made.append(request)
        headers = {"Authorization": f"Bearer {self.key}"}
        if kind == "message":
            path, body = "/api/v1/messages", {"to": request.phone, "text": "주문이 접수되었습니다."}
            headers["Idempotency-Key"] = f"order-{request.phone}"
        else:
            path, body = "/api/v1/verifications", {"phone": request.phone, "purpose": "login"}
        try:
            response = requests.post(
                self.base_url + path, json=body, timeout=CLIENT_TIMEOUT, headers=headers
            )
            request.status, request.body = response.status_code, response.json()
        except requests.RequestException as exc:
            request.error = type(exc).__name__
        return request

    def wave(self, kinds: list[str]) -> list[threading.Thread]:
        threads = [threading.Thread(target=self.call, args=(kind,), daemon=True) for kind in kinds]
        for thread in threads:
            thread.start()
        return threads


def _held(sim) -> int:
    """Sends the vendor is holding right now (received, delay running, not answered)."""
    return sum(
        1
        for vendor in VENDOR_OF.values()
        for r in sim.control.requests(vendor, truth.SEND_PATHS[vendor])
        if r["fault"] == "latency" and r["response_status"] is None
    )


def _wait(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_sigkill_mid_send_leaves_a_truthful_consistent_database(
    app, database_url, instance_dir, backend, simulator_factory, tmp_path
):
    sim = simulator_factory(delivery_step_seconds=None)
    sims = {"solapi": sim, "iwinv": sim}
    key = configure(app, sims, ["solapi", "iwinv"])
    server = ServedConsole(
        database_url=database_url, instance_path=instance_dir, log_path=tmp_path / "serve-1.log"
    )
    try:
        server.wait_ready()
        client = Client(server.base_url, key)

        # Wave A: completes normally before anything goes wrong.
        completed = [client.call(kind) for kind in ["message", "otp", "message", "otp"]]
        assert [r.status for r in completed] == [201] * 4, [
            (r.status, r.body, r.error) for r in completed
        ]

        # The vendors now hold every send; the first two SOLAPI sends are refused first (503),
        # so two messages are in flight at the secondary after a failover.
        sim.control.inject(
            "solapi", "status_5xx", path=truth.SEND_PATHS["solapi"], status=503, count=2
        )
        sim.control.inject(
            "solapi", "latency", path=truth.SEND_PATHS["solapi"], ms=HOLD_MS, count=None
        )
        sim.control.inject(
            "iwinv_sms", "latency", path=truth.SEND_PATHS["iwinv_sms"], ms=HOLD_MS, count=None
        )

        # Wave B1: six sends, all of them held at a vendor (2 workers x 8 threads > 6).
        first = client.wave(["message", "otp"] * 3)
        _wait(lambda: _held(sim) == 6, "six sends held at the vendors")
        b1 = [r for r in client.made if r not in completed]

        # Wave B2: caught at whatever stage it reached once the server has written one of its rows.
        second = client.wave(["message", "otp"] * 3)
        b2 = [r for r in client.made if r not in completed and r not in b1]
        with app.app_context():
            hashes = {phone_lookup_hash(app, r.phone) for r in b2}
            _wait(lambda: _b2_rows(hashes) >= 1, "a row of the second wave")
        killed = server.crash()
        assert len(killed) >= 3
        for thread in first + second:
            thread.join(timeout=WAIT)
    finally:
        server.stop()

    # The vendor finishes what it was holding (it got those messages), then we compare.
    sim.state.stopping.set()  # ends every injected delay now
    sim.control.clear_faults()
    settle(sim, "solapi")
    settle(sim, "iwinv_sms")
    views = {vendor: truth.observe(sim, vendor) for vendor in VENDOR_OF.values()}
    with app.app_context():
        rows = truth.log_rows(app.config["KEYRING"])
    by_phone = {row.phone: row for row in rows}

    found = truth.problems(rows, views, VENDOR_OF, allow_in_flight=True)
    assert not found, "\n".join(found)
    assert {row.phone for row in rows} <= {r.phone for r in client.made}, "a row nobody asked for"

    for request in client.made:
        if request.status is not None and 200 <= request.status < 300:
            row = by_phone.get(request.phone)
            assert row is not None, f"accepted request without a log row: {request}"
            if request.kind == "message":
                assert (request.body["id"], request.body["status"]) == (row.public_id, row.status)
        else:
            assert request.error is not None or request.status >= 400, request
    for request in completed:
        assert truth.pattern(by_phone[request.phone]) == [("solapi", "accepted")]
    for request in b1:  # held at a vendor when the processes died
        assert request.status is None, request
        row = by_phone[request.phone]
        # in_flight; "unknown" only if the console's own 10 s read timeout fired before the kill
        assert row.status == "UNKNOWN" and row.attempts[-1].outcome in ("in_flight", "unknown"), row
        vendor = VENDOR_OF[row.attempts[-1].provider]
        assert (
            views[vendor].received[request.phone] == 1 and views[vendor].stored[request.phone] == 1
        )
    routes = sorted(
        [
            (a.provider, a.outcome if a.outcome == "failed" else "held")
            for a in by_phone[r.phone].attempts
        ]
        for r in b1
    )
    assert routes == sorted(
        [[("solapi", "failed"), ("iwinv", "held")]] * 2 + [[("solapi", "held")]] * 4
    )
    assert any(by_phone[r.phone].attempts[-1].outcome == "in_flight" for r in b1)

    # Nothing is half-written.
    with app.app_context():
        orphans = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(MessageAttempt)
            .where(~sa.exists().where(MessageLog.id == MessageAttempt.message_id))
        )
        orphan_events = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(MessageEvent)
            .where(~sa.exists().where(MessageLog.id == MessageEvent.message_id))
        )
        without_accepted = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(MessageLog)
            .where(
                ~sa.exists().where(
                    MessageEvent.message_id == MessageLog.id, MessageEvent.kind == "accepted"
                )
            )
        )
        assert (orphans, orphan_events, without_accepted) == (0, 0, 0)
        linked = [m for m in db.session.scalars(sa.select(Verification.message_public_id)) if m]
        assert set(linked) <= {row.public_id for row in rows}
        if backend == "sqlite":
            assert db.session.execute(sa.text("PRAGMA integrity_check")).scalar() == "ok"
            assert db.session.execute(sa.text("PRAGMA foreign_key_check")).all() == []
        db.session.rollback()

    # A new server starts on the crashed database and serves it.
    again = ServedConsole(
        database_url=database_url, instance_path=instance_dir, log_path=tmp_path / "serve-2.log"
    )
    try:
        again.wait_ready()
        assert requests.get(again.base_url + "/readyz", timeout=10).json()["status"] == "ok"
        auth = {"Authorization": f"Bearer {key}"}
        for row in rows:
            answer = requests.get(
                f"{again.base_url}/api/v1/messages/{row.public_id}", headers=auth, timeout=10
            )
            assert answer.status_code == 200 and answer.json()["status"] == row.status
        session = requests.Session()
        session.headers["Accept-Language"] = "en"
        page = session.get(again.base_url + "/login", timeout=10)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
        login = session.post(
            again.base_url + "/login",
            allow_redirects=False,
            timeout=10,
            data={"csrf_token": token, "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        )
        assert login.status_code == 302, login.text[:500]
        send_log = session.get(again.base_url + "/send-logs", timeout=10)
        assert send_log.status_code == 200
        for row in rows:
            assert f'id="message-{row.public_id}"' in send_log.text
        retrying = Client(again.base_url, key)
        after = retrying.call("message")
        assert after.status == 201 and after.body["status"] == "SENT", after

        # The client retries every message it got no answer for, with the same Idempotency-Key.
        unanswered = [r for r in client.made if r.kind == "message" and r.status is None]
        assert unanswered
        for request in unanswered:
            retried = retrying.call("message", phone=request.phone)
            row = by_phone.get(request.phone)
            if row is not None:  # the crashed row comes back as it is: never a second send
                assert retried.status == 200, retried
                assert (retried.body["id"], retried.body["status"]) == (row.public_id, "UNKNOWN")
            else:  # never accepted before the crash: this is its first send
                assert retried.status == 201 and retried.body["status"] == "SENT", retried
    finally:
        again.stop()
    settle(sim, "solapi")
    settle(sim, "iwinv_sms")
    views_after = {vendor: truth.observe(sim, vendor) for vendor in VENDOR_OF.values()}
    for request in unanswered:
        reached = sum(view.received[request.phone] for view in views_after.values())
        assert reached == sum(view.received[request.phone] for view in views.values()) + (
            0 if request.phone in by_phone else 1
        ), request
    with app.app_context():
        found = truth.problems(
            truth.log_rows(app.config["KEYRING"]), views_after, VENDOR_OF, allow_in_flight=True
        )
    assert not found, "\n".join(found)

    # Once the abandoned rows are older than any send can take, the worker settles them: no
    # attempt stays in flight, what a vendor may have is UNKNOWN (never FAILED, never resent),
    # and a row that never reached a provider is FAILED.
    with app.app_context():
        settled = interrupted.settle(utcnow() + interrupted.STALE_AFTER + timedelta(minutes=1))
        final = truth.log_rows(app.config["KEYRING"])
        notes = dict(
            db.session.execute(sa.select(MessageLog.public_id, MessageLog.tracking_note)).all()
        )
    assert settled["interrupted"] >= 1
    assert not truth.problems([r for r in final if r.attempts], views_after, VENDOR_OF), settled
    for row in final:
        if not row.attempts:
            assert (row.status, row.error_code) == ("FAILED", "REQUEST_ABORTED"), row
        elif row.attempts[-1].error_code == "REQUEST_ABORTED":
            assert row.status == "UNKNOWN" and notes[row.public_id] == interrupted.INTERRUPTED, row
            vendor = VENDOR_OF[row.attempts[-1].provider]
            assert views_after[vendor].received[row.phone] <= 1, (
                row
            )  # killed before or after the call


def phone_lookup_hash(app, phone: str) -> str:
    from kmsg_console.sending.reading import PHONE_HASH_PURPOSE

    return app.config["KEYRING"].lookup_hash(phone, PHONE_HASH_PURPOSE)


def _b2_rows(hashes: set[str]) -> int:
    count = db.session.scalar(
        sa.select(sa.func.count()).select_from(MessageLog).where(MessageLog.to_hash.in_(hashes))
    )
    db.session.rollback()
    return count
