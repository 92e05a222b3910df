"""Aligo adapter (SMS and Kakao hosts) against the Aligo simulators over real HTTP."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime

import pytest
import requests

from kmsg_console.messaging.errors import Acceptance, ErrorCode
from kmsg_console.messaging.provider import (
    BalanceProvider,
    DeliveryStatusProvider,
    TemplateDraft,
    TemplateProvider,
    TemplateStatus,
)
from kmsg_console.messaging.result import Err, Ok, SendStatus
from kmsg_console.messaging.types import Failover, KakaoOptions, MediaImage, Message, MessageType
from kmsg_console.messaging.vendor_codes import ALIGO_KAKAO, ALIGO_SMS
from kmsg_console.providers.adapters.aligo import AligoAdapter
from kmsg_console.providers.adapters.aligo_token import (
    RENEW_BEFORE_SECONDS,
    TOKEN_LIFETIME_SECONDS,
    KakaoTokenCache,
)
from kmsg_console.providers.adapters.config import Timeouts
from kmsg_console.providers.adapters.transport import HttpReply

TEMPLATE = "KMSG_OTP_001"
TEMPLATE_BODY = "[#{service}] 인증번호는 [#{code}]입니다. 3분 안에 입력해 주세요."
RENDERED = "[KMSG] 인증번호는 [123456]입니다. 3분 안에 입력해 주세요."
ALIMTALK_PATH = "/akv10/alimtalk/send/"
FRIENDTALK_PATH = "/akv10/friend/send/"
TOKEN_PATH = "/akv10/token/create/30/i/"


@pytest.fixture
def make_adapter(simulator):
    made = []

    def make(**config):
        settings = {
            "api_key": "demo-api-key",
            "user_id": "demo",
            "sender_key": "demo-sender-key",
            "sender": "0212345678",
            "sms_base_url": simulator.url("aligo_sms"),
            "kakao_base_url": simulator.url("aligo_kakao"),
            **config,
        }
        adapter = AligoAdapter(
            "aligo-1", {k: v for k, v in settings.items() if v is not None}, timeouts=Timeouts(2, 5)
        )
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


def sms_requests(simulator, path="/send/"):
    return simulator.control.requests("aligo_sms", path)


def kakao_requests(simulator, path=ALIMTALK_PATH):
    return simulator.control.requests("aligo_kakao", path)


def test_capabilities_are_explicit(make_adapter):
    adapter = make_adapter()
    assert adapter.supports_delivery_status is False and adapter.supports_balance is False
    assert not isinstance(adapter, DeliveryStatusProvider)
    assert not isinstance(adapter, BalanceProvider)
    assert isinstance(adapter, TemplateProvider)


# -- SMS --------------------------------------------------------------------------------------
def test_sms_is_a_form_post_with_credentials_in_the_body(simulator, make_adapter):
    outcome = make_adapter().send(sms())
    request = sms_requests(simulator)[-1]
    assert request["body_kind"] == "form"
    assert "authorization" not in request["headers"]
    assert request["body"] == {
        "key": "demo-api-key",
        "user_id": "demo",
        "sender": "0212345678",
        "receiver": "01012345678",
        "msg": "인증번호 123456",
        "msg_type": "SMS",
        "testmode_yn": "N",
    }
    assert outcome.ok and outcome.value.status is SendStatus.PENDING  # Aligo only ever queues
    assert outcome.value.provider_message_id == simulator.control.messages("aligo_sms")[0]["msg_id"]
    assert "demo-api-key" not in json.dumps(outcome.value.raw)


def test_lms_title_schedule_and_test_mode(simulator, make_adapter):
    when = datetime(2030, 5, 1, 23, 45, tzinfo=UTC)  # 08:45 next day in Seoul
    make_adapter(test_mode=True).send(
        Message(
            type=MessageType.LMS,
            to="01012345678",
            text="가" * 60,
            subject="공지",
            scheduled_at=when,
        )
    )
    body = sms_requests(simulator)[-1]["body"]
    assert (body["msg_type"], body["title"], body["testmode_yn"]) == ("LMS", "공지", "Y")
    assert (body["rdate"], body["rtime"]) == ("20300502", "0845")


def test_missing_sender_is_refused_locally(simulator, make_adapter):
    assert make_adapter(sender=None).send(sms()).error.code is ErrorCode.INVALID_REQUEST
    assert sms_requests(simulator) == []


@pytest.mark.parametrize("vendor_code", sorted(ALIGO_SMS))
def test_every_mapped_sms_code(simulator, make_adapter, vendor_code):
    simulator.control.inject("aligo_sms", "vendor_error", path="/send/", code=vendor_code)
    outcome = make_adapter().send(sms())
    assert outcome.error.code is ALIGO_SMS[vendor_code].code
    assert outcome.error.vendor_code == vendor_code
    assert outcome.error.accepted is Acceptance.NOT_ACCEPTED
    assert len(sms_requests(simulator)) == 1


def test_real_sms_refusals(simulator, make_adapter):
    bad_key = make_adapter(api_key="wrong").send(sms())
    assert (bad_key.error.code, bad_key.error.vendor_code) == (
        ErrorCode.AUTHENTICATION_FAILED,
        "-101",
    )
    assert "wrong" not in json.dumps(bad_key.error.raw)
    unregistered = make_adapter(sender="0299998888").send(sms())
    assert (unregistered.error.code, unregistered.error.vendor_code) == (
        ErrorCode.INVALID_REQUEST,
        "-103",
    )


@pytest.mark.parametrize(
    ("api", "body", "ok"),
    [
        ("sms", {"result_code": 1, "msg_id": "9"}, True),
        ("sms", {"result_code": "1"}, True),
        ("sms", {"result_code": "-101"}, False),
        ("kakao", {"code": "0", "info": {"mid": 1}}, True),
        ("kakao", {"code": 0}, True),
        ("kakao", {"code": -99}, False),
    ],
)
def test_result_codes_as_numbers_or_strings(make_adapter, api, body, ok):
    assert make_adapter()._interpret(HttpReply(200, json.dumps(body), body, True), api).ok is ok


# -- Kakao ------------------------------------------------------------------------------------
def test_alimtalk_sends_the_rendered_approved_text(simulator, make_adapter):
    outcome = make_adapter().send(alimtalk())
    body = kakao_requests(simulator)[-1]["body"]
    assert body.pop("token")  # the one the simulator issued, or it would have refused the send
    assert body == {
        "apikey": "demo-api-key",
        "userid": "demo",
        "senderkey": "demo-sender-key",
        "sender": "0212345678",
        "receiver_1": "01012345678",
        "testMode": "N",
        "tpl_code": TEMPLATE,
        "subject_1": "알림톡",
        "message_1": RENDERED,
        "failover": "N",
    }
    stored = simulator.control.messages("aligo_kakao")
    assert outcome.ok and outcome.value.provider_message_id == str(stored[0]["mid"])
    assert outcome.value.status is SendStatus.PENDING


def test_alimtalk_failover_fields_and_partial_warning(simulator, make_adapter):
    outcome = make_adapter().send(
        alimtalk(failover=Failover(True, fallback_content="인증번호 123456", fallback_title="인증"))
    )
    body = kakao_requests(simulator)[-1]["body"]
    assert (body["failover"], body["fsubject_1"], body["fmessage_1"]) == (
        "Y",
        "인증",
        "인증번호 123456",
    )
    assert [w.code for w in outcome.value.warnings] == ["FAILOVER_PARTIAL_PROVIDER"]


def test_alimtalk_failover_without_content_falls_back_to_the_alimtalk_text(simulator, make_adapter):
    outcome = make_adapter().send(alimtalk(failover=Failover(enabled=True)))
    assert kakao_requests(simulator)[-1]["body"]["fmessage_1"] == RENDERED
    assert [w.code for w in outcome.value.warnings] == [
        "FAILOVER_PARTIAL_PROVIDER",
        "FALLBACK_CONTENT_MISSING",
    ]


@pytest.mark.parametrize(
    "message",
    [alimtalk(template_content=None), alimtalk(variables={"service": "KMSG"})],
    ids=["unknown template body", "missing variable"],
)
def test_alimtalk_that_cannot_match_the_template_is_refused_before_sending(
    simulator, make_adapter, message
):
    outcome = make_adapter().send(message)
    assert outcome.error.code is ErrorCode.INVALID_REQUEST
    assert kakao_requests(simulator) == []


def test_a_sender_key_on_the_message_wins(simulator, make_adapter):
    outcome = make_adapter(sender_key=None).send(
        alimtalk(kakao=KakaoOptions(profile_id="demo-sender-key"))
    )
    assert outcome.ok
    assert make_adapter(sender_key=None).send(alimtalk()).error.code is ErrorCode.INVALID_REQUEST


def test_real_kakao_refusals(simulator, make_adapter):
    mismatch = make_adapter().send(alimtalk(template_content="[#{service}] 다른 문구 #{code}"))
    assert (mismatch.error.code, mismatch.error.vendor_code) == (ErrorCode.INVALID_REQUEST, "509")
    unknown = make_adapter().send(alimtalk(template_id="NOPE"))
    assert (unknown.error.code, unknown.error.vendor_code) == (ErrorCode.TEMPLATE_NOT_FOUND, "-501")
    bad_key = make_adapter(api_key="nope").send(alimtalk())
    assert (bad_key.error.code, bad_key.error.vendor_code) == (
        ErrorCode.AUTHENTICATION_FAILED,
        "-99",
    )


@pytest.mark.parametrize("vendor_code", sorted(ALIGO_KAKAO))
def test_every_mapped_kakao_code(simulator, make_adapter, vendor_code):
    # -99 also means "token refused", which earns one retry with a new token: keep it coming.
    count = None if vendor_code == "-99" else 1
    simulator.control.inject(
        "aligo_kakao", "vendor_error", path=ALIMTALK_PATH, code=vendor_code, count=count
    )
    outcome = make_adapter().send(alimtalk())
    assert outcome.error.code is ALIGO_KAKAO[vendor_code].code
    assert outcome.error.vendor_code == vendor_code
    assert len(kakao_requests(simulator)) == (2 if vendor_code == "-99" else 1)


def friendtalk(**kw) -> Message:
    return Message(
        **{"type": MessageType.FRIENDTALK, "to": "01012345678", "text": "친구톡 안내", **kw}
    )


def test_friendtalk_goes_to_aligos_friend_send_path(simulator, make_adapter):
    outcome = make_adapter().send(
        friendtalk(kakao=KakaoOptions(buttons=({"name": "열기", "type": "WL"},), ad_flag=True))
    )
    assert outcome.ok, outcome
    assert kakao_requests(simulator, "/akv10/friendtalk/send/") == []
    body = kakao_requests(simulator, FRIENDTALK_PATH)[-1]["body"]
    assert (body["subject_1"], body["message_1"], body["senderkey"], body["advert"]) == (
        "친구톡",
        "친구톡 안내",
        "demo-sender-key",
        "Y",
    )
    assert json.loads(body["button_1"]) == {"button": [{"name": "열기", "type": "WL"}]}
    stored = simulator.control.messages("aligo_kakao")
    assert [str(m["mid"]) for m in stored] == [outcome.value.provider_message_id]
    assert stored[0]["type"] == "FT" and outcome.value.status is SendStatus.PENDING


def test_friendtalk_image_is_uploaded(simulator, make_adapter):
    image = MediaImage(b"\xff\xd8\xff\xe0", "sale.jpg", "image/jpeg")
    assert make_adapter().send(friendtalk(image=image)).ok
    request = kakao_requests(simulator, FRIENDTALK_PATH)[-1]
    assert request["files"]["image"]["filename"] == "sale.jpg"
    assert simulator.control.messages("aligo_kakao")[0]["image"] == "sale.jpg"


def test_scheduled_alimtalk_is_reserved_with_senddate(simulator, make_adapter):
    when = datetime(2030, 5, 1, 23, 45, 30, tzinfo=UTC)  # 08:45:30 next day in Seoul
    outcome = make_adapter().send(alimtalk(scheduled_at=when))
    body = kakao_requests(simulator)[-1]["body"]
    assert body["senddate"] == "20300502084530"
    assert not {"reserve", "reserve_date", "reserve_time"} & set(body)
    assert outcome.ok
    # The simulator holds it: still cancellable, so it has not gone out.
    stored = simulator.control.messages("aligo_kakao")[0]
    assert stored["reserve_date"] == "2030-05-02 08:45:30"


# -- Kakao API token ------------------------------------------------------------------------------
def test_kakao_calls_carry_one_token_issued_once(simulator, make_adapter):
    adapter = make_adapter()
    assert adapter.send(alimtalk()).ok
    assert adapter.send(friendtalk()).ok
    assert adapter.list_templates().ok
    issued = kakao_requests(simulator, TOKEN_PATH)
    assert len(issued) == 1
    assert issued[0]["body"] == {"apikey": "demo-api-key", "userid": "demo"}
    calls = [r for r in simulator.control.requests("aligo_kakao") if r["path"] != TOKEN_PATH]
    assert len(calls) == 3 and len({r["body"]["token"] for r in calls}) == 1


def test_a_refused_token_is_replaced_and_the_call_repeated_once(simulator, make_adapter):
    adapter = make_adapter()
    assert adapter.send(alimtalk()).ok
    requests.post(simulator.base_url + "/_control/tokens/aligo_kakao/expire", timeout=5)
    outcome = adapter.send(alimtalk())
    assert outcome.ok, outcome
    sends = kakao_requests(simulator)
    assert len(kakao_requests(simulator, TOKEN_PATH)) == 2
    assert len(sends) == 3 and sends[1]["body"]["token"] == sends[0]["body"]["token"]
    assert sends[2]["body"]["token"] != sends[1]["body"]["token"]
    assert len(simulator.control.messages("aligo_kakao")) == 2  # the refused try sent nothing


def test_concurrent_sends_share_one_token_request(simulator, make_adapter):
    adapter = make_adapter()
    outcomes = []
    threads = [
        threading.Thread(target=lambda: outcomes.append(adapter.send(alimtalk())))
        for _ in range(12)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 12 and all(o.ok for o in outcomes)
    assert len(kakao_requests(simulator, TOKEN_PATH)) == 1


def test_a_failed_token_request_stops_the_call(simulator, make_adapter):
    bad_key = make_adapter(api_key="nope").send(alimtalk())
    assert (bad_key.error.code, bad_key.error.vendor_code) == (
        ErrorCode.AUTHENTICATION_FAILED,
        "-99",
    )
    simulator.control.inject("aligo_kakao", "status_5xx", path=TOKEN_PATH, status=503)
    outage = make_adapter().send(alimtalk())
    assert outage.error.code is ErrorCode.NETWORK_SERVICE_UNAVAILABLE
    assert outage.error.accepted is Acceptance.NOT_ACCEPTED
    assert kakao_requests(simulator) == []
    assert make_adapter().send(alimtalk()).ok  # nothing stale was kept


def test_the_token_is_neither_logged_nor_kept(simulator, make_adapter, caplog):
    caplog.set_level(logging.DEBUG)
    adapter = make_adapter()
    outcome = adapter.send(alimtalk())
    templates = adapter.list_templates().value
    token = kakao_requests(simulator)[-1]["body"]["token"]
    assert token not in caplog.text
    assert token not in json.dumps([outcome.value.raw, [t.raw for t in templates]])
    assert token not in repr(adapter) and token not in repr(adapter._kakao_token)


def test_the_token_cache_renews_shortly_before_expiry():
    now = [1000.0]
    issued = []

    def issue():
        issued.append(f"token-{len(issued) + 1}")
        return Ok(issued[-1])

    cache = KakaoTokenCache(clock=lambda: now[0])
    assert cache.get(issue).value == "token-1"
    now[0] += TOKEN_LIFETIME_SECONDS - RENEW_BEFORE_SECONDS - 1
    assert cache.get(issue).value == "token-1"
    now[0] += 1
    assert cache.get(issue).value == "token-2"
    cache.discard("token-1")  # a late refusal of the old token keeps the new one
    assert cache.get(issue).value == "token-2"
    cache.discard("token-2")
    assert cache.get(issue).value == "token-3"
    failure = Err(None)
    cache.discard("token-3")
    assert cache.get(lambda: failure) is failure
    assert cache.get(issue).value == "token-4"


def test_health_check_uses_both_hosts(simulator, make_adapter):
    assert make_adapter().health_check().healthy
    assert sms_requests(simulator, "/remain/") and kakao_requests(simulator, "/akv10/profile/list/")
    assert not make_adapter(api_key="nope").health_check().healthy


# -- templates ----------------------------------------------------------------------------------
def test_template_lifecycle(simulator, make_adapter):
    adapter = make_adapter()
    draft = TemplateDraft(
        "가입 안내",
        "#{name}님 가입을 환영합니다",
        buttons=({"name": "바로가기", "linkType": "WL", "linkM": "https://example.com"},),
    )
    created = adapter.create_template(draft).value
    add = kakao_requests(simulator, "/akv10/template/add/")[-1]["body"]
    assert (add["senderkey"], add["tpl_name"], add["tpl_content"]) == (
        "demo-sender-key",
        "가입 안내",
        "#{name}님 가입을 환영합니다",
    )
    assert json.loads(add["tpl_button"])["button"][0]["name"] == "바로가기"
    assert created.status is TemplateStatus.DRAFT and created.vendor_status == "REG"

    updated = adapter.update_template(
        created.code, TemplateDraft("가입 안내", "#{name}님, 환영합니다")
    ).value
    assert updated.content == "#{name}님, 환영합니다"
    assert adapter.request_template_inspection(created.code).ok
    assert adapter.get_template(created.code).value.status is TemplateStatus.INSPECTION
    simulator.control.reject_template("aligo_kakao", created.code, "버튼 링크 확인")
    rejected = adapter.get_template(created.code).value
    assert rejected.status is TemplateStatus.REJECTED and "버튼 링크 확인" in rejected.comments

    assert {TEMPLATE, created.code} <= {t.code for t in adapter.list_templates().value}
    assert adapter.delete_template(created.code).ok
    assert adapter.get_template(created.code).error.code is ErrorCode.TEMPLATE_NOT_FOUND
    assert make_adapter(sender_key=None).list_templates().error.code is ErrorCode.INVALID_REQUEST
