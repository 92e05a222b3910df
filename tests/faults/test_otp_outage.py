"""A provider that is down for a stretch while OTP traffic flows from several threads.

SOLAPI (the primary) goes down — connections refused, open ones reset — for a few seconds
while four clients keep starting verifications; then it comes back. The phases are driven
by answered requests, not by sleeps: the outage lasts at least a few seconds *and* until
enough requests were answered entirely inside it. (bench/faults.py runs the full minute
against gunicorn.)

Every request is checked: a JSON 201 "pending" answer, a verification naming its message,
a log row that tells the truth about what each simulator received, no message sent twice.
Requests that ran entirely inside one phase must show that phase's exact route; requests
that straddled a transition may have any truthful outcome.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa

from kmsg_console.extensions import db, dispose_engines
from kmsg_console.otp.models import Verification
from tests.conftest import make_app
from tests.faults.conftest import new_phone
from tests.faults.truth import pattern

CLIENTS = 4
BEFORE, GOING_DOWN, DOWN, COMING_UP, UP_AGAIN = 0, 1, 2, 3, 4
OUTAGE_SECONDS = 3.0
MIN_PER_PHASE = 8
WAIT = 120.0  # generous: the machine is shared


@dataclass
class Call:
    phone: str
    phase_at_start: int
    phase_at_end: int
    status: int
    body: dict


class Traffic:
    """CLIENTS threads starting verifications back to back until stopped."""

    def __init__(self, system, app) -> None:
        self.system = system
        self.app = app
        self.phase = BEFORE
        self.calls: list[Call] = []
        self.errors: list[BaseException] = []
        self.changed = threading.Condition()
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._run, name=f"otp-client-{i}") for i in range(CLIENTS)
        ]

    def _run(self) -> None:
        client = self.app.test_client()
        try:
            while not self.stop.is_set():
                phone, start = new_phone(), self.phase
                answer = self.system.start_otp(phone, client=client)
                with self.changed:
                    self.calls.append(Call(phone, start, self.phase, answer.status, answer.body))
                    self.changed.notify_all()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            with self.changed:
                self.errors.append(exc)
                self.changed.notify_all()

    def within(self, phase: int) -> int:
        return sum(1 for c in self.calls if c.phase_at_start == c.phase_at_end == phase)

    def wait_for(self, phase: int, count: int, *, at_least_seconds: float = 0.0) -> None:
        """Block until ``count`` calls ran entirely inside ``phase`` (and some time passed)."""
        earliest = time.monotonic() + at_least_seconds
        deadline = time.monotonic() + WAIT
        with self.changed:
            while self.within(phase) < count or time.monotonic() < earliest:
                assert not self.errors, self.errors
                assert time.monotonic() < deadline, (
                    f"phase {phase}: {self.within(phase)} of {count} calls"
                )
                self.changed.wait(timeout=0.1)

    def set_phase(self, phase: int) -> None:
        with self.changed:
            self.phase = phase


def test_otp_keeps_flowing_through_a_primary_outage(system, database_url, instance_dir):
    app = make_app(
        database_url,
        instance_dir,
        SQLALCHEMY_ENGINE_OPTIONS={
            "pool_size": CLIENTS + 2,
            "max_overflow": 4,
            "pool_timeout": 60,
            "pool_pre_ping": True,
        },
    )
    app.config.update(
        PROVIDER_CONNECT_TIMEOUT=system.app.config["PROVIDER_CONNECT_TIMEOUT"],
        PROVIDER_READ_TIMEOUT=system.app.config["PROVIDER_READ_TIMEOUT"],
    )
    solapi = system.sims["solapi"]
    traffic = Traffic(system, app)
    for thread in traffic.threads:
        thread.start()
    try:
        traffic.wait_for(BEFORE, MIN_PER_PHASE)
        traffic.set_phase(GOING_DOWN)
        solapi.take_down()
        traffic.set_phase(DOWN)
        traffic.wait_for(DOWN, 2 * MIN_PER_PHASE, at_least_seconds=OUTAGE_SECONDS)
        traffic.set_phase(COMING_UP)
        solapi.bring_up()
        traffic.set_phase(UP_AGAIN)
        traffic.wait_for(UP_AGAIN, MIN_PER_PHASE)
    finally:
        traffic.stop.set()
        for thread in traffic.threads:
            thread.join(timeout=WAIT)
        with app.app_context():
            dispose_engines()
    assert not traffic.errors, traffic.errors
    calls = traffic.calls

    # Every request got a sensible answer: the console never failed with the provider.
    for call in calls:
        assert call.status == 201, (call.phone, call.status, call.body)
        assert (
            call.body["status"] == "pending" and call.body["channel"] == "sms" and call.body["id"]
        )

    # Every verification names a message, and every message has a truthful log row.
    rows = system.assert_truthful()
    by_phone = {row.phone: row for row in rows.values()}
    assert set(by_phone) == {call.phone for call in calls}, "an accepted request has no log row"
    with system.app.app_context():
        linked = dict(
            db.session.execute(
                sa.select(Verification.public_id, Verification.message_public_id)
            ).all()
        )
        assert set(linked) == {call.body["id"] for call in calls}
        assert set(linked.values()) == set(rows), (
            "a verification without its message (or the reverse)"
        )

    # The route of each request follows the phase it ran in.
    expected = {
        BEFORE: [("solapi", "accepted")],
        DOWN: [("solapi", "failed"), ("iwinv", "accepted")],
        UP_AGAIN: [("solapi", "accepted")],
    }
    for call in calls:
        row = by_phone[call.phone]
        if call.phase_at_start == call.phase_at_end and call.phase_at_start in expected:
            assert pattern(row) == expected[call.phase_at_start], (call, row)
            assert row.status == "SENT"
            if call.phase_at_start == DOWN:
                assert row.attempts[0].error_code == "NETWORK_ERROR"
        else:  # straddled a transition: any truthful outcome, but never "failed" (it got 201)
            assert row.status in ("SENT", "UNKNOWN"), (call, row)
    views = system.views()
    assert views["iwinv_sms"].total_received >= 2 * MIN_PER_PHASE
    for call in calls:
        received = sum(view.received[call.phone] for view in views.values())
        # Only a request caught by the outage itself (its connection reset before the vendor
        # read it) may have reached nobody, and its row says "unknown", not "sent".
        assert received or by_phone[call.phone].status == "UNKNOWN", call

    # A code delivered by the secondary during the outage works.
    during = next(c for c in calls if c.phase_at_start == c.phase_at_end == DOWN)
    code = re.search(r"\[(\d{4,10})\]", system.sent_text(during.phone)).group(1)
    checked = system.check_otp(during.body["id"], code)
    assert checked.status == 200 and checked.body["status"] == "approved"
