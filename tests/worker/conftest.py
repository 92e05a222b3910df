"""Fixtures for the worker suites: a controllable clock, providers on the simulators, sends."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from kmsg_console import sending
from kmsg_console.extensions import db
from kmsg_console.orm import utcnow
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.sandbox import sandbox_clear
from kmsg_console.providers.models import Provider, RoutingRule
from kmsg_console.sending.models import MessageLog, MessageSource
from kmsg_console.worker import tracking

TEMPLATE = "KMSG_OTP_001"
TEMPLATE_TEXT = "[#{service}] 인증번호는 [#{code}]입니다. 3분 안에 입력해 주세요."
NON_KAKAO = "01099990000"  # the simulators' non-KakaoTalk user
PHONE = "01012345678"
SENDER = "0212345678"


class Clock:
    """The tracker's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def to(self, moment: datetime) -> datetime:
        self.now = moment
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(tracking, "clock", fake)
    # The send engine schedules the first check from its own clock: the same one, so "31 s
    # later" is due however long the machine took between the fixture and the send.
    monkeypatch.setattr(sending.engine, "utcnow", fake)
    return fake


@pytest.fixture(autouse=True)
def _templates(monkeypatch, app):
    """AlimTalk sends resolve the simulators' seeded, approved template."""
    monkeypatch.setitem(
        app.extensions,
        sending.request.TEMPLATE_RESOLVER,
        lambda code: sending.TemplateBody(code, TEMPLATE_TEXT) if code == TEMPLATE else None,
    )
    sandbox_clear()
    yield
    sandbox_clear()


PROVIDER_CONFIGS = {
    "solapi": lambda sim: {
        "api_key": "demo-api-key",
        "api_secret": "demo-api-secret",
        "default_from": SENDER,
        "kakao_pf_id": "KA01PF000000000000000000DEMO",
        "base_url": sim.url("solapi"),
    },
    "iwinv": lambda sim: {
        "api_key": "demo-api-key",
        "sms_api_key": "demo-sms-key",
        "sms_auth_key": "demo-sms-auth",
        "sms_company_id": "demo",
        "sender_number": SENDER,
        "alimtalk_base_url": sim.url("iwinv_alimtalk"),
        "sms_base_url": sim.url("iwinv_sms"),
    },
    "aligo": lambda sim: {
        "api_key": "demo-api-key",
        "user_id": "demo",
        "sender_key": "demo-sender-key",
        "sender": SENDER,
        "sms_base_url": sim.url("aligo_sms"),
        "kakao_base_url": sim.url("aligo_kakao"),
    },
}


@pytest.fixture
def route(app, simulator):
    """``route("solapi")``: add that vendor's provider (code = vendor) and route every type to it."""

    def add(vendor: str, *, types=("DEFAULT", "SMS", "LMS", "MMS", "ALIMTALK")) -> str:
        with app.app_context():
            if provider_services.get_by_code(vendor) is None:
                if vendor == "sandbox":
                    provider_services.ensure_sandbox_provider()
                else:
                    provider_services.save_provider(
                        None,
                        vendor=vendor,
                        code=vendor,
                        name=vendor,
                        values=PROVIDER_CONFIGS[vendor](simulator),
                        enabled=True,
                        actor=None,
                    )
            for message_type in types:
                rule = db.session.get(RoutingRule, message_type) or RoutingRule(
                    message_type=message_type
                )
                rule.provider_codes = [vendor]
                db.session.add(rule)
            db.session.commit()
        return vendor

    return add


def send(app, **fields) -> str:
    """Send through the send engine; returns the message's public id."""
    fields.setdefault("to", PHONE)
    if fields.get("type") != "ALIMTALK":
        fields.setdefault("text", "배송이 시작되었습니다.")
    with app.app_context():
        result = sending.send(sending.SendRequest(**fields), source=MessageSource.API)
        return result.log.public_id


def alimtalk(app, *, to=PHONE, fallback: bool = True, **extra) -> str:
    return send(
        app,
        to=to,
        type="ALIMTALK",
        template_code=TEMPLATE,
        variables={"service": "kmsg", "code": "123456"},
        failover={
            "enabled": True,
            "channel": "sms",
            "content": "[kmsg] 카카오톡 대신 문자로 보냅니다.",
        }
        if fallback
        else None,
        **extra,
    )


def load(app, public_id: str) -> MessageLog:
    """The message row, detached (its events loaded)."""
    with app.app_context():
        log = db.session.scalar(sa.select(MessageLog).where(MessageLog.public_id == public_id))
        _ = list(log.events), list(log.attempts)
        db.session.expunge_all()
        return log


def round_(app) -> dict[str, int]:
    with app.app_context():
        try:
            return tracking.run_round()
        finally:
            db.session.remove()


def provider_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Provider.id).where(Provider.code == code))
