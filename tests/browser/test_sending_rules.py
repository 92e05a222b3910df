"""Sending rules in a real browser: an admin sets the duplicate-send window (console-wide and
for a provider), an operator's second identical send is refused on the form, and an operator
syncs SOLAPI's block list into the opt-out list."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.operators.services import create_operator
from kmsg_console.opt_outs.models import OptOut
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.sandbox import sandbox_clear, sandbox_outbox
from kmsg_console.providers.models import Provider
from kmsg_console.sending.models import MessageLog
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def console_with_sandbox(live_console):
    sandbox_clear()
    with live_console.app.app_context():
        create_operator("admin@example.com", PASSWORD, Role.ADMIN)
        create_operator("operator@example.com", PASSWORD, Role.OPERATOR)
        provider_services.ensure_sandbox_provider()
        db.session.commit()
    yield live_console
    sandbox_clear()


def _preview(page, live, text: str) -> None:
    page.goto(live.url("/send"))
    page.fill("input[name=to]", "010-1234-5678")
    page.fill("textarea[name=text]", text)
    page.click("form.send-form button[type=submit]")
    page.wait_for_url("**/send/preview")


def _send(page, live, text: str) -> None:
    _preview(page, live, text)
    page.click(".send-preview button.primary")
    page.wait_for_load_state("networkidle")


def test_a_duplicate_is_refused_after_an_admin_turns_the_window_on(
    console_with_sandbox, page, chromium_browser
):
    live = console_with_sandbox
    sign_in(page, live, "admin@example.com")
    page.goto(live.url("/settings/sending"))
    assert page.locator("h1").inner_text() == "발송 규칙"
    page.fill("input[name=duplicate_window]", "61")
    page.click("form.form button[type=submit]")
    assert page.locator(".field.has-error input[name=duplicate_window]").count() == 1
    page.fill("input[name=duplicate_window]", "10")
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/settings/sending")
    assert page.locator(".flash-success").count() == 1
    assert page.locator("input[name=duplicate_window]").input_value() == "10"
    screenshot(page, "settings_sending_rules")

    with live.app.app_context():
        provider_id = db.session.scalar(sa.select(Provider.id).where(Provider.code == "sandbox"))
    page.goto(live.url(f"/providers/{provider_id}/edit"))
    assert page.locator("input[name=duplicate_window]").input_value() == ""
    screenshot(page, "provider_form_duplicate_window")

    operator = chromium_browser.new_context(locale="ko-KR", viewport={"width": 1366, "height": 900})
    second = operator.new_page()
    errors: list[str] = []
    second.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    sign_in(second, live, "operator@example.com")
    _send(second, live, "[샵] 주문이 접수되었습니다.")
    second.wait_for_url("**/send-logs/*")
    # The preview runs the sending rules: the duplicate is refused before it can be confirmed.
    _preview(second, live, "[샵] 주문이 접수되었습니다.")
    assert second.locator(".send-preview button.primary").count() == 0
    error = second.locator(".form-error")
    assert error.count() == 1 and "중복 발송 차단 시간" in error.inner_text()
    screenshot(second, "send_duplicate_refused")
    operator.close()
    assert len(sandbox_outbox("sandbox")) == 1
    with live.app.app_context():
        codes = db.session.scalars(sa.select(MessageLog.error_code).order_by(MessageLog.id)).all()
        assert codes == [None]  # refused at the preview: nothing was written or sent
    # Chromium logs the 422 answer of the refused send as a console error; nothing else.
    assert [e for e in errors if "status of 422" not in e] == []
    assert [e for e in page.js_errors if "status of 422" not in e] == []


def test_an_operator_syncs_solapis_block_list(live_console, page, simulator):
    with live_console.app.test_request_context():
        create_operator("operator@example.com", PASSWORD, Role.OPERATOR)
        provider_services.save_provider(
            None,
            vendor="solapi",
            code="solapi-main",
            name="SOLAPI 메인",
            values={
                "api_key": "demo-api-key",
                "api_secret": "demo-api-secret",
                "base_url": simulator.url("solapi"),
            },
            enabled=True,
            actor=None,
        )
        db.session.commit()
    group = simulator.control.add_block_group(name="080-123-4567 광고 수신거부")
    simulator.control.add_block_number("010-1111-2222", [group["blockGroupId"]])
    simulator.control.add_block_number("010-3333-4444", [])
    sign_in(page, live_console, "operator@example.com")
    page.goto(live_console.url("/opt-outs"))
    sync = page.locator("#sync-opt-outs")
    assert "발송사에서 동기화" in sync.locator("h2").inner_text()
    screenshot(page, "opt_outs_sync_form")
    sync.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "2건 추가" in page.locator(".flash-success").inner_text()
    table = page.locator("#results").inner_text()
    assert "010-****-2222" in table and "080-123-4567" in table and "발송사 동기화" in table
    screenshot(page, "opt_outs_synced")
    with live_console.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OptOut)) == 2
    assert page.js_errors == []
