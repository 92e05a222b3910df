"""Sandbox adapter: outbox, scripting (code and config), warnings, thread safety."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from kmsg_console.messaging.errors import Acceptance, ErrorCode
from kmsg_console.messaging.provider import DeliveryStatus, Provider
from kmsg_console.messaging.router import Router
from kmsg_console.messaging.types import Failover, Message, MessageType
from kmsg_console.providers.adapters.config import ProviderConfigError
from kmsg_console.providers.adapters.registry import ADAPTERS, build_adapter
from kmsg_console.providers.adapters.sandbox import (
    SandboxAdapter,
    Step,
    parse_script,
    sandbox_clear,
    sandbox_outbox,
    script_sandbox,
)


@pytest.fixture(autouse=True)
def clean_sandbox():
    sandbox_clear()
    yield
    sandbox_clear()


def sms(text: str = "hello") -> Message:
    return Message(type=MessageType.SMS, to="01012345678", text=text)


def test_registry_builds_every_vendor_and_refuses_unknown():
    assert set(ADAPTERS) == {"solapi", "iwinv", "aligo", "sandbox"}
    assert isinstance(build_adapter("sandbox", "sb"), SandboxAdapter)
    with pytest.raises(ProviderConfigError):
        build_adapter("twilio", "x")
    with pytest.raises(ProviderConfigError) as info:
        build_adapter("solapi", "s", {"api_key": "k"})
    assert info.value.field == "api_secret"


def test_every_adapter_is_a_provider():
    minimal = {
        "solapi": {"api_key": "k", "api_secret": "s"},
        "iwinv": {"api_key": "k"},
        "aligo": {"api_key": "k", "user_id": "u"},
        "sandbox": {},
    }
    for vendor, config in minimal.items():
        adapter = build_adapter(vendor, f"{vendor}-1", config)
        assert isinstance(adapter, Provider)
        assert (adapter.id, adapter.vendor) == (f"{vendor}-1", vendor)
        adapter.close()


def test_every_adapter_declares_its_config_fields():
    for vendor, cls in ADAPTERS.items():
        assert cls.vendor == vendor and cls.label
        names = [f.name for f in cls.CONFIG_FIELDS]
        assert len(names) == len(set(names))
        for spec in cls.CONFIG_FIELDS:
            assert spec.kind in ("text", "url", "bool", "int") and spec.label
    secrets = {v: {f.name for f in c.CONFIG_FIELDS if f.secret} for v, c in ADAPTERS.items()}
    assert secrets == {
        "solapi": {"api_secret"},
        "iwinv": {"api_key", "sms_api_key", "sms_auth_key"},
        "aligo": {"api_key"},
        "sandbox": set(),
    }


def test_sends_are_recorded_with_their_final_text():
    adapter = SandboxAdapter("sb")
    outcome = adapter.send(sms("인증번호 123456"))
    assert outcome.ok
    [delivery] = sandbox_outbox()
    assert (delivery.provider_id, delivery.to, delivery.text, delivery.type) == (
        "sb",
        "01012345678",
        "인증번호 123456",
        MessageType.SMS,
    )
    assert delivery.provider_message_id == outcome.value.provider_message_id


def test_alimtalk_is_rendered_and_fallback_is_unsupported():
    message = Message(
        type=MessageType.ALIMTALK,
        to="01012345678",
        template_id="T",
        template_content="코드 #{c}",
        variables={"c": "1"},
        failover=Failover(enabled=True),
    )
    outcome = SandboxAdapter("sb").send(message)
    assert sandbox_outbox()[0].text == "코드 1"
    assert [w.code for w in outcome.value.warnings] == [
        "FAILOVER_UNSUPPORTED_PROVIDER",
        "FALLBACK_CONTENT_MISSING",
    ]
    missing = SandboxAdapter("sb").send(
        Message(
            type=MessageType.ALIMTALK,
            to="01012345678",
            template_id="T",
            template_content="코드 #{c}",
        )
    )
    assert missing.error.code is ErrorCode.INVALID_REQUEST


def test_script_from_code_is_consumed_in_order_then_succeeds():
    script_sandbox(
        "sb", [Step("fail", ErrorCode.AUTHENTICATION_FAILED, vendor_code="206"), "timeout", "down"]
    )
    adapter = SandboxAdapter("sb")
    first, second, third, fourth = (adapter.send(sms()) for _ in range(4))
    assert (first.error.code, first.error.vendor_code, first.error.accepted) == (
        ErrorCode.AUTHENTICATION_FAILED,
        "206",
        Acceptance.NOT_ACCEPTED,
    )
    assert (second.error.code, second.error.accepted) == (
        ErrorCode.NETWORK_TIMEOUT,
        Acceptance.UNKNOWN,
    )
    assert (third.error.code, third.error.accepted) == (
        ErrorCode.NETWORK_ERROR,
        Acceptance.NOT_ACCEPTED,
    )
    assert fourth.ok
    # the timed-out message may have gone out, so it is in the outbox; the refusals are not
    assert [d.outcome for d in sandbox_outbox()] == ["timeout", "sent"]


def test_script_from_config_survives_rebuilding_the_adapter():
    config = {"script": "fail:PROVIDER_ERROR,ok,fail:INSUFFICIENT_BALANCE:50"}
    assert build_adapter("sandbox", "sb", config).send(sms()).error.code is ErrorCode.PROVIDER_ERROR
    # The console rebuilds adapters from stored config; the script must continue, not restart.
    assert build_adapter("sandbox", "sb", config).send(sms()).ok
    third = build_adapter("sandbox", "sb", config).send(sms())
    assert (third.error.code, third.error.vendor_code) == (ErrorCode.INSUFFICIENT_BALANCE, "50")
    assert (
        build_adapter("sandbox", "sb", {"script": "down"}).send(sms()).error.code
        is ErrorCode.NETWORK_ERROR
    )


def test_scripts_are_per_provider():
    script_sandbox("a", ["fail"])
    assert SandboxAdapter("b").send(sms()).ok
    assert not SandboxAdapter("a").send(sms()).ok


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ok", [Step("ok")]),
        ("delay:5", [Step("ok", delay_ms=5)]),
        ("fail*2", [Step("fail")] * 2),
        (
            "fail:RATE_LIMIT_EXCEEDED:429:429",
            [Step("fail", ErrorCode.RATE_LIMIT_EXCEEDED, "429", http_status=429)],
        ),
        ("timeout, ok", [Step("timeout", ErrorCode.NETWORK_TIMEOUT), Step("ok")]),
        ("", []),
    ],
)
def test_parse_script(text, expected):
    assert parse_script(text) == expected


@pytest.mark.parametrize("bad", ["explode", "fail:NOT_A_CODE", "delay:abc", "ok*0", "ok*x"])
def test_bad_scripts_are_config_errors(bad):
    with pytest.raises(ProviderConfigError) as info:
        SandboxAdapter("sb", {"script": bad})
    assert info.value.field == "script"


def test_concurrent_sends_are_all_recorded():
    adapter = SandboxAdapter("sb")
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda i: adapter.send(sms(f"m{i}")), range(200)))
    assert all(o.ok for o in outcomes)
    assert sorted(d.text for d in sandbox_outbox()) == sorted(f"m{i}" for i in range(200))
    assert len({o.value.provider_message_id for o in outcomes}) == 200


def test_delivery_status_and_health():
    adapter = SandboxAdapter("sb")
    vendor_id = adapter.send(sms()).value.provider_message_id
    now = datetime.now(UTC)
    assert (
        adapter.get_delivery_status(vendor_id, MessageType.SMS, "01012345678", now).value.status
        is DeliveryStatus.DELIVERED
    )
    assert adapter.get_delivery_status("nope", MessageType.SMS, "01012345678", now).value is None
    assert adapter.health_check().healthy


def test_router_fails_over_between_sandboxes_without_duplicates():
    script_sandbox("primary", ["down"])
    router = Router(
        {"primary": SandboxAdapter("primary"), "backup": SandboxAdapter("backup")},
        by_type={MessageType.SMS: ["primary", "backup"]},
    )
    result = router.send(sms())
    assert result.ok and result.provider_id == "backup"
    assert [d.provider_id for d in sandbox_outbox()] == ["backup"]

    script_sandbox("primary", ["timeout"])
    unknown = router.send(sms())
    assert unknown.outcome_unknown
    assert [d.provider_id for d in sandbox_outbox()] == [
        "backup",
        "primary",
    ]  # never re-sent via backup
