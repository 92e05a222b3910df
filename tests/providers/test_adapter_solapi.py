"""SOLAPI adapter against the SOLAPI simulator over real HTTP."""

from __future__ import annotations

import base64
import collections
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from kmsg_console.messaging.errors import Acceptance, ErrorCode
from kmsg_console.messaging.provider import (
    BalanceProvider,
    DeliveryStatus,
    DeliveryStatusProvider,
    TemplateDraft,
    TemplateProvider,
    TemplateStatus,
)
from kmsg_console.messaging.result import SendStatus
from kmsg_console.messaging.types import Failover, KakaoOptions, MediaImage, Message, MessageType
from kmsg_console.messaging.vendor_codes import SOLAPI as SOLAPI_TABLE
from kmsg_console.providers.adapters.config import Timeouts
from kmsg_console.providers.adapters.solapi import SolapiAdapter, new_salt, solapi_authorization

PF_ID = "KA01PF000000000000000000DEMO"
TEMPLATE = "KMSG_OTP_001"
TEMPLATE_BODY = "[#{service}] 인증번호는 [#{code}]입니다. 3분 안에 입력해 주세요."
SEND_PATH = "/messages/v4/send-many/detail"
AUTH_RE = re.compile(
    r"^HMAC-SHA256 apiKey=([^,]+), date=([^,]+), salt=([0-9A-Za-z]+), signature=([0-9a-f]{64})$"
)


@pytest.fixture
def make_adapter(simulator):
    made = []

    def make(**config):
        settings = {
            "api_key": "demo-api-key",
            "api_secret": "demo-api-secret",
            "default_from": "0212345678",
            "kakao_pf_id": PF_ID,
            "base_url": simulator.url("solapi"),
            **config,
        }
        adapter = SolapiAdapter("solapi-1", settings, timeouts=Timeouts(2, 5))
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        adapter.close()


def sms(**kw) -> Message:
    return Message(
        **{"type": MessageType.SMS, "to": "01012345678", "text": "인증번호 123456", **kw}
    )


def alimtalk(**kw) -> Message:
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


def sent_requests(simulator, path=SEND_PATH):
    return simulator.control.requests("solapi", path)


# -- authentication ------------------------------------------------------------------
def test_authorization_header_matches_an_independent_hmac():
    date, salt = "2026-03-07T03:00:00.000Z", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6"
    expected = hmac.new(b"secret-xyz", (date + salt).encode(), hashlib.sha256).hexdigest()
    assert solapi_authorization("key-1", "secret-xyz", date, salt) == (
        f"HMAC-SHA256 apiKey=key-1, date={date}, salt={salt}, signature={expected}"
    )


def test_salts_are_32_alphanumerics_and_unique():
    salts = {new_salt() for _ in range(200)}
    assert len(salts) == 200
    assert all(re.fullmatch(r"[0-9A-Za-z]{32}", s) for s in salts)


def test_every_salt_character_is_equally_likely():
    # 320,000 characters: each of the 62 is expected ~5,161 times (standard deviation ~71).
    # Folding bytes onto the alphabet by remainder would give the first eight ~6,250.
    counts = collections.Counter("".join(new_salt() for _ in range(10_000)))
    expected = 320_000 / 62
    assert len(counts) == 62
    assert all(abs(count - expected) < 0.06 * expected for count in counts.values()), counts


def test_salts_of_other_lengths_are_that_long():
    assert [len(new_salt(n)) for n in (1, 12, 64)] == [1, 12, 64]


def test_every_request_is_signed_with_a_fresh_salt(simulator, make_adapter):
    adapter = make_adapter()
    assert adapter.send(sms()).ok and adapter.send(sms()).ok
    headers = [r["headers"]["authorization"] for r in sent_requests(simulator)]
    parsed = [AUTH_RE.match(h).groups() for h in headers]
    assert parsed[0][2] != parsed[1][2]
    for api_key, date, salt, signature in parsed:
        assert api_key == "demo-api-key"
        assert abs(
            datetime.fromisoformat(date.replace("Z", "+00:00")) - datetime.now(UTC)
        ) < timedelta(minutes=1)
        assert (
            signature
            == hmac.new(b"demo-api-secret", (date + salt).encode(), hashlib.sha256).hexdigest()
        )


