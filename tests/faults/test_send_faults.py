"""System-level faults: the real API, two real providers with failover, simulated vendors.

For every fault: the console answers with JSON and no 5xx of its own, fails over exactly
when the failure proves the message was not taken, never sends a message twice (counted
at the simulators, per recipient), and leaves a log row whose status and attempts say what
the vendors really did (:func:`tests.faults.truth.problems`).

The adapter-level classification of the same faults is in tests/providers/test_adapter_faults.py;
here the whole path is under test: API → send engine → router → adapters → sockets → log rows.
"""

from __future__ import annotations

import threading

import pytest

from tests.faults.conftest import SLOWER_THAN_READ_TIMEOUT_MS, VENDOR_OF, new_phone
from tests.faults.truth import pattern

ENDPOINTS = ["message", "otp"]


def _call(system, endpoint: str, phone: str):
    """Send through ``endpoint`` and check the answer is a well-formed success."""
    if endpoint == "message":
        answer = system.send(phone)
        assert answer.status == 201, answer.body
        assert {"id", "status", "attempts"} <= set(answer.body)
    else:
        answer = system.start_otp(phone)
        assert answer.status == 201, answer.body
        assert answer.body["status"] == "pending" and answer.body["channel"] == "sms"
    return answer


def _row(system, answer, endpoint: str, phone: str):
    row = system.row_for_phone(phone)
    if endpoint == "message":
        assert answer.body["id"] == row.public_id
        assert answer.body["status"] == row.status
        assert [(a["provider"], a["outcome"]) for a in answer.body["attempts"]] == pattern(row)
    return row


# -- latency -------------------------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_latency_spike_below_the_read_timeout_is_waited_out_and_sent_once(system, endpoint):
    system.inject("solapi", "latency", ms=400, count=None)
    phones = [new_phone() for _ in range(3)]
    rows = [_row(system, _call(system, endpoint, phone), endpoint, phone) for phone in phones]
    assert [pattern(row) for row in rows] == [[("solapi", "accepted")]] * 3
    assert {row.status for row in rows} == {"SENT"}
    system.assert_truthful()
    assert system.views()["iwinv_sms"].total_received == 0


# -- read timeout after the request left ---------------------------------------------------------
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_read_timeout_after_sending_is_unknown_and_never_sent_elsewhere(system, endpoint):
    system.inject("solapi", "timeout", ms=SLOWER_THAN_READ_TIMEOUT_MS)
    phone = new_phone()
    answer = _call(system, endpoint, phone)
    row = _row(system, answer, endpoint, phone)
    assert pattern(row) == [("solapi", "unknown")] and row.status == "UNKNOWN"
    assert row.error_code == "NETWORK_TIMEOUT"
    if endpoint == "message":
        assert answer.body["error"]["retryable"] is False
    views = system.views()
    # Why a second send would have been wrong: the vendor did take it, after the console gave up.
    assert views["solapi"].stored[phone] == 1 and views["iwinv_sms"].received[phone] == 0
    # The fault was one request long; the next message goes through normally.
    after = new_phone()
    assert pattern(_row(system, _call(system, endpoint, after), endpoint, after)) == [
        ("solapi", "accepted")
    ]
    system.assert_truthful()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_gateway_timeout_504_is_unknown_and_not_failed_over(system, endpoint):
    system.inject("solapi", "status_5xx", status=504)
    phone = new_phone()
    row = _row(system, _call(system, endpoint, phone), endpoint, phone)
    assert pattern(row) == [("solapi", "unknown")] and row.status == "UNKNOWN"
    system.assert_truthful()


