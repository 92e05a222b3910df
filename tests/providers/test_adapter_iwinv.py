"""IWINV adapter (AlimTalk and SMS v2 APIs) against the IWINV simulators over real HTTP."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from kmsg_console.messaging.errors import Acceptance, ErrorCode
from kmsg_console.messaging.provider import DeliveryStatus, TemplateDraft, TemplateStatus
from kmsg_console.messaging.result import SendStatus
from kmsg_console.messaging.types import Failover, FallbackChannel, MediaImage, Message, MessageType
from kmsg_console.messaging.vendor_codes import IWINV_ALIMTALK, IWINV_SMS, explain
from kmsg_console.providers.adapters.config import ProviderConfigError, Timeouts
from kmsg_console.providers.adapters.iwinv import IwinvAdapter
from kmsg_console.providers.adapters.transport import HttpReply

TEMPLATE = "KMSG_OTP_001"
TEMPLATE_BODY = "[#{service}] 인증번호는 [#{code}]입니다. 3분 안에 입력해 주세요."
SEND = "/api/v2/send/"


@pytest.fixture
def make_adapter(simulator):
    made = []

    def make(base=simulator, **config):
        settings = {
            "api_key": "demo-api-key",
            "sms_api_key": "demo-sms-key",
            "sms_auth_key": "demo-sms-auth",
            "sms_company_id": "demo",
            "sender_number": "0212345678",
            "alimtalk_base_url": base.url("iwinv_alimtalk"),
            "sms_base_url": base.url("iwinv_sms"),
            **config,
        }
        adapter = IwinvAdapter(
            "iwinv-1", {k: v for k, v in settings.items() if v is not None}, timeouts=Timeouts(2, 5)
        )
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        adapter.close()


def alimtalk(**kw) -> Message:
    # Variables given in the "wrong" order: templateParam must follow the template.
    return Message(
        **{
            "type": MessageType.ALIMTALK,
            "to": "01012345678",
            "template_id": TEMPLATE,
            "template_content": TEMPLATE_BODY,
            "variables": {"code": "123456", "service": "KMSG"},
            **kw,
        }
    )


def requests_to(simulator, api, path=SEND):
    return simulator.control.requests(f"iwinv_{api}", path)


# -- configuration ---------------------------------------------------------------------------
def test_types_follow_the_configured_keys(make_adapter):
    assert make_adapter().supported_types == {
        MessageType.ALIMTALK,
        MessageType.SMS,
        MessageType.LMS,
        MessageType.MMS,
    }
    assert make_adapter(sms_api_key=None).supported_types == {MessageType.ALIMTALK}
    assert make_adapter(api_key=None).supported_types == {
        MessageType.SMS,
        MessageType.LMS,
        MessageType.MMS,
    }
    with pytest.raises(ProviderConfigError):
        IwinvAdapter("x", {"sms_company_id": "demo"})


def test_resend_default_is_off_unless_configured():
    adapter = IwinvAdapter("x", {"api_key": "k"})
    assert adapter.config["resend_default"] is False
    assert (
        IwinvAdapter("x", {"api_key": "k", "resend_default": "true"}).config["resend_default"]
        is True
    )


# -- AlimTalk -------------------------------------------------------------------------------
def test_alimtalk_wire_request_and_result(simulator, make_adapter):
    outcome = make_adapter().send(alimtalk())
    request = requests_to(simulator, "alimtalk")[-1]
    assert request["headers"]["auth"] == base64.b64encode(b"demo-api-key").decode()
    assert request["headers"]["content-type"] == "application/json;charset=UTF-8"
    assert request["body"] == {
        "templateCode": TEMPLATE,
        "reserve": "N",
        "reSend": "N",
        "list": [{"phone": "01012345678", "templateParam": ["KMSG", "123456"]}],
    }
    assert outcome.ok and outcome.value.status is SendStatus.SENT
    stored = simulator.control.messages("iwinv_alimtalk")
    assert str(stored[0]["seqNo"]) == outcome.value.provider_message_id
    assert stored[0]["sendMessage"] == "[KMSG] 인증번호는 [123456]입니다. 3분 안에 입력해 주세요."


def test_failover_with_content_sends_custom_text(simulator, make_adapter):
    failover = Failover(True, FallbackChannel.LMS, "[KMSG] 인증번호 123456", "인증번호")
    outcome = make_adapter().send(alimtalk(failover=failover, from_="01000000000"))
    body = requests_to(simulator, "alimtalk")[-1]["body"]
    assert {
        k: body[k]
        for k in ("reSend", "resendCallback", "resendType", "resendContent", "resendTitle")
    } == {
        "reSend": "Y",
        "resendCallback": "01000000000",
        "resendType": "N",
        "resendContent": "[KMSG] 인증번호 123456",
        "resendTitle": "인증번호",
    }
    assert outcome.ok and outcome.value.warnings == ()  # native fallback: no warning


def test_failover_without_content_reuses_the_alimtalk_text(simulator, make_adapter):
    make_adapter().send(alimtalk(failover=Failover(enabled=True)))
    body = requests_to(simulator, "alimtalk")[-1]["body"]
    assert (body["reSend"], body["resendType"], body["resendCallback"]) == ("Y", "Y", "0212345678")
    assert "resendContent" not in body


def test_resend_default_applies_only_when_the_message_does_not_say(simulator, make_adapter):
    adapter = make_adapter(resend_default=True)
    adapter.send(alimtalk())
    adapter.send(alimtalk(failover=Failover(enabled=False)))
    first, second = (r["body"]["reSend"] for r in requests_to(simulator, "alimtalk"))
    assert (first, second) == ("Y", "N")


def test_fallback_without_any_sender_is_refused_before_sending(simulator, make_adapter):
    outcome = make_adapter(sender_number=None).send(alimtalk(failover=Failover(enabled=True)))
    assert outcome.error.code is ErrorCode.INVALID_REQUEST
    assert requests_to(simulator, "alimtalk") == []


@pytest.mark.parametrize(
    "message",
    [alimtalk(template_content=None), alimtalk(variables={"code": "1"})],
    ids=["unknown template body", "missing variable"],
)
def test_alimtalk_without_ordered_params_is_refused_before_sending(
    simulator, make_adapter, message
):
    outcome = make_adapter().send(message)
    assert outcome.error.code is ErrorCode.INVALID_REQUEST
    assert outcome.error.accepted is Acceptance.NOT_ACCEPTED
    assert requests_to(simulator, "alimtalk") == []


def test_scheduled_alimtalk_uses_korean_local_time(simulator, make_adapter):
    when = datetime(2030, 1, 2, 0, 30, tzinfo=UTC)  # 09:30 in Seoul
    outcome = make_adapter().send(alimtalk(scheduled_at=when))
    body = requests_to(simulator, "alimtalk")[-1]["body"]
    assert (body["reserve"], body["sendDate"]) == ("Y", "2030-01-02 09:30:00")
    assert outcome.value.status is SendStatus.PENDING


@pytest.mark.parametrize("vendor_code", sorted(IWINV_ALIMTALK, key=int))
def test_every_mapped_alimtalk_code(simulator, make_adapter, vendor_code):
    simulator.control.inject("iwinv_alimtalk", "vendor_error", path=SEND, code=vendor_code)
    outcome = make_adapter().send(alimtalk())
    assert outcome.error.code is IWINV_ALIMTALK[vendor_code].code
    assert outcome.error.vendor_code == vendor_code and outcome.error.vendor_text
    assert outcome.error.accepted is Acceptance.NOT_ACCEPTED
    assert len(requests_to(simulator, "alimtalk")) == 1


def test_unregistered_ip_is_explained(simulator_factory, make_adapter):
    strict = simulator_factory(iwinv_allowed_ips=("10.9.9.9",))
    outcome = make_adapter(base=strict).send(alimtalk())
    assert (outcome.error.code, outcome.error.vendor_code) == (
        ErrorCode.AUTHENTICATION_FAILED,
        "206",
    )
    assert "IP" in explain("iwinv", outcome.error.vendor_code, "ALIMTALK").fix
    # The whitelisted-testing header gets through, and is on the wire.
    assert make_adapter(base=strict, x_forwarded_for="10.9.9.9").send(alimtalk()).ok
    assert (
        strict.control.requests("iwinv_alimtalk", SEND)[-1]["headers"]["x-forwarded-for"]
        == "10.9.9.9"
    )


def test_real_template_and_sender_refusals(simulator, make_adapter):
    adapter = make_adapter()
    assert adapter.send(alimtalk(template_id="NOPE")).error.code is ErrorCode.TEMPLATE_NOT_FOUND
    refused = adapter.send(alimtalk(failover=Failover(enabled=True), from_="0299998888"))
    assert (refused.error.code, refused.error.vendor_code) == (ErrorCode.INVALID_REQUEST, "505")
    simulator.control.set_balance("iwinv_alimtalk", 0)
    assert adapter.send(alimtalk()).error.code is ErrorCode.INSUFFICIENT_BALANCE


@pytest.mark.parametrize(
    ("body", "ok", "vendor_code"),
    [
        ({"code": 200, "seqNo": 1}, True, None),
        ({"code": "200", "seqNo": 1}, True, None),
        ({"code": " 200 "}, True, None),
        (501, False, "501"),
        ({"code": "519"}, False, "519"),
    ],
)
def test_codes_as_numbers_strings_or_bare_numbers(make_adapter, body, ok, vendor_code):
    reply = HttpReply(200, str(body), body, True)
    result = make_adapter()._interpret(reply, "alimtalk")
    assert result.ok is ok
    if not ok:
        assert result.error.vendor_code == vendor_code


# -- SMS API ----------------------------------------------------------------------------------
def test_sms_wire_request_and_result(simulator, make_adapter):
    outcome = make_adapter().send(
        Message(type=MessageType.SMS, to="01012345678", text="인증번호 123456")
    )
    request = requests_to(simulator, "sms")[-1]
    assert request["headers"]["secret"] == base64.b64encode(b"demo-sms-key&demo-sms-auth").decode()
    assert request["body"] == {
        "version": "1.0",
        "from": "0212345678",
        "to": ["01012345678"],
        "text": "인증번호 123456",
        "msgType": "SMS",
    }
    assert outcome.ok
    assert outcome.value.provider_message_id == str(
        simulator.control.messages("iwinv_sms")[0]["requestNo"]
    )


def test_lms_title_defaults_to_the_first_20_characters(simulator, make_adapter):
    adapter = make_adapter()
    text = "가나다라마바사아자차카타파하" * 5
    adapter.send(Message(type=MessageType.LMS, to="01012345678", text=text))
    adapter.send(Message(type=MessageType.LMS, to="01012345678", text=text, subject="제목"))
    first, second = (r["body"] for r in requests_to(simulator, "sms"))
    assert "msgType" not in first and first["title"] == text[:20]
    assert second["title"] == "제목"


def test_mms_is_multipart_with_the_image(simulator, make_adapter):
    image = MediaImage(b"\x89PNG fake", "pic.png", "image/png")
    outcome = make_adapter().send(
        Message(type=MessageType.MMS, to="01012345678", text="사진", image=image)
    )
    request = requests_to(simulator, "sms")[-1]
    assert request["body_kind"] == "multipart"
    assert request["body"]["to"] == "01012345678" and request["body"]["title"] == "사진"
    assert request["files"]["image"] == {
        "filename": "pic.png",
        "content_type": "image/png",
        "size": len(image.data),
    }
    assert outcome.ok


def test_oversized_mms_image_is_refused_locally(simulator, make_adapter):
    image = MediaImage(b"x" * (100 * 1024 + 1))
    outcome = make_adapter().send(
        Message(type=MessageType.MMS, to="01012345678", text="사진", image=image)
    )
    assert outcome.error.code is ErrorCode.INVALID_REQUEST and requests_to(simulator, "sms") == []


@pytest.mark.parametrize("vendor_code", sorted(IWINV_SMS, key=int))
def test_every_mapped_sms_code(simulator, make_adapter, vendor_code):
    simulator.control.inject("iwinv_sms", "vendor_error", path=SEND, code=vendor_code)
    outcome = make_adapter().send(Message(type=MessageType.SMS, to="01012345678", text="x"))
    assert outcome.error.code is IWINV_SMS[vendor_code].code
    assert outcome.error.vendor_code == vendor_code
    assert outcome.error.accepted is Acceptance.NOT_ACCEPTED


def test_real_sms_refusals(simulator, make_adapter):
    unregistered = make_adapter(sender_number="0299998888").send(
        Message(type=MessageType.SMS, to="01012345678", text="x")
    )
    assert (unregistered.error.code, unregistered.error.vendor_code) == (
        ErrorCode.INVALID_REQUEST,
        "13",
    )
    bad_auth = make_adapter(sms_auth_key="wrong").send(
        Message(type=MessageType.SMS, to="01012345678", text="x")
    )
    assert (bad_auth.error.code, bad_auth.error.vendor_code) == (
        ErrorCode.AUTHENTICATION_FAILED,
        "14",
    )


# -- history, charge, health ------------------------------------------------------------------
def test_alimtalk_history(simulator, make_adapter):
    adapter = make_adapter()
    seq_no = adapter.send(alimtalk()).value.provider_message_id
    requested = datetime.now(UTC)
    assert (
        adapter.get_delivery_status(
            seq_no, MessageType.ALIMTALK, "01012345678", requested
        ).value.status
        is DeliveryStatus.PENDING
    )
    query = requests_to(simulator, "alimtalk", "/api/history/")[-1]["body"]
    assert (
        query["seqNo"] == int(seq_no)
        and query["phone"] == "01012345678"
        and query["pageSize"] == 15
    )
    simulator.control.set_status("iwinv_alimtalk", seq_no, "delivered")
    assert (
        adapter.get_delivery_status(
            seq_no, MessageType.ALIMTALK, "01012345678", requested
        ).value.status
        is DeliveryStatus.DELIVERED
    )
    simulator.control.set_status("iwinv_alimtalk", seq_no, "non_kakao_user")
    failed = adapter.get_delivery_status(
        seq_no, MessageType.ALIMTALK, "01012345678", requested
    ).value
    assert failed.status is DeliveryStatus.FAILED and "미사용" in failed.vendor_text


def test_sms_history(simulator, make_adapter):
    adapter = make_adapter()
    request_no = adapter.send(
        Message(type=MessageType.SMS, to="01012345678", text="x")
    ).value.provider_message_id
    requested = datetime.now(UTC)
    assert (
        adapter.get_delivery_status(
            request_no, MessageType.SMS, "01012345678", requested
        ).value.status
        is DeliveryStatus.PENDING
    )
    simulator.control.set_status("iwinv_sms", request_no, "delivered")
    assert (
        adapter.get_delivery_status(
            request_no, MessageType.SMS, "01012345678", requested
        ).value.status
        is DeliveryStatus.DELIVERED
    )
    simulator.control.set_status("iwinv_sms", request_no, "failed")
    assert (
        adapter.get_delivery_status(
            request_no, MessageType.SMS, "01012345678", requested
        ).value.status
        is DeliveryStatus.FAILED
    )
    query = requests_to(simulator, "sms", "/api/history/")[-1]["body"]
    assert (
        query["companyid"] == "demo"
        and query["requestNo"] == request_no
        and query["version"] == "1.0"
    )


def test_charge_and_health(simulator, make_adapter):
    adapter = make_adapter()
    assert adapter.get_balance().value.amount == Decimal("50000.0")
    assert adapter.get_balance("sms").value.channel == "sms"
    assert requests_to(simulator, "sms", "/api/charge/")[-1]["body"] == {"version": "1.0"}
    assert adapter.health_check().healthy
    unhealthy = make_adapter(sms_auth_key="wrong").health_check()
    assert not unhealthy.healthy and unhealthy.error.vendor_code == "14"


# -- templates ---------------------------------------------------------------------------------
def test_template_lifecycle(simulator, make_adapter):
    adapter = make_adapter()
    created = adapter.create_template(TemplateDraft("배송 안내", "#{name}님 배송 시작")).value
    assert created.status is TemplateStatus.INSPECTION
    assert requests_to(simulator, "alimtalk", "/api/template/add/")[-1]["body"] == {
        "templateName": "배송 안내",
        "templateContent": "#{name}님 배송 시작",
    }
    assert adapter.get_template(created.code).value.status is TemplateStatus.INSPECTION

    simulator.control.approve_template("iwinv_alimtalk", created.code)
    assert adapter.get_template(created.code).value.status is TemplateStatus.APPROVED
    updated = adapter.update_template(
        created.code, TemplateDraft("배송 안내", "#{name}님, 배송을 시작했습니다")
    ).value
    assert updated.status is TemplateStatus.INSPECTION and updated.content.endswith("시작했습니다")

    assert created.code in [t.code for t in adapter.list_templates().value]
    assert adapter.delete_template(
        created.code
    ).ok  # the vendor answers with the misspelled "messgae"
    assert adapter.get_template(created.code).error.code is ErrorCode.TEMPLATE_NOT_FOUND
