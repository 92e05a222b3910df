"""Transport faults for every vendor adapter, over real sockets and the simulators.

For each fault: the normalized code, whether the vendor may have the message
(``accepted``), and that the message left at most once (recorded requests).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from kmsg_console.messaging.errors import Acceptance, ErrorCode
from kmsg_console.messaging.router import Router
from kmsg_console.messaging.types import Message, MessageType
from kmsg_console.providers.adapters.aligo import AligoAdapter
from kmsg_console.providers.adapters.base import BaseAdapter
from kmsg_console.providers.adapters.config import Timeouts
from kmsg_console.providers.adapters.iwinv import IwinvAdapter
from kmsg_console.providers.adapters.sandbox import SandboxAdapter, sandbox_clear, sandbox_outbox
from kmsg_console.providers.adapters.solapi import SolapiAdapter

#: For a simulator that answers at once: generous, so that a loaded machine never turns a
#: prompt answer into a timeout.
PROMPT = Timeouts(connect=5, read=10)
#: For the timeout cases: the injected delay (1.5 s) and the unaccepting port are well past it.
SHORT = Timeouts(connect=0.5, read=0.6)
TEMPLATE_BODY = "[#{service}] 인증번호는 [#{code}]입니다. 3분 안에 입력해 주세요."
SMS = Message(type=MessageType.SMS, to="01012345678", text="인증번호 123456")
ALIMTALK = Message(
    type=MessageType.ALIMTALK,
    to="01012345678",
    template_id="KMSG_OTP_001",
    template_content=TEMPLATE_BODY,
    variables={"service": "KMSG", "code": "123456"},
)


@dataclass(frozen=True)
class Case:
    """One vendor API: how to build its adapter for a base URL, what to send, where it lands."""

    vendor: str  # simulator vendor id
    path: str
    message: Message
    build: Callable[[str, Timeouts], BaseAdapter]


def _solapi(url: str, timeouts: Timeouts) -> BaseAdapter:
    return SolapiAdapter(
        "p",
        {
            "api_key": "demo-api-key",
            "api_secret": "demo-api-secret",
            "default_from": "0212345678",
            "base_url": url,
        },
        timeouts=timeouts,
    )


def _iwinv(url: str, timeouts: Timeouts) -> BaseAdapter:
    return IwinvAdapter(
        "p",
        {
            "api_key": "demo-api-key",
            "sms_api_key": "demo-sms-key",
            "sms_auth_key": "demo-sms-auth",
            "sender_number": "0212345678",
            "alimtalk_base_url": url,
            "sms_base_url": url,
        },
        timeouts=timeouts,
    )


def _aligo(url: str, timeouts: Timeouts) -> BaseAdapter:
    return AligoAdapter(
        "p",
        {
            "api_key": "demo-api-key",
            "user_id": "demo",
            "sender": "0212345678",
            "sender_key": "demo-sender-key",
            "sms_base_url": url,
            "kakao_base_url": url,
        },
        timeouts=timeouts,
    )


CASES = {
    "solapi": Case("solapi", "/messages/v4/send-many/detail", SMS, _solapi),
    "iwinv_alimtalk": Case("iwinv_alimtalk", "/api/v2/send/", ALIMTALK, _iwinv),
    "iwinv_sms": Case("iwinv_sms", "/api/v2/send/", SMS, _iwinv),
    "aligo_sms": Case("aligo_sms", "/send/", SMS, _aligo),
    "aligo_kakao": Case("aligo_kakao", "/akv10/alimtalk/send/", ALIMTALK, _aligo),
}


@pytest.fixture(params=sorted(CASES))
def case(request) -> Case:
    return CASES[request.param]


@pytest.fixture
def adapters() -> Iterator[list[BaseAdapter]]:
    made: list[BaseAdapter] = []
    yield made
    for adapter in made:
        adapter.close()


def send(case: Case, url: str, adapters: list[BaseAdapter], timeouts: Timeouts = PROMPT):
    adapter = case.build(url, timeouts)
    adapters.append(adapter)
    return adapter.send(case.message)


def recorded(simulator, case: Case) -> list[dict]:
    return simulator.control.requests(case.vendor, case.path)


def wait_until_answered(simulator, case: Case, timeout: float = 10.0) -> dict:
    """Let a delayed vendor request finish, so it cannot leak into the next test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = recorded(simulator, case)
        if rows and rows[-1]["response_status"] is not None:
            return rows[-1]
        time.sleep(0.05)
    raise AssertionError("the simulator never answered the delayed request")


# -- before the request leaves: NOT_ACCEPTED -------------------------------------------------------
def test_connection_refused_is_not_accepted(case, adapters):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends: nothing listens there
    outcome = send(case, f"http://127.0.0.1:{port}", adapters)
    assert outcome.error.code is ErrorCode.NETWORK_ERROR
    assert outcome.error.accepted is Acceptance.NOT_ACCEPTED
    assert outcome.error.retryable and outcome.error.failover_eligible


