"""An operator composes a Korean SMS in a real browser, watches the counter, previews and sends."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.operators.services import create_operator
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.sandbox import sandbox_clear, sandbox_outbox, script_sandbox
from kmsg_console.sending.models import MessageLog
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

COUNTER = "#byte-counter .counter-line"


@pytest.fixture
def operator_console(live_console, page):
    sandbox_clear()
    with live_console.app.app_context():
        create_operator("operator@example.com", PASSWORD, Role.OPERATOR)
        provider_services.ensure_sandbox_provider()
        db.session.commit()
    sign_in(page, live_console, "operator@example.com")
    yield live_console
    sandbox_clear()


def _wait_for_bytes(page, count: int) -> None:
    page.wait_for_selector(f'{COUNTER}[data-bytes="{count}"]', timeout=5000)


def test_operator_types_previews_and_sends_a_korean_sms(operator_console, page):
    live = operator_console
    page.goto(live.url("/send"))
    assert page.locator(COUNTER).get_attribute("data-bytes") == "0"
    page.fill("input[name=to]", "010-1234-5678")
    text = page.locator("textarea[name=text]")
    text.press_sequentially("안녕하세요 kmsg", delay=20)
    _wait_for_bytes(page, 15)  # 5 Hangul × 2 + 5 ASCII
    assert page.locator("#byte-counter .type-badge").get_attribute("data-type") == "SMS"
    assert page.locator(COUNTER).get_attribute("data-limit") == "90"
    screenshot(page, "send_compose_sms")

    text.press_sequentially(" 배송이 시작되었습니다" * 4, delay=5)  # 4 × 22 bytes more: 103
    _wait_for_bytes(page, 103)
    assert page.locator("#byte-counter .type-badge").get_attribute("data-type") == "LMS"
    assert page.locator(COUNTER).get_attribute("data-limit") == "2000"
    page.fill("input[name=subject]", "배송 안내")
    page.locator("input[name=subject]").press("End")
    page.wait_for_selector("#byte-counter .counter-subject", timeout=5000)
    screenshot(page, "send_compose_lms")

    page.click("form.send-form button[type=submit]")
    page.wait_for_url("**/send/preview")
    assert page.locator(".send-preview .type-badge").get_attribute("data-type") == "LMS"
    assert page.locator("ol.route-chain li").first.get_attribute("data-provider") == "sandbox"
    assert page.locator("pre.message-text").inner_text().startswith("안녕하세요 kmsg 배송이")
    screenshot(page, "send_preview")

    page.click(".send-preview button.primary")
    page.wait_for_url("**/send-logs/*")
    assert page.locator(".flash-success").count() == 1
    [delivery] = sandbox_outbox("sandbox")
    assert delivery.type.value == "LMS" and delivery.subject == "배송 안내"
    screenshot(page, "send_result_detail")
    assert page.js_errors == []


def test_edit_from_the_preview_keeps_the_text(operator_console, page):
    live = operator_console
    page.goto(live.url("/send"))
    page.fill("input[name=to]", "01012345678")
    page.fill("textarea[name=text]", "첫 줄\n둘째 줄")
    page.click("form.send-form button[type=submit]")
    page.wait_for_url("**/send/preview")
    page.click(".send-preview button[formaction]")
    page.wait_for_url("**/send/edit")
    assert page.locator("textarea[name=text]").input_value() == "첫 줄\n둘째 줄"
    assert page.locator(COUNTER).get_attribute("data-bytes") == "13"
    assert page.js_errors == []


def test_invalid_number_and_a_scripted_failure(operator_console, page):
    live = operator_console
    page.goto(live.url("/send"))
    page.fill("input[name=to]", "02-123-4567")
    page.fill("textarea[name=text]", "테스트 😀")
    _wait_for_bytes(page, 9)
    assert page.locator("#byte-counter .counter-notes li.warn").count() == 1  # the emoji warning
    page.click("form.send-form button[type=submit]")
    assert page.locator(".field.has-error input[name=to]").count() == 1
    assert page.locator("textarea[name=text]").input_value() == "테스트 😀"
    screenshot(page, "send_compose_errors")

    script_sandbox("sandbox", ["fail:INSUFFICIENT_BALANCE:519:200"])
    page.fill("input[name=to]", "010-9876-5432")
    page.click("form.send-form button[type=submit]")
    page.wait_for_url("**/send/preview")
    page.click(".send-preview button.primary")
    page.wait_for_url("**/send-logs/*")
    assert page.locator(".flash-error").count() == 1
    # The refusal is named by its label in the operator's language, not by the raw code.
    assert "잔액 부족" in page.locator(".flash-error").inner_text()
    screenshot(page, "send_result_failed")
    # Chromium logs the 422 answer of the refused preview as a console error; nothing else.
    assert [e for e in page.js_errors if "status of 422" not in e] == []


def test_an_over_length_lms_is_explained_once_before_and_after_typing(operator_console, page):
    live = operator_console
    page.goto(live.url("/send"))
    page.fill("input[name=to]", "010-1234-5678")
    page.fill("textarea[name=text]", "가" * 1001)
    _wait_for_bytes(page, 2002)
    page.select_option("select[name=type]", "LMS")
    page.wait_for_selector("#byte-counter .muted:has-text('직접 선택함')")  # "chosen by you"
    page.click("form.send-form button[type=submit]")
    page.wait_for_selector(".field.has-error textarea[name=text]")
    errors = page.locator(".send-form .error:visible")
    assert errors.count() == 1
    assert errors.first.inner_text() == "LMS 본문이 2002바이트입니다. 한도는 2000바이트입니다."
    screenshot(page, "send_lms_too_long")

    page.locator("textarea[name=text]").press("Control+End")
    page.locator("textarea[name=text]").press_sequentially("a")
    _wait_for_bytes(page, 2003)
    assert errors.count() == 1  # the live counter's note, not the submitted text's refusal
    assert page.locator("#text-errors .error").count() == 0
    assert "2000" in page.locator("#byte-counter .counter-notes .error").inner_text()
    screenshot(page, "send_lms_too_long_typing")
    assert [e for e in page.js_errors if "status of 422" not in e] == []


def test_a_second_submit_while_the_provider_is_slow_sends_nothing_more(operator_console, page):
    live = operator_console
    script_sandbox("sandbox", ["delay:1500", "ok"])
    page.goto(live.url("/send"))
    page.fill("input[name=to]", "010-1234-5678")
    page.fill("textarea[name=text]", "한 번만")
    page.click("form.send-form button[type=submit]")
    page.wait_for_url("**/send/preview")
    # Click "Send now", then submit again 300 ms later while the slow provider still holds
    # the first request: what an impatient second click does if nothing stops it.
    page.evaluate("""() => {
        const form = document.querySelector('.send-preview form');
        form.querySelector('button.primary').click();
        setTimeout(() => form.requestSubmit(), 300);
    }""")
    page.wait_for_url("**/send-logs/*")
    page.wait_for_timeout(2000)  # let any second request finish on the server
    with live.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MessageLog)) == 1
    assert len(sandbox_outbox("sandbox")) == 1