# -- before the request left: connect failures ---------------------------------------------------
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_connection_refused_fails_over_to_the_secondary(system, endpoint):
    system.sims["solapi"].take_down()
    phone = new_phone()
    row = _row(system, _call(system, endpoint, phone), endpoint, phone)
    assert pattern(row) == [("solapi", "failed"), ("iwinv", "accepted")] and row.status == "SENT"
    assert [a.trigger for a in row.attempts] == ["initial", "failover"]
    assert row.attempts[0].error_code == "NETWORK_ERROR"
    system.sims["solapi"].bring_up()
    system.assert_truthful()
    assert system.views()["solapi"].total_received == 0


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_connect_timeout_fails_over_to_the_secondary(app, sims, chain, endpoint, unaccepting_port):
    from tests.faults.conftest import System

    system = System(
        app, sims, chain, values={"solapi": {"base_url": f"http://127.0.0.1:{unaccepting_port}"}}
    )
    phone = new_phone()
    row = _row(system, _call(system, endpoint, phone), endpoint, phone)
    assert pattern(row) == [("solapi", "failed"), ("iwinv", "accepted")]
    assert row.attempts[0].error_code == "NETWORK_TIMEOUT"
    system.assert_truthful()


def test_failover_then_a_read_timeout_at_the_secondary_is_unknown(system):
    system.sims["solapi"].take_down()
    system.inject("iwinv", "timeout", ms=SLOWER_THAN_READ_TIMEOUT_MS)
    phone = new_phone()
    row = _row(system, _call(system, "message", phone), "message", phone)
    assert pattern(row) == [("solapi", "failed"), ("iwinv", "unknown")] and row.status == "UNKNOWN"
    system.sims["solapi"].bring_up()
    assert system.views()["iwinv_sms"].stored[phone] == 1
    system.assert_truthful()


