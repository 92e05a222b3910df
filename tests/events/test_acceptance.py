"""Acceptance: every event type reaches a real receiver on 127.0.0.1 once, signed.

The events come from the features themselves (sends, delivery tracking, fallback, OTP,
template review, provider health checks), each written with the change that caused it.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from types import SimpleNamespace

from kmsg_console.events.types import ALERT_TYPES, ALL_TYPES
from kmsg_console.extensions import db
from kmsg_console.message_templates import services as template_services
from kmsg_console.otp import services as otp
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.sandbox import script_sandbox
from tests.events.conftest import add_endpoint, outbox, run_deliveries, verify
from tests.message_templates.conftest import make_template
from tests.worker.conftest import (  # noqa: F401  (fixtures)
    NON_KAKAO,
    PHONE,
    _templates,
    alimtalk,
    clock,
    load,
    round_,
    route,
    send,
)

CODE = "914263"
#: Operator alerts come from thresholds, not from one change: tests/alerts covers them; a
#: campaign's completion comes from the worker's dispatch rounds: tests/campaigns covers it.
CHANGE_TYPES = set(ALL_TYPES) - set(ALERT_TYPES) - {"campaign.completed"}
OTP_PHONES = ["01050000001", "01050000002", "01050000003", "01050000004"]


def _messages(app, simulator, route, clock) -> None:
    route("sandbox")
    send(app)  # message.sent, then message.delivered when polled
    script_sandbox("sandbox", ["timeout"])
    send(app, to="01033334444")  # message.unknown
    clock.advance(seconds=31)
    round_(app)
    route("solapi")
    original = alimtalk(app, to=NON_KAKAO)  # failed at the vendor: message.failed, fallback
    simulator.control.set_status(
        "solapi", load(app, original).provider_message_id, "non_kakao_user"
    )
    clock.advance(seconds=31)
    round_(app)
    assert load(app, original).fallback_state == "sent"


def _verifications(app, route, monkeypatch) -> None:
    route("sandbox")
    monkeypatch.setattr(otp, "generate_code", lambda length: CODE[:length])
    with app.test_request_context():
        otp.ensure_default_purposes()
        db.session.commit()
        length = otp.purpose_settings("login").code_length
        assert length == len(CODE)
        approved = otp.start(phone=OTP_PHONES[0], purpose_code="login")
        assert otp.check(approved.public_id, CODE).status.value == "approved"
        wrong = otp.start(phone=OTP_PHONES[1], purpose_code="login")
        for _ in range(wrong.max_checks):
            result = otp.check(wrong.public_id, "1" * length)
        assert result.status.value == "max_attempts"
        assert otp.cancel(otp.start(phone=OTP_PHONES[2], purpose_code="login"))
        expiring = otp.start(phone=OTP_PHONES[3], purpose_code="login")
        assert otp.expire_due(expiring.expires_at + timedelta(seconds=1)) == 1


def _templates_reviewed(app) -> None:
    actor = SimpleNamespace(id=None, email="reviewer@example.com")
    with app.test_request_context():
        sandbox = provider_services.ensure_sandbox_provider()
        for number, approve in enumerate((True, False)):
            template = make_template(sandbox, actor, name=f"주문 안내 {number}")
            template_services.register_template(template, actor=actor)
            template_services.request_inspection(template, actor=actor)
            template_services.sandbox_review(
                template, approve, "" if approve else "버튼 이름을 바꿔 주세요", actor=actor
            )
            db.session.commit()


def _provider_health(app, simulator) -> None:
    actor = SimpleNamespace(id=None, email="admin@example.com")
    simulator.control.inject("solapi", "status_5xx", status=503, count=None)
    for _ in range(2):  # the second failing check announces nothing new
        with app.test_request_context():
            result = provider_services.test_connection(
                provider_services.get_by_code("solapi"), actor=actor
            )
            db.session.commit()
        assert not result["healthy"]
    simulator.control.clear_faults()
    with app.test_request_context():
        result = provider_services.test_connection(
            provider_services.get_by_code("solapi"), actor=actor
        )
        db.session.commit()
    assert result["healthy"]


def test_every_event_type_arrives_once_with_a_valid_signature(
    app, simulator, route, clock, receiver, monkeypatch
):
    _endpoint, secret = add_endpoint(app, receiver.url)
    _messages(app, simulator, route, clock)
    _verifications(app, route, monkeypatch)
    _templates_reviewed(app)
    _provider_health(app, simulator)

    written = outbox(app)
    assert {event.type for event in written} == CHANGE_TYPES
    counts = run_deliveries(app)
    assert counts["delivered"] == len(written) and not counts.get("retry"), counts

    received = receiver.requests
    ids = [r.headers["X-Webhook-Id"] for r in received]
    assert sorted(ids) == sorted(e.public_id for e in written)  # each event exactly once
    assert {r.event["type"] for r in received} == CHANGE_TYPES
    for request in received:
        assert verify(secret, request), request.headers
        assert request.event["id"] == request.headers["X-Webhook-Id"]
        assert request.headers["Content-Type"] == "application/json"
        # Never a full number or an OTP code: masked numbers only.
        for secret_text in (PHONE, NON_KAKAO, "01033334444", *OTP_PHONES, CODE):
            assert secret_text.encode() not in request.body, request.body
    by_type = {r.event["type"]: r.event["data"] for r in received}
    masked = {r.event["data"]["to"] for r in received if "to" in r.event["data"]}
    assert masked and all(re.fullmatch(r"010-\*{4}-\d{4}", to) for to in masked), masked
    assert by_type["message.failed"]["vendor_code"] == "3104"
    assert by_type["message.failed"]["error_code"]
    assert by_type["message.fallback_sent"]["fallback_type"] == "SMS"
    assert by_type["verification.approved"]["status"] == "approved"
    assert by_type["verification.approved"]["purpose"] == "login"
    assert by_type["template.rejected"]["comment"] == "버튼 이름을 바꿔 주세요"
    assert by_type["provider.unhealthy"]["provider"] == "solapi"
    types = Counter(e.type for e in written)
    assert types["provider.unhealthy"] == 1 and types["provider.recovered"] == 1
    assert types["verification.started"] == 4
    # A second round sends nothing again.
    assert run_deliveries(app).get("delivered", 0) == 0 and len(receiver.requests) == len(ids)
