"""Routing order and failover decisions, with fake providers that count sends."""

from __future__ import annotations

import pytest

from kmsg_console.messaging.errors import Acceptance, ErrorCode, SendError
from kmsg_console.messaging.provider import HealthResult
from kmsg_console.messaging.result import Err, Ok, SendOutcome, SendResult, SendStatus
from kmsg_console.messaging.router import Router
from kmsg_console.messaging.types import Message, MessageType

ALL = frozenset(MessageType)


class FakeProvider:
    """Returns scripted outcomes and counts calls."""

    vendor = "fake"

    def __init__(
        self,
        provider_id: str,
        *outcomes: SendError | None,
        types=ALL,
        raises: Exception | None = None,
    ):
        self.id = provider_id
        self.supported_types = frozenset(types)
        self._outcomes = list(outcomes)
        self._raises = raises
        self.sent: list[Message] = []

    def send(self, message: Message) -> SendOutcome:
        self.sent.append(message)
        if self._raises is not None:
            raise self._raises
        error = self._outcomes.pop(0) if self._outcomes else None
        if error is not None:
            return Err(error)
        return Ok(
            SendResult(self.id, message.message_id, message.type, SendStatus.SENT, f"{self.id}-1")
        )

    def health_check(self) -> HealthResult:
        return HealthResult(True)


def failure(code: ErrorCode, accepted: Acceptance = Acceptance.NOT_ACCEPTED) -> SendError:
    return SendError.of(code, code.value, accepted=accepted)


def sms(**overrides) -> Message:
    return Message(type=MessageType.SMS, to="01012345678", text="hi", **overrides)


def test_explicit_provider_wins_and_is_never_replaced():
    a, b = FakeProvider("a", failure(ErrorCode.NETWORK_ERROR)), FakeProvider("b")
    router = Router({"a": a, "b": b}, by_type={MessageType.SMS: ["b", "a"]})
    result = router.send(sms(provider_id="a"))
    assert not result.ok
    assert len(a.sent) == 1 and b.sent == []


@pytest.mark.parametrize(
    ("provider_id", "types", "fragment"),
    [("zzz", ALL, "Unknown provider"), ("a", {MessageType.ALIMTALK}, "does not send")],
)
def test_explicit_provider_must_exist_and_support_the_type(provider_id, types, fragment):
    router = Router({"a": FakeProvider("a", types=types)})
    result = router.send(sms(provider_id=provider_id))
    assert result.outcome.error.code is ErrorCode.INVALID_REQUEST
    assert fragment in result.outcome.error.message
    assert result.attempts == ()


def test_by_type_then_default_then_first_supporting():
    a, b, c = FakeProvider("a"), FakeProvider("b"), FakeProvider("c", types={MessageType.SMS})
    router = Router(
        {"a": a, "b": b, "c": c}, by_type={MessageType.SMS: ["c"]}, default_provider_id="b"
    )
    assert router.candidates(sms()) == ["c"]
    assert router.candidates(Message(type=MessageType.LMS, to="01012345678", text="x")) == ["b"]
    assert Router({"a": a, "c": c}).candidates(sms()) == ["a"]


def test_default_is_skipped_when_it_does_not_support_the_type():
    a = FakeProvider("a", types={MessageType.ALIMTALK})
    b = FakeProvider("b", types={MessageType.SMS})
    assert Router({"a": a, "b": b}, default_provider_id="a").candidates(sms()) == ["b"]


def test_by_type_skips_unknown_and_unsupporting_ids():
    a = FakeProvider("a", types={MessageType.ALIMTALK})
    b = FakeProvider("b")
    router = Router({"a": a, "b": b}, by_type={MessageType.SMS: ["ghost", "a", "b", "b"]})
    assert router.candidates(sms()) == ["b"]


def test_no_provider_for_type():
    router = Router({"a": FakeProvider("a", types={MessageType.SMS})})
    result = router.send(Message(type=MessageType.ALIMTALK, to="01012345678", template_id="T"))
    assert result.outcome.error.code is ErrorCode.INVALID_REQUEST
    assert "No provider available for type ALIMTALK" in result.outcome.error.message


@pytest.mark.parametrize(
    "code",
    [
        ErrorCode.NETWORK_ERROR,
        ErrorCode.NETWORK_TIMEOUT,
        ErrorCode.NETWORK_SERVICE_UNAVAILABLE,
        ErrorCode.PROVIDER_ERROR,
        ErrorCode.AUTHENTICATION_FAILED,
        ErrorCode.INSUFFICIENT_BALANCE,
        ErrorCode.RATE_LIMIT_EXCEEDED,
    ],
)
def test_not_accepted_provider_failure_fails_over(code):
    a, b = FakeProvider("a", failure(code)), FakeProvider("b")
    result = Router({"a": a, "b": b}, by_type={MessageType.SMS: ["a", "b"]}).send(sms())
    assert result.ok and result.provider_id == "b"
    assert [att.provider_id for att in result.attempts] == ["a", "b"]
    assert result.attempts[0].outcome.error.code is code
    assert (len(a.sent), len(b.sent)) == (1, 1)


@pytest.mark.parametrize(
    "code", [ErrorCode.INVALID_REQUEST, ErrorCode.TEMPLATE_NOT_FOUND, ErrorCode.MESSAGE_SEND_FAILED]
)
def test_validation_failures_do_not_fail_over(code):
    a, b = FakeProvider("a", failure(code)), FakeProvider("b")
    result = Router({"a": a, "b": b}, by_type={MessageType.SMS: ["a", "b"]}).send(sms())
    assert not result.ok and result.outcome.error.code is code
    assert (len(a.sent), len(b.sent)) == (1, 0)