# -- connection resets ----------------------------------------------------------------------------
@pytest.mark.parametrize("processed", [False, True], ids=["dropped", "processed-then-dropped"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_connection_reset_after_sending_is_unknown_and_never_resent(system, endpoint, processed):
    system.inject("solapi", "reset", process=processed)
    phone = new_phone()
    row = _row(system, _call(system, endpoint, phone), endpoint, phone)
    assert pattern(row) == [("solapi", "unknown")] and row.status == "UNKNOWN"
    views = system.views()
    assert views["solapi"].received[phone] == 1 and views["solapi"].stored[phone] == int(processed)
    assert views["iwinv_sms"].received[phone] == 0
    system.assert_truthful()


# -- 5xx bursts ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "status, code",
    [(500, "PROVIDER_ERROR"), (502, "PROVIDER_ERROR"), (503, "NETWORK_SERVICE_UNAVAILABLE")],
)
def test_5xx_burst_fails_over_exactly_the_refused_messages(system, status, code):
    burst = 4
    system.inject("solapi", "status_5xx", status=status, count=burst, retry_after=5)
    phones = [new_phone() for _ in range(burst + 2)]
    rows = [_row(system, _call(system, "message", phone), "message", phone) for phone in phones]
    assert [pattern(row) for row in rows] == (
        [[("solapi", "failed"), ("iwinv", "accepted")]] * burst + [[("solapi", "accepted")]] * 2
    )
    assert {row.attempts[0].error_code for row in rows[:burst]} == {code}
    assert {row.status for row in rows} == {"SENT"}
    system.assert_truthful()
    assert system.views()["iwinv_sms"].total_received == burst


def test_both_providers_failing_is_a_truthful_failure_not_a_console_error(system):
    system.inject("solapi", "status_5xx", status=503, count=2)
    system.inject("iwinv", "status_5xx", status=502, count=2)
    message = system.send(new_phone())
    assert message.status == 201 and message.body["status"] == "FAILED"
    assert (
        message.body["error"]["code"] == "PROVIDER_ERROR"
        and message.body["error"]["retryable"] is True
    )
    assert [(a["provider"], a["outcome"]) for a in message.body["attempts"]] == [
        ("solapi", "failed"),
        ("iwinv", "failed"),
    ]
    # OTP documents 502 for "the provider refused the code": a JSON error naming the
    # verification, which is canceled, never an unhandled 500.
    otp = system.start_otp(new_phone())
    assert otp.status == 502 and otp.body["error"]["code"] == "send_failed"
    assert otp.body["error"]["details"]["verification_id"]
    rows = system.assert_truthful()
    assert {row.status for row in rows.values()} == {"FAILED"}


# -- malformed bodies -------------------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_malformed_success_body_is_unknown_and_never_resent(system, endpoint):
    system.inject("solapi", "malformed_json")
    phone = new_phone()
    row = _row(system, _call(system, endpoint, phone), endpoint, phone)
    assert pattern(row) == [("solapi", "unknown")] and row.status == "UNKNOWN"
    assert system.views()["solapi"].stored[phone] == 1  # it was sent: a resend would duplicate it
    system.assert_truthful()


# -- refusals about the provider's account: auth, balance, rate limit ----------------------------------
@pytest.mark.parametrize(
    "fault, code",
    [
        ({"code": "InvalidAPIKey", "http_status": 401}, "AUTHENTICATION_FAILED"),
        ({"code": "SignatureDoesNotMatch", "http_status": 403}, "AUTHENTICATION_FAILED"),
        ({"code": "NotEnoughBalance", "http_status": 402}, "INSUFFICIENT_BALANCE"),
        ({"code": "1030"}, "INSUFFICIENT_BALANCE"),  # per-message refusal inside an HTTP 200
        ({"code": "TooManyRequests", "http_status": 429}, "RATE_LIMIT_EXCEEDED"),
    ],
    ids=["auth-401", "signature-403", "balance-402", "balance-1030", "rate-limit-429"],
)
def test_account_refusals_fail_over(system, fault, code):
    system.inject("solapi", "vendor_error", **fault)
    phone = new_phone()
    row = _row(system, _call(system, "message", phone), "message", phone)
    assert pattern(row) == [("solapi", "failed"), ("iwinv", "accepted")]
    assert row.attempts[0].error_code == code
    system.assert_truthful()


@pytest.mark.parametrize(
    "fault",
    [{"code": "ValidationError"}, {"code": "1062"}],
    ids=["validation", "unregistered-sender"],
)
def test_refusals_about_the_message_itself_do_not_fail_over(system, fault):
    system.inject("solapi", "vendor_error", **fault)
    phone = new_phone()
    row = _row(system, _call(system, "message", phone), "message", phone)
    assert pattern(row) == [("solapi", "failed")] and row.status == "FAILED"
    assert row.error_code == "INVALID_REQUEST"
    system.assert_truthful()


# -- the same with IWINV first -----------------------------------------------------------------------
@pytest.mark.parametrize("chain", [["iwinv", "solapi"]], ids=["iwinv>solapi"], indirect=True)
@pytest.mark.parametrize(
    "fault, expected",
    [
        ({"mode": "status_5xx", "status": 503}, [("iwinv", "failed"), ("solapi", "accepted")]),
        ({"mode": "status_5xx", "status": 500}, [("iwinv", "failed"), ("solapi", "accepted")]),
        ({"mode": "vendor_error", "code": "14"}, [("iwinv", "failed"), ("solapi", "accepted")]),
        ({"mode": "vendor_error", "code": "50"}, [("iwinv", "failed"), ("solapi", "accepted")]),
        ({"mode": "vendor_error", "code": "13"}, [("iwinv", "failed")]),
        ({"mode": "malformed_json"}, [("iwinv", "unknown")]),
        ({"mode": "timeout", "ms": SLOWER_THAN_READ_TIMEOUT_MS}, [("iwinv", "unknown")]),
        ({"mode": "reset", "process": True}, [("iwinv", "unknown")]),
    ],
    ids=["503", "500-html", "auth-14", "balance-50", "sender-13", "malformed", "timeout", "reset"],
)
def test_iwinv_as_primary(system, fault, expected):
    fault = dict(fault)
    system.inject("iwinv", fault.pop("mode"), **fault)
    phone = new_phone()
    row = _row(system, _call(system, "message", phone), "message", phone)
    assert pattern(row) == expected
    system.assert_truthful()


# -- many faults at once, from several threads ---------------------------------------------------------
def test_mixed_faults_under_concurrency_stay_truthful(system, app, database_url, instance_dir):
    """A seeded mix of every fault, consumed by concurrent senders in whatever order they race."""
    import random

    from kmsg_console.extensions import dispose_engines
    from tests.conftest import make_app

    rng = random.Random(20260601)
    modes = [
        ("status_5xx", {"status": 503}),
        ("status_5xx", {"status": 500}),
        ("status_5xx", {"status": 504}),
        ("reset", {"process": False}),
        ("reset", {"process": True}),
        ("malformed_json", {}),
        ("latency", {"ms": 200}),
        ("timeout", {"ms": SLOWER_THAN_READ_TIMEOUT_MS}),
        ("vendor_error", {"code": "TooManyRequests", "http_status": 429}),
        ("vendor_error", {"code": "1030"}),
    ]
    for _ in range(14):
        mode, extra = rng.choice(modes)
        system.inject("solapi", mode, **extra)
    for _ in range(3):
        system.inject("iwinv", "status_5xx", status=503)
    burst = make_app(
        database_url,
        instance_dir,
        SQLALCHEMY_ENGINE_OPTIONS={
            "pool_size": 6,
            "max_overflow": 4,
            "pool_timeout": 60,
            "pool_pre_ping": True,
        },
    )
    burst.config.update(
        PROVIDER_CONNECT_TIMEOUT=app.config["PROVIDER_CONNECT_TIMEOUT"],
        PROVIDER_READ_TIMEOUT=app.config["PROVIDER_READ_TIMEOUT"],
    )
    threads, per_thread = 4, 6
    answers: list = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads, timeout=60)

    def worker(index: int) -> None:
        client = burst.test_client()
        barrier.wait()
        for n in range(per_thread):
            phone = new_phone()
            answer = (
                system.start_otp(phone, client=client)
                if (index + n) % 2
                else system.send(phone, client=client)
            )
            with lock:
                answers.append((phone, answer))

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    with burst.app_context():
        dispose_engines()
    assert len(answers) == threads * per_thread
    for _phone, answer in answers:
        # 201 for every message; an OTP whose every provider refused gets its documented 502.
        assert answer.status in (201, 502), answer.body
        if answer.status == 502:
            assert answer.body["error"]["code"] == "send_failed"
    rows = system.assert_truthful()
    assert {row.phone for row in rows.values()} == {phone for phone, _ in answers}


