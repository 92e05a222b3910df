"""SOLAPI adapter, AlimTalk templates: the review flow SOLAPI's clients show, over real HTTP."""

from __future__ import annotations

import pytest

from kmsg_console.messaging.provider import TemplateDraft, TemplateStatus
from kmsg_console.providers.adapters.config import Timeouts
from kmsg_console.providers.adapters.solapi import SolapiAdapter

PF_ID = "KA01PF000000000000000000DEMO"
APPROVED_TEMPLATE = "KMSG_OTP_001"


@pytest.fixture
def adapter(simulator):
    settings = {
        "api_key": "demo-api-key",
        "api_secret": "demo-api-secret",
        "kakao_pf_id": PF_ID,
        "base_url": simulator.url("solapi"),
    }
    made = SolapiAdapter("solapi-templates", settings, timeouts=Timeouts(2, 5))
    yield made
    made.close()


def template_calls(simulator) -> list[tuple[str, str]]:
    return [
        (r["method"], r["path"])
        for r in simulator.control.requests("solapi", "/kakao/v2/templates*")
    ]


def test_a_new_template_waits_until_inspection_is_requested(simulator, adapter):
    created = adapter.create_template(
        TemplateDraft("배송 안내", "#{name}님 상품이 출발했습니다.", category_code="004001")
    ).value
    assert created.status is TemplateStatus.PENDING
    assert adapter.get_template(created.code).value.status is TemplateStatus.PENDING

    submitted = adapter.request_template_inspection(created.code).value
    assert submitted.status is TemplateStatus.INSPECTION
    assert template_calls(simulator) == [
        ("POST", "/kakao/v2/templates"),
        ("GET", f"/kakao/v2/templates/{created.code}"),
        ("PUT", f"/kakao/v2/templates/{created.code}/inspection"),
    ]


def test_an_approved_template_is_not_deleted(simulator, adapter):
    refused = adapter.delete_template(APPROVED_TEMPLATE)
    assert not refused.ok
    assert (refused.error.vendor_code, refused.error.http_status) == ("InvalidTemplateStatus", 400)
    assert adapter.get_template(APPROVED_TEMPLATE).value.status is TemplateStatus.APPROVED


def test_kakaos_template_categories_are_read(simulator, adapter):
    categories = adapter.list_template_categories().value
    assert ("001002", "회원 > 인증/비밀번호/로그인") in [(c.code, c.name) for c in categories]
    assert template_calls(simulator) == [("GET", "/kakao/v2/templates/categories")]


def test_unreadable_categories_are_an_error_not_an_empty_list(simulator, adapter):
    simulator.control.inject("solapi", "status_5xx", path="/kakao/v2/templates/categories")
    failed = adapter.list_template_categories()
    assert not failed.ok and failed.error.http_status >= 500
    simulator.control.inject(
        "solapi", "body", path="/kakao/v2/templates/categories", body='{"unexpected": 1}'
    )
    assert not adapter.list_template_categories().ok