# -- sends -----------------------------------------------------------------------------
def test_sms_wire_request_and_result(simulator, make_adapter):
    outcome = make_adapter().send(sms())
    request = sent_requests(simulator)[-1]
    assert request["method"] == "POST"
    assert request["headers"]["content-type"].startswith("application/json")
    assert request["body"]["messages"] == [
        {"to": "01012345678", "from": "0212345678", "type": "SMS", "text": "인증번호 123456"}
    ]
    assert request["body"]["showMessageList"] is True
    assert request["body"]["agent"]["sdkVersion"].startswith("kmsg-console")
    assert outcome.ok
    stored = simulator.control.messages("solapi")
    assert [m["messageId"] for m in stored] == [outcome.value.provider_message_id]
    assert outcome.value.status is SendStatus.SENT and outcome.value.http_status == 200
    # the kept vendor body has the recipient masked
    assert "01012345678" not in str(outcome.value.raw)


def test_lms_sends_subject_and_message_from_overrides_default(simulator, make_adapter):
    outcome = make_adapter().send(
        Message(
            type=MessageType.LMS,
            to="01012345678",
            text="가" * 100,
            subject="제목",
            from_="01000000000",
        )
    )
    sent = sent_requests(simulator)[-1]["body"]["messages"][0]
    assert (sent["type"], sent["subject"], sent["from"]) == ("LMS", "제목", "01000000000")
    assert outcome.ok


def test_sms_without_any_sender_is_refused_before_sending(simulator, make_adapter):
    outcome = make_adapter(default_from=None).send(sms())
    assert outcome.error.code is ErrorCode.INVALID_REQUEST
    assert outcome.error.accepted is Acceptance.NOT_ACCEPTED
    assert sent_requests(simulator) == []


def test_scheduled_send_is_pending_and_carries_scheduled_date(simulator, make_adapter):
    when = datetime(2030, 1, 2, 9, 30, tzinfo=UTC)
    outcome = make_adapter().send(sms(scheduled_at=when))
    assert sent_requests(simulator)[-1]["body"]["scheduledDate"] == when.isoformat()
    assert outcome.value.status is SendStatus.PENDING


def test_mms_uploads_the_image_then_sends_its_file_id(simulator, make_adapter):
    image = MediaImage(b"\xff\xd8\xff\xe0fakejpeg", "photo.jpg")
    outcome = make_adapter().send(
        Message(type=MessageType.MMS, to="01012345678", text="사진", image=image)
    )
    upload = sent_requests(simulator, "/storage/v1/files")[-1]["body"]
    assert upload["type"] == "MMS" and base64.b64decode(upload["file"]) == image.data
    sent = sent_requests(simulator)[-1]["body"]["messages"][0]
    assert sent["type"] == "MMS" and sent["imageId"].startswith("ST01FZ")
    assert outcome.ok


def test_a_lost_image_upload_means_the_message_was_not_sent(simulator):
    simulator.control.inject("solapi", "timeout", path="/storage/v1/files", ms=1500)
    config = {
        "api_key": "demo-api-key",
        "api_secret": "demo-api-secret",
        "default_from": "0212345678",
        "base_url": simulator.url("solapi"),
    }
    adapter = SolapiAdapter("solapi-1", config, timeouts=Timeouts(1, 0.5))
    image = MediaImage(b"\xff\xd8\xff", "photo.jpg")
    outcome = adapter.send(
        Message(type=MessageType.MMS, to="01012345678", text="사진", image=image)
    )
    adapter.close()
    assert outcome.error.code is ErrorCode.NETWORK_TIMEOUT
    assert outcome.error.accepted is Acceptance.NOT_ACCEPTED  # the send itself never left
    assert sent_requests(simulator) == []