# -- answers that parse but say nothing trustworthy ----------------------------------------------------
@pytest.mark.parametrize("processed", [True, False], ids=["vendor-took-it", "vendor-never-saw-it"])
@pytest.mark.parametrize("provider", ["solapi", "iwinv"])
@pytest.mark.parametrize(
    "body, content_type",
    [
        ("{}", None),
        ('{"status": "ok"}', None),  # a proxy's own JSON
        ("<html><body>Service</body></html>", "text/html"),
    ],
    ids=["empty-object", "foreign-json", "html-200"],
)
def test_a_2xx_without_a_vendor_verdict_is_unknown_not_sent(
    app, sims, provider, body, content_type, processed
):
    """Regression: SOLAPI took any 2xx JSON object ({} included) for "accepted, no id" (SENT)."""
    from tests.faults.conftest import System

    chain = [provider, "iwinv" if provider == "solapi" else "solapi"]
    system = System(app, sims, chain)
    system.inject(provider, "body", body=body, content_type=content_type, process=processed)
    phone = new_phone()
    row = _row(system, _call(system, "message", phone), "message", phone)
    # Whether or not the vendor took it, the answer does not say: neither SENT nor a second send.
    assert pattern(row) == [(provider, "unknown")] and row.status == "UNKNOWN"
    assert system.views()[VENDOR_OF[provider]].stored[phone] == int(processed)
    system.assert_truthful()


def test_a_solapi_group_answer_without_the_message_list_is_sent_without_an_id(system):
    body = (
        '{"groupInfo": {"groupId": "G4V20260101000000ABCDEFGHIJKLMNO", "status": "SENDING",'
        ' "count": {"total": 1, "registeredSuccess": 1, "registeredFailed": 0}}, "failedMessageList": []}'
    )
    system.inject("solapi", "body", body=body, process=True)
    phone = new_phone()
    answer = _call(system, "message", phone)
    row = _row(system, answer, "message", phone)
    assert pattern(row) == [("solapi", "accepted")] and row.status == "SENT"
    assert "MISSING_PROVIDER_MESSAGE_ID" in {w["code"] for w in answer.body["warnings"]}
    system.assert_truthful()
