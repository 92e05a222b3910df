"""Advertising in a real browser: the console adds the label and opt-out line and sends the
advertisement; an opted-out number's advertisement is refused and explained in the send log."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from kmsg_console.advertising import services as ad_settings
from kmsg_console.api_keys.services import issue_key
from kmsg_console.extensions import db
from kmsg_console.messaging.advertising import KST
from kmsg_console.operators.models import Role
from kmsg_console.operators.services import create_operator
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.sandbox import sandbox_clear, sandbox_outbox
from kmsg_console.sending import rules
from kmsg_console.sending.models import MessageLog
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

AD_TEXT = "(광고) 케이샵\n겨울 세일 30%\n무료수신거부 080-123-4567"


@pytest.fixture
def ad_console(live_console, page, monkeypatch):
    """An operator signed in, the sandbox provider, advertising settings; noon in Korea."""
    monkeypatch.setattr(rules, "clock", lambda: datetime(2026, 12, 8, 12, 0, tzinfo=KST))
    sandbox_clear()
    with live_console.app.test_request_context():
        create_operator("operator@example.com", PASSWORD, Role.OPERATOR)
        provider_services.ensure_sandbox_provider()
        ad_settings.save("케이샵", "080-123-4567", actor=None)
        db.session.commit()
    sign_in(page, live_console, "operator@example.com")
    yield live_console
    sandbox_clear()


def _logs(app) -> list[MessageLog]:
    with app.app_context():
        return list(db.session.scalars(sa.select(MessageLog)))


def test_the_console_adds_the_label_and_opt_out_line_and_sends_the_ad(ad_console, page):
    live = ad_console
    page.goto(live.url("/send"))
    page.fill("input[name=to]", "010-1234-5678")
    page.fill("textarea[name=text]", "겨울 세일 30%, 오늘까지")
    assert page.locator("#ad-panel .notice").count() == 0
    page.check("input[name=ad]")
    page.wait_for_selector("#ad-panel .notice", timeout=5000)
    assert "08:00–21:00" in page.locator("#ad-panel").inner_text()
    assert page.locator("#ad-quiet-now").count() == 0
    screenshot(page, "advertising_compose_switch")

    page.click("#add-ad-label")
    page.wait_for_selector("#ad-missing.ok", timeout=5000)
    text = page.locator("textarea[name=text]").input_value()
    assert text == "(광고) 케이샵\n겨울 세일 30%, 오늘까지\n무료수신거부 080-123-4567"
    assert page.locator("input[name=ad]").is_checked()
    # 62 bytes of text and footer: still an SMS, counted with the label and the footer.
    counter = page.locator("#byte-counter .counter-line")
    assert int(counter.get_attribute("data-bytes")) > 60
    screenshot(page, "advertising_compose_labelled")

    page.click("form.send-form button.primary")
    page.wait_for_url("**/send/preview")
    assert page.locator("#preview-ad").is_visible()
    screenshot(page, "advertising_preview")
    page.click("text=지금 보내기")
    page.wait_for_url("**/send-logs/*")
    assert page.locator("#ad-badge").is_visible()
    screenshot(page, "advertising_sent")
    [log] = _logs(live.app)
    assert log.is_ad and log.status in {"SENT", "DELIVERED", "PENDING"}
    [delivered] = sandbox_outbox()
    assert delivered.text == text
    assert page.js_errors == []


def test_an_opted_out_number_is_refused_and_explained_in_the_send_log(ad_console, page):
    live = ad_console
    page.goto(live.url("/opt-outs"))
    page.fill("#add-opt-out input[name=new-phone]", "010-2222-3333")
    page.click("#add-opt-out button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "010-****-3333" in page.locator("#results").inner_text()

    # The console's preview already refuses it, on the recipient field.
    page.goto(live.url("/send"))
    page.fill("input[name=to]", "+82 10-2222-3333")
    page.check("input[name=ad]")
    page.wait_for_selector("#ad-panel .notice", timeout=5000)
    page.fill("textarea[name=text]", AD_TEXT)
    page.click("form.send-form button.primary")
    page.wait_for_selector(".field.has-error", timeout=5000)
    assert "광고 수신을 거부" in page.locator(".field.has-error").first.inner_text()
    screenshot(page, "advertising_preview_opted_out")

    # An application sends it anyway: refused, logged, explained.
    with live.app.test_request_context():
        key = issue_key("shop", ["send"], actor_label="test").plaintext
        db.session.commit()
    answer = page.request.post(
        live.url("/api/v1/messages"),
        headers={"Authorization": f"Bearer {key}"},
        data={"to": "01022223333", "ad": True, "text": AD_TEXT},
    )
    assert answer.status == 422
    message_id = answer.json()["error"]["message_id"]
    assert sandbox_outbox() == []

    page.goto(live.url("/send-logs?error_code=recipient_opted_out"))
    row = page.locator(f"#message-{message_id}")
    assert row.is_visible() and "recipient_opted_out" in row.inner_text()
    screenshot(page, "advertising_send_log_refused")
    row.locator("a").first.click()
    page.wait_for_url(f"**/send-logs/{message_id}")
    explanation = page.locator("#error").inner_text()
    assert "수신거부한 수신자" in explanation and "수신거부 목록에서" in explanation
    assert "모든 광고를 수신거부했습니다" in page.locator("ol.timeline").inner_text()
    screenshot(page, "advertising_refused_message")
    page.goto(live.url("/send-logs/failures"))
    group = page.locator('tr[data-group^="recipient_opted_out/"]')
    assert "수신거부한 수신자" in group.inner_text() and "조치 방법" in group.inner_text()
    screenshot(page, "advertising_failure_report")
    # The refused preview answered 422, which Chromium reports; no script failed.
    assert [e for e in page.js_errors if "status of 422" not in e] == []


def test_an_admin_sets_the_sender_name_and_080_number(live_console, page):
    with live_console.app.app_context():
        create_operator("admin@example.com", PASSWORD, Role.ADMIN)
        db.session.commit()
    sign_in(page, live_console, "admin@example.com")
    page.goto(live_console.url("/settings/advertising"))
    page.fill("input[name=sender_name]", "케이샵")
    page.fill("input[name=opt_out_line]", "02-123-4567")
    page.click("#ad-settings button[type=submit]")
    page.wait_for_selector("#ad-settings .field.has-error", timeout=5000)
    screenshot(page, "advertising_settings_error")
    page.fill("input[name=opt_out_line]", "080 123 4567")
    page.click("#ad-settings button[type=submit]")
    page.wait_for_selector("#ad-preview", timeout=5000)
    assert "(광고) 케이샵" in page.locator("#ad-preview").inner_text()
    assert "무료수신거부 080-123-4567" in page.locator("#ad-preview").inner_text()
    screenshot(page, "advertising_settings")
    assert page.js_errors == [] or all("status of 422" in e for e in page.js_errors)
