"""In Chromium: a message's tracking card and "check status now", the provider's delivery
settings and the retention page (screenshots in test-artifacts/screenshots/worker_*)."""

from __future__ import annotations

import pytest

from kmsg_console import sending
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.operators.services import create_operator
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.sandbox import sandbox_clear
from kmsg_console.sending.models import MessageSource
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_operator_checks_a_status_and_admin_edits_settings_in_the_browser(live_console, page):
    sandbox_clear()
    with live_console.app.app_context():
        create_operator("admin@example.com", PASSWORD, Role.ADMIN)
        provider = provider_services.ensure_sandbox_provider()
        db.session.commit()
        provider_id = provider.id
        message = sending.send(
            sending.SendRequest(to="01012345678", text="배송 안내"), source=MessageSource.API
        ).log.public_id
    sign_in(page, live_console, "admin@example.com")

    page.goto(live_console.url(f"/send-logs/{message}"))
    card = page.locator("#tracking")
    assert "전송 결과 추적" in card.inner_text()
    screenshot(page, "worker_message_tracking")
    card.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#tracking button[type=submit]").count() == 0  # final now: nothing to check
    assert page.locator(".page-head [data-status=DELIVERED]").count() == 1
    screenshot(page, "worker_message_checked")

    page.goto(live_console.url(f"/providers/{provider_id}/delivery"))
    page.check("input[name=generate_secret]")
    page.click("form.card button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator(".issued-key code").inner_text().strip()
    screenshot(page, "worker_provider_delivery")

    page.goto(live_console.url("/settings/retention"))
    page.fill("input[name=otp]", "9")
    page.click("form.card button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("#retention-otp .error").count() == 1
    screenshot(page, "worker_retention")
    assert [
        e for e in page.js_errors if "status of 422" not in e
    ] == []  # the refused form is expected
    sandbox_clear()