def test_alimtalk_wire_request(simulator, make_adapter):
    outcome = make_adapter().send(alimtalk())
    sent = sent_requests(simulator)[-1]["body"]["messages"][0]
    assert sent["type"] == "ATA"
    assert sent["kakaoOptions"] == {
        "pfId": PF_ID,
        "templateId": TEMPLATE,
        "disableSms": True,
        "variables": {"#{code}": "123456", "#{service}": "KMSG"},
    }
    assert "text" not in sent
    assert outcome.ok and outcome.value.warnings == ()


def test_alimtalk_failover_maps_to_disable_sms_and_text_with_partial_warning(
    simulator, make_adapter
):
    failover = Failover(
        enabled=True, fallback_content="[KMSG] 인증번호 123456", fallback_title="인증"
    )
    outcome = make_adapter().send(alimtalk(failover=failover))
    sent = sent_requests(simulator)[-1]["body"]["messages"][0]
    assert sent["kakaoOptions"]["disableSms"] is False
    assert (sent["text"], sent["subject"]) == ("[KMSG] 인증번호 123456", "인증")
    assert [w.code for w in outcome.value.warnings] == ["FAILOVER_PARTIAL_PROVIDER"]


def test_alimtalk_failover_without_content_warns(simulator, make_adapter):
    outcome = make_adapter().send(alimtalk(failover=Failover(enabled=True)))
    assert [w.code for w in outcome.value.warnings] == [
        "FAILOVER_PARTIAL_PROVIDER",
        "FALLBACK_CONTENT_MISSING",
    ]


def test_friendtalk_is_cta(simulator, make_adapter):
    outcome = make_adapter().send(
        Message(
            type=MessageType.FRIENDTALK,
            to="01012345678",
            text="친구톡",
            kakao=KakaoOptions(profile_id=PF_ID),
        )
    )
    sent = sent_requests(simulator)[-1]["body"]["messages"][0]
    assert (
        sent["type"] == "CTA" and sent["text"] == "친구톡" and sent["kakaoOptions"]["pfId"] == PF_ID
    )
    assert outcome.ok


# -- vendor refusals -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("config", "message", "code", "vendor_code"),
    [
        ({"default_from": "0299998888"}, sms(), ErrorCode.INVALID_REQUEST, "1062"),
        (
            {"api_secret": "wrong-secret"},
            sms(),
            ErrorCode.AUTHENTICATION_FAILED,
            "SignatureDoesNotMatch",
        ),
        ({"api_key": "wrong-key"}, sms(), ErrorCode.AUTHENTICATION_FAILED, "InvalidAPIKey"),
        ({}, alimtalk(template_id="NOPE"), ErrorCode.TEMPLATE_NOT_FOUND, "3105"),
        ({"kakao_pf_id": "KA01PFWRONG"}, alimtalk(), ErrorCode.INVALID_REQUEST, "3101"),
    ],
)
def test_real_vendor_refusals(simulator, make_adapter, config, message, code, vendor_code):
    outcome = make_adapter(**config).send(message)
    assert outcome.error.code is code
    assert outcome.error.vendor_code == vendor_code
    assert outcome.error.vendor_text
    assert outcome.error.accepted is Acceptance.NOT_ACCEPTED
    assert len(sent_requests(simulator)) == 1


def test_server_side_401_is_authentication_failed_not_invalid_request(simulator, make_adapter):
    # K-Message maps every 4xx ClientError to INVALID_REQUEST; a 401 is an auth problem.
    outcome = make_adapter(api_secret="nope").send(sms())
    assert outcome.error.http_status == 401
    assert outcome.error.code is ErrorCode.AUTHENTICATION_FAILED
    assert outcome.error.failover_eligible


