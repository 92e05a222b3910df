"""Acceptance: write an AlimTalk template, preview it, register it, get it rejected with a
comment, fix and resubmit it, get it approved and send an AlimTalk with it (sandbox route)."""

from __future__ import annotations

import pytest

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.operators.services import create_operator
from kmsg_console.providers.services import ensure_sandbox_provider
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

CONTENT = "[#{brand}] 주문하신 상품이 출발했습니다.\n송장번호: #{invoice}"


def _status(page) -> str:
    return page.locator("h1 [data-status]").get_attribute("data-status")


def test_template_from_draft_to_an_alimtalk_send(live_console, page):
    with live_console.app.app_context():
        create_operator("operator@example.com", PASSWORD, Role.OPERATOR)
        ensure_sandbox_provider()
        db.session.commit()
    sign_in(page, live_console, "operator@example.com")

    # Write it; the bubble preview follows the typing with the sample values.
    page.goto(live_console.url("/templates/new"))
    page.select_option("select[name=provider]", "sandbox")
    page.fill("input[name=name]", "배송 출발 안내")
    page.select_option("select[name=category]", "SHIPPING")
    page.fill("textarea[name=samples]", "brand=케이샵\ninvoice=6012-3456-7890")
    page.fill("textarea[name=content]", CONTENT)
    page.select_option("select[name='buttons-0-type']", "DS")
    page.fill("input[name='buttons-0-name']", "배송 조회")
    bubble = page.locator("#template-preview .kakao-bubble")
    page.locator("#template-preview .kakao-button", has_text="배송 조회").wait_for()
    assert bubble.locator("mark.kakao-var", has_text="6012-3456-7890").count() == 1
    assert "[케이샵] 주문하신 상품이 출발했습니다." in bubble.inner_text()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "templates_new_preview")
    page.click("form.template-form button[type=submit]")
    page.wait_for_url("**/templates/1")
    assert _status(page) == "draft"

    # Register, submit for review, and have the (sandbox) reviewer reject it with a comment.
    page.click("li[data-action=register] button")
    page.wait_for_load_state("networkidle")
    assert _status(page) == "registered" and page.locator("#vendor-code").inner_text().startswith(
        "SBX"
    )
    page.click("li[data-action=request_inspection] button")
    page.wait_for_load_state("networkidle")
    assert _status(page) == "inspecting"
    assert page.locator("li[data-action=edit] .why-not").count() == 1  # no edits while under review
    page.fill("textarea[name=comment]", "송장번호 변수 앞에 택배사 이름을 넣어 주세요.")
    page.click("button[name=reject]")
    page.wait_for_load_state("networkidle")
    assert _status(page) == "rejected"
    assert "택배사 이름을 넣어 주세요" in page.locator("#review-comments").inner_text()
    assert page.locator("#test-send .why-not").count() == 1  # cannot send a rejected template
    screenshot(page, "templates_rejected")

    # Fix it and resubmit: the edit puts it back under review; then it is approved.
    page.click("li[data-action=edit] a")
    page.wait_for_url("**/templates/1/edit")
    page.fill("textarea[name=content]", CONTENT.replace("송장번호:", "#{carrier} 송장번호:"))
    page.fill("textarea[name=samples]", "brand=케이샵\ncarrier=한진택배\ninvoice=6012-3456-7890")
    page.locator("#template-preview mark.kakao-var", has_text="한진택배").wait_for()
    page.click("form.template-form button[type=submit]")
    page.wait_for_url("**/templates/1")
    assert _status(page) == "inspecting"
    page.click("button[name=approve]")
    page.wait_for_load_state("networkidle")
    assert _status(page) == "approved"
    history = page.locator("#template-history tbody tr")
    assert history.count() >= 7
    assert page.locator("#template-last-send").inner_text() == "없음"  # "never"
    # A screenshot leaves style="" on inputs; htmx's settle step no longer copies it.
    screenshot(page, "templates_approved")

    # Send an AlimTalk with it through the sandbox route, then open its send log.
    page.fill("#test-send input[name=to]", "010-2345-6789")
    page.fill("#test-send input[name=var_0]", "케이샵")
    page.fill("#test-send input[name=var_1]", "한진택배")
    page.click("#test-send button[type=submit]")
    page.locator("#test-send p.error").wait_for()  # invoice was left empty: refused, nothing sent
    assert page.locator("#test-send-result").count() == 0
    page.fill("#test-send input[name=var_2]", "6012-3456-7890")
    page.click("#test-send button[type=submit]")
    result = page.locator("#test-send-result")
    result.wait_for()
    assert (
        page.locator("#template-history tr[data-kind=test_send]").count() == 1
    )  # swapped out of band
    assert (
        page.locator("#test-send input[name=to]").input_value() == ""
    )  # a fresh form for the next one
    last_sent = page.locator("#template-last-send a")  # swapped out of band, no reload
    assert last_sent.get_attribute("href") == result.locator("a").get_attribute("href")
    screenshot(page, "templates_test_sent")
    result.locator("a").click()
    page.wait_for_url("**/send-logs/**")
    assert "ALIMTALK" in page.content()
    screenshot(page, "templates_send_log")
    # The refused test send answered 422 on purpose; nothing else may have gone wrong.
    errors = [e for e in page.js_errors if "status of 422" not in e]
    assert errors == [], errors


def test_template_list_with_counts_and_filters(live_console, page):
    with live_console.app.app_context():
        create_operator("viewer@example.com", PASSWORD, Role.VIEWER)
        provider = ensure_sandbox_provider()
        from kmsg_console.message_templates import services
        from kmsg_console.message_templates.validation import TemplateData

        for name, kind in (
            ("가입 환영", "ALIMTALK"),
            ("주문 접수", "ALIMTALK"),
            ("SMS 인증", "SMS"),
        ):
            content = "[KMSG] 인증번호 #{code}" if kind == "SMS" else "#{name}님 환영합니다."
            template = services.create_template(
                TemplateData(kind=kind, name=name, content=content),
                provider if kind == "ALIMTALK" else None,
                actor=None,
            )
            if name == "주문 접수":
                services.register_template(template, actor=None)
        db.session.commit()
    sign_in(page, live_console, "viewer@example.com")
    page.goto(live_console.url("/templates"))
    assert page.locator("#templates tbody tr").count() == 3
    assert page.locator("a[href$='/templates/new']").count() == 0  # viewers read only
    page.select_option("select[name=status]", "registered")
    page.wait_for_url("**status=registered**")
    assert page.locator("#templates tbody tr").count() == 1
    assert page.locator("h1").count() == 1
    screenshot(page, "templates_list")
    assert page.js_errors == []
