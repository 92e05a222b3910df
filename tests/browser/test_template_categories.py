"""The template form offers the vendor's Kakao categories as a list once a provider is chosen,
and falls back to typing the code when the vendor cannot be read."""

from __future__ import annotations

import pytest

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.operators.services import create_operator
from kmsg_console.providers import services as provider_services
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD
from tests.message_templates.conftest import provider_settings

pytestmark = pytest.mark.browser

CATEGORIES = "/kakao/v2/templates/categories"


def test_the_category_is_picked_from_solapis_list_or_typed_when_it_is_unreachable(
    live_console, page, simulator
):
    with live_console.app.test_request_context():
        create_operator("operator@example.com", PASSWORD, Role.OPERATOR)
        provider_services.save_provider(
            None,
            vendor="solapi",
            code="solapi-main",
            name="SOLAPI 메인",
            values=provider_settings(simulator, "solapi"),
            enabled=True,
            actor=None,
        )
        db.session.commit()
    sign_in(page, live_console, "operator@example.com")
    page.goto(live_console.url("/templates/new"))
    assert page.locator("input#category_code").count() == 1  # no provider yet: typed

    page.select_option("select[name=provider]", "solapi-main")
    select = page.locator("select#category_code")
    select.wait_for()
    assert "배송 > 배송상태 (004001)" in select.locator("option").all_inner_texts()
    select.select_option("004001")
    page.fill("input[name=name]", "배송 시작")
    page.fill("textarea[name=content]", "#{name}님, 주문하신 상품이 출발했습니다.")
    page.select_option("select[name=category]", "SHIPPING")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "templates_category_list")
    page.click("form.template-form button[type=submit]")
    page.wait_for_url("**/templates/1")
    assert "004001" in page.locator("dl.facts").inner_text()

    simulator.control.inject("solapi", "status_5xx", path=CATEGORIES, count=None)
    page.goto(live_console.url("/templates/1/edit"))
    typed = page.locator("input#category_code")
    assert typed.input_value() == "004001"
    assert "SOLAPI 메인" in page.locator("#category-code-field .hint").inner_text()
    screenshot(page, "templates_category_unreachable")
    page.fill("input#category_code", "001002")
    page.click("form.template-form button[type=submit]")
    page.wait_for_url("**/templates/1")
    assert "001002" in page.locator("dl.facts").inner_text()
    assert page.js_errors == []
