"""Sending with templates: only approved ones, every variable filled, the right vendor payload."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from kmsg_console import sending
from kmsg_console.api_keys.services import issue_key
from kmsg_console.extensions import db
from kmsg_console.message_templates import sends, services, sync
from kmsg_console.otp import services as otp
from kmsg_console.otp.models import VerificationPurpose
from kmsg_console.sending.models import MessageAttempt, MessageLog, MessageSource
from tests.message_templates.conftest import make_template

OTP_TEXT = "[#{brand}] 인증번호 #{code} (#{minutes}분 이내)"


def _approved(providers, simulator, actor, vendor, **overrides):
    template = make_template(providers[vendor], actor, **overrides)
    services.register_template(template, actor=actor)
    if vendor == "sandbox":
        services.request_inspection(template, actor=actor)
        services.sandbox_review(template, True, "", actor=actor)
    else:
        simulator.control.approve_template(
            {"solapi": "solapi", "iwinv": "iwinv_alimtalk", "aligo": "aligo_kakao"}[vendor],
            template.vendor_code,
        )
        sync.sync_template(template, actor=actor)
    db.session.commit()
    assert template.status == "approved"
    return template


def _count(model=MessageLog) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def api_key(ctx):
    key = issue_key("shop", ["send", "otp"], actor_label="test").plaintext
    db.session.commit()
    return key


def test_api_sends_an_approved_template_and_refuses_the_others(
    ctx, client, providers, simulator, actor, api_key
):
    approved = _approved(providers, simulator, actor, "sandbox")
    pending = make_template(providers["sandbox"], actor, name="대기 중")
    services.register_template(pending, actor=actor)
    db.session.commit()
    headers = {"Authorization": f"Bearer {api_key}"}
    body = {
        "to": "010-1234-5678",
        "type": "ALIMTALK",
        "variables": {"name": "김민수", "order": "A-17"},
    }
    sent = client.post(
        "/api/v1/messages", json={**body, "template_code": approved.vendor_code}, headers=headers
    )
    assert sent.status_code == 201, sent.get_json()
    assert (
        sent.get_json()["status"] == "SENT"
        and sent.get_json()["template_code"] == approved.vendor_code
    )
    inbox = sending.sandbox_inbox("01012345678", limit=1)[0]
    assert inbox["text"] == "김민수님, 주문 A-17이 접수되었습니다."
    refused = client.post(
        "/api/v1/messages", json={**body, "template_code": pending.vendor_code}, headers=headers
    )
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "unknown_template"
    assert _count() == 1


def test_a_missing_variable_is_refused_before_any_provider_call(
    ctx, client, providers, simulator, actor, api_key
):
    template = _approved(
        providers, simulator, actor, "iwinv", content=OTP_TEXT, category="AUTHENTICATION"
    )
    before = len(simulator.control.requests("iwinv_alimtalk"))
    response = client.post(
        "/api/v1/messages",
        headers={"Authorization": f"Bearer {api_key}"},
        json={
            "to": "01012345678",
            "type": "ALIMTALK",
            "template_code": template.vendor_code,
            "variables": {"brand": "KMSG", "minutes": 3},
        },
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request" and "code" in error["message"]
    assert _count() == 0 and _count(MessageAttempt) == 0
    assert len(simulator.control.requests("iwinv_alimtalk")) == before
    with pytest.raises(sending.SendRefused):
        sends.send_test(template, "01012345678", {"brand": "KMSG", "minutes": "3"}, actor=actor)


def test_iwinv_gets_positional_parameters_in_placeholder_order(ctx, providers, simulator, actor):
    template = _approved(
        providers, simulator, actor, "iwinv", content=OTP_TEXT, category="AUTHENTICATION"
    )
    log = sends.send_test(
        template, "01012345678", {"minutes": "3", "code": "482913", "brand": "KMSG"}, actor=actor
    )
    assert log.status == "SENT" and log.provider_code == "iwinv-main"
    sent = simulator.control.last_request("iwinv_alimtalk", "/api/v2/send/")["body"]
    assert sent["templateCode"] == template.vendor_code
    assert sent["list"][0]["templateParam"] == ["KMSG", "482913", "3"]


def test_aligo_message_is_the_rendered_approved_text(ctx, providers, simulator, actor):
    template = _approved(providers, simulator, actor, "aligo")
    log = sends.send_test(template, "01012345678", {"order": "B-2", "name": "이서연"}, actor=actor)
    assert log.status in ("SENT", "PENDING"), log.error_code
    sent = simulator.control.last_request("aligo_kakao", "/akv10/alimtalk/send/")["body"]
    assert sent["tpl_code"] == template.vendor_code and sent["senderkey"] == "demo-sender-key"
    assert sent["message_1"] == "이서연님, 주문 B-2이 접수되었습니다."


def test_solapi_gets_kakao_options_with_variables(ctx, providers, simulator, actor):
    template = _approved(providers, simulator, actor, "solapi")
    log = sends.send_test(template, "01012345678", {"name": "박", "order": "C-3"}, actor=actor)
    assert log.status == "SENT", log.error_code
    message = simulator.control.last_request("solapi", "/messages/v4/send-many/detail")["body"][
        "messages"
    ][0]
    assert message["type"] == "ATA"
    assert message["kakaoOptions"]["templateId"] == template.vendor_code
    assert message["kakaoOptions"]["pfId"] == "KA01PF000000000000000000DEMO"
    assert message["kakaoOptions"]["variables"] == {"#{name}": "박", "#{order}": "C-3"}


def test_fallback_text_comes_from_the_template(ctx, providers, simulator, actor):
    template = _approved(providers, simulator, actor, "iwinv")
    request = sending.SendRequest(
        to="01012345678",
        type="ALIMTALK",
        template_code=template.vendor_code,
        variables={"name": "최", "order": "D-4"},
        failover={"enabled": True, "channel": "lms"},
    )
    sending.send(request, source=MessageSource.CONSOLE)
    sent = simulator.control.last_request("iwinv_alimtalk", "/api/v2/send/")["body"]
    assert sent["reSend"] == "Y" and sent["resendContent"] == "최님, 주문 D-4이 접수되었습니다."


def test_dormant_or_rejected_templates_cannot_be_test_sent(ctx, providers, simulator, actor):
    template = _approved(providers, simulator, actor, "sandbox")
    template.status = "dormant"
    with pytest.raises(services.TemplateError) as refused:
        sends.send_test(template, "01012345678", {"name": "a", "order": "b"}, actor=actor)
    assert "dormant" in refused.value.message
    assert sends.resolve_template(template.vendor_code) is None


@pytest.mark.parametrize("vendor", ["sandbox", "solapi"])
def test_otp_purpose_sends_through_an_approved_template(ctx, providers, simulator, actor, vendor):
    content = "[#{brand}] 인증번호 [#{code}]를 입력해 주세요. #{minutes}분 안에 입력하세요."
    template = _approved(
        providers,
        simulator,
        actor,
        vendor,
        content=content,
        category="AUTHENTICATION",
        category_code="001002",
        security_flag=True,
    )
    otp.ensure_default_purposes()
    purpose = db.session.scalar(
        sa.select(VerificationPurpose).where(VerificationPurpose.code == "login")
    )
    purpose.channel, purpose.alimtalk_template_code, purpose.sms_fallback = (
        "alimtalk",
        template.vendor_code,
        False,
    )
    db.session.commit()
    verification = otp.start(phone="010-5555-6666", purpose_code="login")
    log = db.session.scalar(
        sa.select(MessageLog).where(MessageLog.public_id == verification.message_public_id)
    )
    assert (
        log.type == "ALIMTALK"
        and log.template_code == template.vendor_code
        and log.status == "SENT"
    )
    assert log.provider_code == providers[vendor].code
    if vendor == "sandbox":
        code = re.search(
            r"\[(\d{6})\]", sending.sandbox_inbox("01055556666", limit=1)[0]["text"]
        ).group(1)
    else:
        sent = simulator.control.last_request("solapi", "/messages/v4/send-many/detail")["body"]
        code = sent["messages"][0]["kakaoOptions"]["variables"]["#{code}"]
    assert otp.check(verification.public_id, code).status.value == "approved"
    assert code not in json.dumps(log.warnings) and log.body_redacted


def test_otp_with_a_template_under_review_is_not_sent(ctx, providers, actor):
    template = make_template(
        providers["sandbox"], actor, content="인증번호 #{code}", category="AUTHENTICATION"
    )
    services.register_template(template, actor=actor)
    otp.ensure_default_purposes()
    purpose = db.session.scalar(
        sa.select(VerificationPurpose).where(VerificationPurpose.code == "login")
    )
    purpose.channel, purpose.alimtalk_template_code, purpose.sms_fallback = (
        "alimtalk",
        template.vendor_code,
        False,
    )
    db.session.commit()
    with pytest.raises(otp.OtpRefused) as refused:
        otp.start(phone="010-5555-7777", purpose_code="login")
    assert refused.value.code == "send_failed" and _count() == 0
