"""An admin registers and verifies a sender number; a console send from it goes out and one
from an unregistered number is refused under the sender field (real Chromium, Korean)."""

from __future__ import annotations

import pytest

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.operators.services import create_operator
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.sandbox import sandbox_clear, sandbox_outbox
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def admin_console(live_console, page):
    sandbox_clear()
    with live_console.app.app_context():
        create_operator("admin@example.com", PASSWORD, Role.ADMIN)
        provider_services.ensure_sandbox_provider()
        db.session.commit()
    sign_in(page, live_console, "admin@example.com")
    yield live_console
    sandbox_clear()


def _preview(page, live, sender: str) -> None:
    page.goto(live.url("/send"))
    page.fill("input[name=to]", "010-2345-6789")
    page.fill("textarea[name=text]", "[상점] 주문이 접수되었습니다.")
    page.fill("input[name=sender]", sender)
    page.click("form.send-form button[type=submit]")
    page.wait_for_url("**/send/preview")
    page.wait_for_load_state("networkidle")


def test_admin_registers_verifies_and_sends_from_a_sender_number(admin_console, page):
    live = admin_console
    page.goto(live.url("/sender-numbers"))
    # The sandbox's default sender, registered at installation.
    assert page.locator("#sender-numbers").inner_text().count("02-1234-5678") == 1
    page.fill("input[name='new-number']", "02-3456-7890")
    page.fill("input[name='new-label']", "고객센터")
    page.check("#add-sender-number input[value=sandbox]")
    page.click("#add-sender-number button[type=submit]")
    page.wait_for_url("**/sender-numbers")
    row = page.locator("#sender-numbers tr", has_text="02-3456-7890")
    assert "대기" in row.locator(".badge").first.inner_text()
    screenshot(page, "sender_numbers_list")

    row.get_by_role("link").click()
    page.wait_for_url("**/sender-numbers/*")
    screenshot(page, "sender_numbers_edit")
    page.click("#sender-status button[value=verified]")
    page.wait_for_url("**/sender-numbers")
    row = page.locator("#sender-numbers tr", has_text="02-3456-7890")
    assert "인증됨" in row.inner_text() and "admin@example.com" in row.inner_text()
    screenshot(page, "sender_numbers_verified")

    _preview(page, live, "02-3456-7890")
    page.click(".send-preview button.primary")
    page.wait_for_url("**/send-logs/*")
    assert page.locator(".flash-success").count() == 1
    [delivery] = sandbox_outbox("sandbox")
    assert delivery.to == "01023456789"

    # Refused at the preview already: the form comes back with the reason under the sender.
    _preview(page, live, "02-9999-8888")
    assert page.locator(".send-preview").count() == 0
    error = page.locator(".field.has-error", has=page.locator("input[name=sender]"))
    assert "02-9999-8888은(는) sandbox에 인증된 발신번호가 아닙니다" in error.inner_text()
    screenshot(page, "send_unregistered_sender")
    assert len(sandbox_outbox("sandbox")) == 1
    # The refused form answers 422, which Chromium reports as a failed load; nothing else.
    assert [e for e in page.js_errors if "422" not in e] == []
