"""A template rejected by Kakao, fixed and approved at a vendor: the page credits the comments
to Kakao and, once the template is approved, shows the rejection as an earlier review's."""

from __future__ import annotations

import pytest

from kmsg_console.extensions import db
from kmsg_console.message_templates import services, sync
from kmsg_console.message_templates.models import MessageTemplate
from kmsg_console.message_templates.validation import TemplateData
from kmsg_console.operators.models import Operator, Role
from kmsg_console.operators.services import create_operator
from kmsg_console.providers import services as provider_services
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD
from tests.message_templates.conftest import provider_settings

pytestmark = pytest.mark.browser

COMMENT = "변수 #{invoice} 앞에 택배사 이름을 넣어 주세요."


def test_kakaos_comments_are_credited_to_kakao_and_age_with_the_review(
    live_console, page, simulator
):
    app = live_console.app
    with app.test_request_context():
        operator = create_operator("operator@example.com", PASSWORD, Role.OPERATOR)
        provider = provider_services.save_provider(
            None,
            vendor="aligo",
            code="aligo-main",
            name="Aligo",
            values=provider_settings(simulator, "aligo"),
            enabled=True,
            actor=None,
        )
        data = TemplateData(
            kind="ALIMTALK",
            name="배송 출발",
            content="주문하신 상품이 출발했습니다. 송장번호: #{invoice}",
            category="SHIPPING",
        )
        template = services.create_template(data, provider, actor=operator)
        services.register_template(template, actor=operator)
        services.request_inspection(template, actor=operator)
        db.session.commit()
        template_id, code, operator_id = template.id, template.vendor_code, operator.id
    simulator.control.reject_template("aligo_kakao", code, COMMENT)
    sign_in(page, live_console, "operator@example.com")
    page.goto(live_console.url(f"/templates/{template_id}"))
    page.click("li[data-action=sync] button")
    page.wait_for_load_state("networkidle")
    current = page.locator("#review-comments .review-current li")
    assert current.count() == 1
    assert COMMENT in current.inner_text() and "Kakao (Aligo)" in current.inner_text()
    comment_row = page.locator("#template-history tr[data-kind=comment]")
    assert comment_row.locator("td").last.inner_text() == "Kakao (Aligo)"
    screenshot(page, "template_review_rejected_by_kakao")

    with app.test_request_context():
        operator = db.session.get(Operator, operator_id)
        template = db.session.get(MessageTemplate, template_id)
        fixed = services.template_data(template, content=template.content + " 감사합니다.")
        services.update_template(template, fixed, template.provider, actor=operator)
        services.request_inspection(template, actor=operator)
        db.session.commit()
    simulator.control.approve_template("aligo_kakao", code)
    with app.test_request_context():
        sync.sync_template(db.session.get(MessageTemplate, template_id))
        db.session.commit()
    page.goto(live_console.url(f"/templates/{template_id}"))
    assert page.locator("h1 [data-status]").get_attribute("data-status") == "approved"
    assert page.locator("#review-comments .review-current").count() == 0
    earlier = page.locator("#review-comments .review-earlier li")
    assert earlier.count() == 1 and COMMENT in earlier.inner_text()
    screenshot(page, "template_review_approved_after_rejection")
    assert page.js_errors == []
