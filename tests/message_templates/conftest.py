"""Fixtures: providers pointing at the vendor simulators, an operator to act as, template data."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from kmsg_console.extensions import db
from kmsg_console.message_templates import services
from kmsg_console.message_templates.models import MessageTemplate
from kmsg_console.message_templates.validation import TemplateData
from kmsg_console.providers import services as provider_services

SOLAPI_PF_ID = "KA01PF000000000000000000DEMO"
ALIGO_SENDER_KEY = "demo-sender-key"
#: vendor → provider code used in these tests
CODES = {
    "solapi": "solapi-main",
    "iwinv": "iwinv-main",
    "aligo": "aligo-main",
    "sandbox": "sandbox",
}


def provider_settings(simulator, vendor: str) -> dict:
    return {
        "solapi": {
            "api_key": "demo-api-key",
            "api_secret": "demo-api-secret",
            "default_from": "0212345678",
            "kakao_pf_id": SOLAPI_PF_ID,
            "base_url": simulator.url("solapi"),
        },
        "iwinv": {
            "api_key": "demo-api-key",
            "sender_number": "0212345678",
            "alimtalk_base_url": simulator.url("iwinv_alimtalk"),
            "sms_base_url": simulator.url("iwinv_sms"),
        },
        "aligo": {
            "api_key": "demo-api-key",
            "user_id": "demo",
            "sender_key": ALIGO_SENDER_KEY,
            "sender": "0212345678",
            "sms_base_url": simulator.url("aligo_sms"),
            "kakao_base_url": simulator.url("aligo_kakao"),
        },
    }[vendor]


@pytest.fixture
def ctx(app):
    """An application and request context for calling services directly."""
    with app.test_request_context():
        yield app
        db.session.rollback()


@pytest.fixture
def actor():
    return SimpleNamespace(id=None, email="tester@example.com")


@pytest.fixture
def providers(ctx, simulator):
    """The sandbox plus one provider per vendor, all pointing at the simulators."""
    made = {"sandbox": provider_services.ensure_sandbox_provider()}
    for vendor in ("solapi", "iwinv", "aligo"):
        made[vendor] = provider_services.save_provider(
            None,
            vendor=vendor,
            code=CODES[vendor],
            name=vendor.upper(),
            values=provider_settings(simulator, vendor),
            enabled=True,
            actor=None,
        )
    db.session.commit()
    return made


def template_data(**overrides) -> TemplateData:
    values = {
        "kind": "ALIMTALK",
        "name": "주문 안내",
        "content": "#{name}님, 주문 #{order}이 접수되었습니다.",
        "category": "NOTIFICATION",
        "category_code": "002001",
    }
    values.update(overrides)
    return TemplateData(**values)


def make_template(provider, actor, **overrides) -> MessageTemplate:
    template = services.create_template(template_data(**overrides), provider, actor=actor)
    db.session.commit()
    return template