def test_empty_balance_is_insufficient_balance(simulator, make_adapter):
    simulator.control.set_balance("solapi", 0)
    outcome = make_adapter().send(sms())
    assert (outcome.error.code, outcome.error.vendor_code) == (
        ErrorCode.INSUFFICIENT_BALANCE,
        "1030",
    )


@pytest.mark.parametrize("vendor_code", sorted(SOLAPI_TABLE))
def test_every_mapped_solapi_code(simulator, make_adapter, vendor_code):
    simulator.control.inject("solapi", "vendor_error", path=SEND_PATH, code=vendor_code)
    outcome = make_adapter().send(sms())
    assert outcome.error.code is SOLAPI_TABLE[vendor_code].code
    assert outcome.error.vendor_code == vendor_code
    assert outcome.error.accepted is Acceptance.NOT_ACCEPTED
    assert len(sent_requests(simulator)) == 1


def test_429_is_rate_limited_with_retry_after(simulator, make_adapter):
    simulator.control.inject(
        "solapi",
        "vendor_error",
        path=SEND_PATH,
        code="TooManyRequests",
        http_status=429,
        retry_after=7,
    )
    outcome = make_adapter().send(sms())
    assert outcome.error.code is ErrorCode.RATE_LIMIT_EXCEEDED
    assert outcome.error.retry_after_ms == 7000
    assert outcome.error.retryable and outcome.error.failover_eligible


def test_unknown_4xx_error_code_is_invalid_request(simulator, make_adapter):
    simulator.control.inject(
        "solapi", "vendor_error", path=SEND_PATH, code="SomethingNew", http_status=400
    )
    outcome = make_adapter().send(sms())
    assert (outcome.error.code, outcome.error.vendor_code) == (
        ErrorCode.INVALID_REQUEST,
        "SomethingNew",
    )


@pytest.mark.parametrize("body", ["{}", '{"status": "ok"}', '{"groupInfo": {"count": {}}}'])
def test_a_2xx_object_that_is_no_solapi_answer_is_unknown_not_sent(simulator, make_adapter, body):
    """Regression: any 2xx JSON object used to count as "accepted, no message id"."""
    simulator.control.inject("solapi", "body", path=SEND_PATH, body=body, process=True)
    outcome = make_adapter().send(sms())
    assert (outcome.error.code, outcome.error.accepted) == (
        ErrorCode.PROVIDER_ERROR,
        Acceptance.UNKNOWN,
    )
    assert not outcome.error.retryable and not outcome.error.failover_eligible
    # The vendor has it: calling it "not sent" (and failing over) would be wrong too.
    assert len(simulator.control.messages("solapi")) == 1


def test_a_group_answer_without_its_message_list_is_sent_without_an_id(simulator, make_adapter):
    body = '{"groupInfo": {"count": {"total": 1, "registeredSuccess": 1}}, "failedMessageList": []}'
    simulator.control.inject("solapi", "body", path=SEND_PATH, body=body, process=True)
    outcome = make_adapter().send(sms())
    assert outcome.ok and outcome.value.provider_message_id is None
    assert [w.code for w in outcome.value.warnings] == ["MISSING_PROVIDER_MESSAGE_ID"]


# -- status, balance, health ---------------------------------------------------------------
def test_delivery_status_follows_the_message_list(simulator, make_adapter):
    adapter = make_adapter()
    message_id = adapter.send(sms()).value.provider_message_id
    requested = datetime.now(UTC)
    assert (
        adapter.get_delivery_status(
            message_id, MessageType.SMS, "01012345678", requested
        ).value.status
        is DeliveryStatus.PENDING
    )
    query = sent_requests(simulator, "/messages/v4/list")[-1]
    assert query["method"] == "GET" and query["query"] == {"messageId": message_id, "limit": "1"}

    simulator.control.set_status("solapi", message_id, "delivered")
    delivered = adapter.get_delivery_status(
        message_id, MessageType.SMS, "01012345678", requested
    ).value
    assert (delivered.status, delivered.vendor_code) == (DeliveryStatus.DELIVERED, "4000")
    assert delivered.delivered_at is not None