def test_connect_timeout_is_not_accepted(case, adapters, unaccepting_port):
    started = time.monotonic()
    outcome = send(case, f"http://127.0.0.1:{unaccepting_port}", adapters, SHORT)
    assert time.monotonic() - started < 3
    assert outcome.error.code is ErrorCode.NETWORK_TIMEOUT
    assert outcome.error.accepted is Acceptance.NOT_ACCEPTED
    assert outcome.error.failover_eligible


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, ErrorCode.PROVIDER_ERROR),
        (502, ErrorCode.PROVIDER_ERROR),
        (503, ErrorCode.NETWORK_SERVICE_UNAVAILABLE),
    ],
)
def test_5xx_is_not_accepted_and_retryable(simulator, case, adapters, status, code):
    simulator.control.inject(
        case.vendor, "status_5xx", path=case.path, status=status, retry_after=3
    )
    outcome = send(case, simulator.url(case.vendor), adapters)
    assert (outcome.error.code, outcome.error.http_status) == (code, status)
    assert outcome.error.accepted is Acceptance.NOT_ACCEPTED
    assert outcome.error.retryable and outcome.error.retry_after_ms == 3000
    assert len(recorded(simulator, case)) == 1
    assert simulator.control.messages(case.vendor) == []


def test_non_json_4xx_page_is_not_accepted(simulator, case, adapters):
    outcome = send(case, simulator.base_url + "/no-such-prefix", adapters)
    assert outcome.error.code is ErrorCode.NETWORK_ERROR
    assert outcome.error.accepted is Acceptance.NOT_ACCEPTED


# -- after the request left: UNKNOWN ---------------------------------------------------------------
def test_read_timeout_is_unknown_and_the_vendor_did_process_it(simulator, case, adapters):
    simulator.control.inject(case.vendor, "timeout", path=case.path, ms=1500)
    outcome = send(case, simulator.url(case.vendor), adapters, SHORT)
    assert outcome.error.code is ErrorCode.NETWORK_TIMEOUT
    assert outcome.error.accepted is Acceptance.UNKNOWN
    assert not outcome.error.retryable and not outcome.error.failover_eligible
    answered = wait_until_answered(simulator, case)
    assert answered["response_status"] == 200
    assert len(recorded(simulator, case)) == 1
    assert (
        len(simulator.control.messages(case.vendor)) == 1
    )  # why a retry would have been a duplicate


def test_504_is_unknown(simulator, case, adapters):
    simulator.control.inject(case.vendor, "status_5xx", path=case.path, status=504)
    outcome = send(case, simulator.url(case.vendor), adapters)
    assert (outcome.error.code, outcome.error.accepted) == (
        ErrorCode.NETWORK_TIMEOUT,
        Acceptance.UNKNOWN,
    )


@pytest.mark.parametrize("processed", [False, True])
def test_connection_reset_after_sending_is_unknown(simulator, case, adapters, processed):
    simulator.control.inject(case.vendor, "reset", path=case.path, process=processed)
    outcome = send(case, simulator.url(case.vendor), adapters)
    assert outcome.error.code is ErrorCode.NETWORK_ERROR
    assert outcome.error.accepted is Acceptance.UNKNOWN
    assert len(recorded(simulator, case)) == 1
    # Either way the client cannot tell; with process=True the vendor really has the message.
    assert len(simulator.control.messages(case.vendor)) == (1 if processed else 0)


def test_malformed_json_on_2xx_is_unknown(simulator, case, adapters):
    simulator.control.inject(case.vendor, "malformed_json", path=case.path)
    outcome = send(case, simulator.url(case.vendor), adapters)
    assert outcome.error.code is ErrorCode.PROVIDER_ERROR
    assert outcome.error.accepted is Acceptance.UNKNOWN
    assert outcome.error.http_status == 200
    assert len(simulator.control.messages(case.vendor)) == 1


# -- the router over real HTTP -------------------------------------------------------------------
@pytest.fixture
def clean_sandbox() -> Iterator[None]:
    sandbox_clear()
    yield
    sandbox_clear()


class LiveBackup(SandboxAdapter):
    """A live provider to fail over to that keeps what it was given in the sandbox's outbox.

    The router never fails over from a live provider to the sandbox (it delivers nothing), so
    the backup must count as live; it records instead of sending so the test can count it.
    """

    vendor = "standby"


def _router(
    case: Case, url: str, adapters: list[BaseAdapter], timeouts: Timeouts = PROMPT
) -> Router:
    primary = case.build(url, timeouts)
    adapters.append(primary)
    return Router(
        {"primary": primary, "backup": LiveBackup("backup")},
        by_type={case.message.type: ["primary", "backup"]},
    )


def test_router_fails_over_after_a_5xx_exactly_once(simulator, case, adapters, clean_sandbox):
    simulator.control.inject(case.vendor, "status_5xx", path=case.path, status=503)
    result = _router(case, simulator.url(case.vendor), adapters).send(case.message)
    assert result.ok and [a.provider_id for a in result.attempts] == ["primary", "backup"]
    assert len(recorded(simulator, case)) == 1
    assert len(sandbox_outbox("backup")) == 1


def test_router_never_resends_after_a_read_timeout(simulator, case, adapters, clean_sandbox):
    simulator.control.inject(case.vendor, "timeout", path=case.path, ms=1500)
    result = _router(case, simulator.url(case.vendor), adapters, SHORT).send(case.message)
    assert result.outcome_unknown and len(result.attempts) == 1
    assert sandbox_outbox("backup") == []
    wait_until_answered(simulator, case)
    assert len(recorded(simulator, case)) == 1
