"""The result line of a template's test send names the message's status in the operator's
language, and warns when the send failed or its outcome is unknown."""

from __future__ import annotations

import re

import pytest

from kmsg_console.extensions import db
from kmsg_console.message_templates import services
from kmsg_console.message_templates.validation import TemplateData
from kmsg_console.operators.models import Role
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.sandbox import sandbox_clear, script_sandbox

KOREAN = {"Accept-Language": "ko"}


@pytest.fixture
def sms_template(app):
    sandbox_clear()
    with app.test_request_context():
        provider_services.ensure_sandbox_provider()
        template = services.create_template(
            TemplateData(kind="SMS", name="주문 안내", content="[케이샵] 주문 #{order} 접수"),
            None,
            actor=None,
        )
        db.session.commit()
        yield template.id
    sandbox_clear()


@pytest.mark.parametrize(
    ("script", "shown", "category"),
    [
        ("ok", "발송됨", "success"),
        ("fail:INSUFFICIENT_BALANCE", "실패", "error"),
        ("timeout", "불명", "warning"),
    ],
)
def test_test_send_result_names_the_status(console, sms_template, script, shown, category):
    console.login(Role.OPERATOR)
    script_sandbox("sandbox", [script])
    response = console.htmx_post(
        f"/templates/{sms_template}/test-send",
        data={"to": "010-2345-6789", "var_0": "A-100"},
        headers=KOREAN,
    )
    html = response.get_data(as_text=True)
    result = re.search(
        r'<p class="flash flash-(\w+)"[^>]*id="test-send-result">(.*?)<a', html, re.S
    )
    assert result is not None, html
    assert result.group(1) == category
    text = " ".join(result.group(2).split())
    assert text == f"테스트 메시지: {shown}."