def test_failure_status_codes_are_failed_with_code_and_text(simulator, make_adapter):
    adapter = make_adapter()
    message_id = adapter.send(alimtalk()).value.provider_message_id
    simulator.control.set_status("solapi", message_id, statusCode="3104")
    status = adapter.get_delivery_status(
        message_id, MessageType.ALIMTALK, "01012345678", datetime.now(UTC)
    ).value
    assert (status.status, status.vendor_code) == (DeliveryStatus.FAILED, "3104")
    assert "카카오톡" in status.vendor_text
    simulator.control.set_status("solapi", message_id, statusCode="3000")
    assert (
        adapter.get_delivery_status(
            message_id, MessageType.ALIMTALK, "01012345678", datetime.now(UTC)
        ).value.status
        is DeliveryStatus.SENT
    )


def test_unknown_message_is_none_so_polling_continues(make_adapter):
    result = make_adapter().get_delivery_status(
        "M4VNOPE", MessageType.SMS, "01012345678", datetime.now(UTC)
    )
    assert result.ok and result.value is None


def test_balance_and_health(simulator, make_adapter):
    adapter = make_adapter()
    assert isinstance(adapter, BalanceProvider) and isinstance(adapter, DeliveryStatusProvider)
    assert adapter.get_balance().value.amount == Decimal("100000.0")
    assert sent_requests(simulator, "/cash/v1/balance")[-1]["method"] == "GET"
    assert adapter.health_check().healthy
    broken = make_adapter(api_secret="nope").health_check()
    assert not broken.healthy and broken.error.code is ErrorCode.AUTHENTICATION_FAILED


# -- templates --------------------------------------------------------------------------------
def test_template_lifecycle(simulator, make_adapter):
    adapter = make_adapter()
    assert isinstance(adapter, TemplateProvider)
    created = adapter.create_template(
        TemplateDraft("주문 안내", "#{name}님 주문 완료", category_code="002001")
    ).value
    create_request = sent_requests(simulator, "/kakao/v2/templates")[-1]
    assert create_request["method"] == "POST"
    assert create_request["body"] == {
        "name": "주문 안내",
        "content": "#{name}님 주문 완료",
        "categoryCode": "002001",
        "channelId": PF_ID,
    }
    assert created.status is TemplateStatus.PENDING

    assert (
        adapter.request_template_inspection(created.code).value.status is TemplateStatus.INSPECTION
    )
    simulator.control.reject_template("solapi", created.code, "변수 설명 부족")
    rejected = adapter.get_template(created.code).value
    assert rejected.status is TemplateStatus.REJECTED and rejected.comments == ("변수 설명 부족",)

    updated = adapter.update_template(
        created.code, TemplateDraft("주문 안내", "#{name}님, 주문이 완료되었습니다")
    ).value
    assert updated.content.endswith("완료되었습니다") and updated.status is TemplateStatus.PENDING
    assert sent_requests(simulator, f"/kakao/v2/templates/{created.code}")[-1]["method"] == "PUT"

    codes = [t.code for t in adapter.list_templates().value]
    assert TEMPLATE in codes and created.code in codes
    assert adapter.delete_template(created.code).ok
    missing = adapter.get_template(created.code)
    assert missing.error.code is ErrorCode.TEMPLATE_NOT_FOUND


# -- batches (send-many) ----------------------------------------------------------------------
def _batch(*numbers: str, **kw) -> list[Message]:
    return [sms(to=number, message_id=f"m-{number[-4:]}", **kw) for number in numbers]