@pytest.mark.parametrize(
    "code", [ErrorCode.NETWORK_TIMEOUT, ErrorCode.NETWORK_ERROR, ErrorCode.PROVIDER_ERROR]
)
def test_unknown_outcome_is_never_sent_again(code):
    a, b = FakeProvider("a", failure(code, Acceptance.UNKNOWN)), FakeProvider("b")
    result = Router({"a": a, "b": b}, by_type={MessageType.SMS: ["a", "b"]}).send(sms())
    assert not result.ok
    assert result.outcome_unknown
    assert result.outcome.error.accepted is Acceptance.UNKNOWN
    assert (len(a.sent), len(b.sent)) == (1, 0)
    assert len(result.attempts) == 1


def test_unknown_after_a_failover_stops_the_chain():
    a = FakeProvider("a", failure(ErrorCode.NETWORK_ERROR))
    b = FakeProvider("b", failure(ErrorCode.NETWORK_TIMEOUT, Acceptance.UNKNOWN))
    c = FakeProvider("c")
    result = Router({"a": a, "b": b, "c": c}, by_type={MessageType.SMS: ["a", "b", "c"]}).send(
        sms()
    )
    assert result.outcome_unknown and result.provider_id == "b"
    assert (len(a.sent), len(b.sent), len(c.sent)) == (1, 1, 0)


def test_every_provider_failing_returns_the_last_failure_and_all_attempts():
    a = FakeProvider("a", failure(ErrorCode.NETWORK_ERROR))
    b = FakeProvider("b", failure(ErrorCode.INSUFFICIENT_BALANCE))
    result = Router({"a": a, "b": b}, by_type={MessageType.SMS: ["a", "b"]}).send(sms())
    assert not result.ok and result.outcome.error.code is ErrorCode.INSUFFICIENT_BALANCE
    assert [att.outcome.error.code for att in result.attempts] == [
        ErrorCode.NETWORK_ERROR,
        ErrorCode.INSUFFICIENT_BALANCE,
    ]


def test_success_on_first_provider_does_not_touch_the_others():
    a, b = FakeProvider("a"), FakeProvider("b")
    result = Router({"a": a, "b": b}, by_type={MessageType.SMS: ["a", "b"]}).send(sms())
    assert result.ok and (len(a.sent), len(b.sent)) == (1, 0)


def test_a_raising_adapter_is_an_unknown_outcome_and_not_retried():
    a, b = FakeProvider("a", raises=RuntimeError("boom")), FakeProvider("b")
    result = Router({"a": a, "b": b}, by_type={MessageType.SMS: ["a", "b"]}).send(sms())
    assert result.outcome.error.code is ErrorCode.UNKNOWN_ERROR
    assert result.outcome_unknown
    assert b.sent == []


def test_attempt_callbacks_run_in_order_with_timestamps():
    a, b = FakeProvider("a", failure(ErrorCode.NETWORK_ERROR)), FakeProvider("b")
    events: list[tuple[str, str]] = []

    def start(provider_id: str) -> None:
        # The log row must exist before the provider is called.
        assert len({"a": a, "b": b}[provider_id].sent) == 0
        events.append(("start", provider_id))

    def done(attempt) -> None:
        events.append(("done", attempt.provider_id))
        assert attempt.finished_at >= attempt.started_at
        assert attempt.latency_ms >= 0

    Router({"a": a, "b": b}, by_type={MessageType.SMS: ["a", "b"]}).send(
        sms(), on_attempt_start=start, on_attempt_done=done
    )
    assert events == [("start", "a"), ("done", "a"), ("start", "b"), ("done", "b")]


def test_a_failing_start_callback_prevents_the_send():
    a = FakeProvider("a")

    def start(provider_id: str) -> None:
        raise OSError("log store down")

    with pytest.raises(OSError):
        Router({"a": a}).send(sms(), on_attempt_start=start)
    assert a.sent == []


def sandbox(provider_id: str, *outcomes: SendError | None) -> FakeProvider:
    provider = FakeProvider(provider_id, *outcomes)
    provider.vendor = "sandbox"
    return provider


def test_a_live_provider_never_fails_over_to_the_sandbox():
    """The sandbox delivers nothing: after a live provider it would swallow a real message."""
    live, box = FakeProvider("live", failure(ErrorCode.NETWORK_ERROR)), sandbox("box")
    router = Router({"live": live, "box": box}, by_type={MessageType.SMS: ["live", "box"]})
    assert router.candidates(sms()) == ["live"]
    result = router.send(sms())
    assert not result.ok and result.outcome.error.code is ErrorCode.NETWORK_ERROR
    assert [att.provider_id for att in result.attempts] == ["live"]
    assert box.sent == []


def test_live_providers_still_fail_over_to_each_other_past_a_sandbox():
    a, box, b = (
        FakeProvider("a", failure(ErrorCode.NETWORK_ERROR)),
        sandbox("box"),
        FakeProvider("b"),
    )
    router = Router({"a": a, "box": box, "b": b}, by_type={MessageType.SMS: ["a", "box", "b"]})
    result = router.send(sms())
    assert result.ok and [att.provider_id for att in result.attempts] == ["a", "b"]
    assert box.sent == []


def test_sandboxes_alone_keep_their_failover():
    first, second = sandbox("first", failure(ErrorCode.NETWORK_ERROR)), sandbox("second")
    router = Router(
        {"first": first, "second": second}, by_type={MessageType.SMS: ["first", "second"]}
    )
    result = router.send(sms())
    assert result.ok and result.provider_id == "second"