def test_a_batch_goes_in_one_request_and_each_answer_finds_its_message(simulator, make_adapter):
    adapter = make_adapter()
    messages = _batch("01011110001", "01011110002", "01011110003")
    messages[1] = sms(to="01011110002", message_id="m-0002", from_="0299998888")  # unregistered
    outcomes = adapter.send_many(messages)
    (request,) = sent_requests(simulator)
    sent = request["body"]["messages"]
    assert [m["customFields"] for m in sent] == [
        {"kmsgMessageId": "m-0001"},
        {"kmsgMessageId": "m-0002"},
        {"kmsgMessageId": "m-0003"},
    ]
    assert [o.ok for o in outcomes] == [True, False, True]
    by_number = {m["to"]: m["messageId"] for m in simulator.control.messages("solapi")}
    assert outcomes[0].value.provider_message_id == by_number["01011110001"]
    assert outcomes[2].value.provider_message_id == by_number["01011110003"]
    refused = outcomes[1].error
    assert (refused.vendor_code, refused.accepted) == ("1062", Acceptance.NOT_ACCEPTED)
    # Each message keeps its own part of the answer, not the whole batch's.
    assert outcomes[0].value.raw["messageId"] == by_number["01011110001"]
    assert "messageList" not in outcomes[0].value.raw


def test_a_message_that_cannot_be_built_is_refused_alone(simulator, make_adapter):
    adapter = make_adapter(default_from="")
    messages = [sms(to="01011110001", from_="0212345678", message_id="a"), sms(message_id="b")]
    outcomes = adapter.send_many(messages)
    assert outcomes[0].ok
    assert outcomes[1].error.code is ErrorCode.INVALID_REQUEST
    (request,) = sent_requests(simulator)
    assert len(request["body"]["messages"]) == 1


def test_a_batch_request_that_fails_fails_each_message_alike(simulator, make_adapter):
    simulator.control.inject("solapi", "status_5xx", path=SEND_PATH, status=503, count=1)
    outcomes = make_adapter().send_many(_batch("01011110001", "01011110002"))
    assert [(o.error.code, o.error.accepted) for o in outcomes] == [
        (ErrorCode.NETWORK_SERVICE_UNAVAILABLE, Acceptance.NOT_ACCEPTED)
    ] * 2
    assert simulator.control.messages("solapi") == []


def test_a_message_missing_from_the_answer_is_unknown(simulator, make_adapter):
    """A 2xx answer that lists only some of the batch: the others may have been taken."""
    body = (
        '{"groupInfo": {"groupId": "G4V1"}, "failedMessageList": [], "messageList": '
        '[{"messageId": "M1", "statusCode": "2000", "customFields": {"kmsgMessageId": "m-0001"}}]}'
    )
    simulator.control.inject("solapi", "body", path=SEND_PATH, body=body, process=True)
    outcomes = make_adapter().send_many(_batch("01011110001", "01011110002"))
    assert outcomes[0].ok and outcomes[0].value.provider_message_id == "M1"
    assert (outcomes[1].error.code, outcomes[1].error.accepted) == (
        ErrorCode.PROVIDER_ERROR,
        Acceptance.UNKNOWN,
    )


def test_a_batch_holds_one_schedule_and_at_most_max_batch(make_adapter):
    adapter = make_adapter()
    later = datetime.now(UTC) + timedelta(hours=1)
    with pytest.raises(ValueError, match="one schedule"):
        adapter.send_many([sms(message_id="a"), sms(message_id="b", scheduled_at=later)])
    with pytest.raises(ValueError, match="at most"):
        adapter.send_many(_batch(*[f"0101111{i:04d}" for i in range(adapter.max_batch + 1)]))


def test_a_refusal_of_every_message_of_a_batch_fails_each(simulator, make_adapter):
    simulator.control.inject("solapi", "vendor_error", path=SEND_PATH, code="1062", count=1)
    outcomes = make_adapter().send_many(_batch("01011110001", "01011110002"))
    assert [(o.error.vendor_code, o.error.accepted) for o in outcomes] == [
        ("1062", Acceptance.NOT_ACCEPTED)
    ] * 2
