"""In Chromium: the dashboard after real sends through the sandbox, some of them failing."""

from __future__ import annotations

import pytest

from kmsg_console import sending
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.operators.services import create_operator
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.sandbox import sandbox_clear, script_sandbox
from kmsg_console.sending.models import MessageSource
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_dashboard_shows_todays_sends_and_failures(live_console, page):
    sandbox_clear()
    with live_console.app.test_request_context():
        create_operator("viewer@example.com", PASSWORD, Role.VIEWER)
        provider_services.ensure_sandbox_provider()
        db.session.commit()
        script_sandbox(
            "sandbox", ["ok", "ok", "fail:INSUFFICIENT_BALANCE", "ok", "fail:NETWORK_ERROR"]
        )
        for n in range(5):
            sending.send(
                sending.SendRequest(to="010-1234-5678", text=f"[샵] 주문 {n}번 접수"),
                source=MessageSource.API,
            )
    sign_in(page, live_console, "viewer@example.com")
    page.goto(live_console.url("/"))
    assert page.locator("#today [data-figure=total]").inner_text() == "5"
    assert page.locator("#today [data-figure=failed]").inner_text() == "2"
    assert page.locator("svg.bar-chart rect.seg-failed").count() == 1
    assert page.locator("#top-errors code").all_inner_texts() == [
        "INSUFFICIENT_BALANCE",
        "NETWORK_ERROR",
    ]
    assert page.locator("#provider-health tr[data-provider=sandbox]").count() == 1
    screenshot(page, "dashboard")
    page.locator("#today [data-figure=failed]").click()
    page.wait_for_load_state("networkidle")
    assert "/send-logs" in page.url and "status=FAILED" in page.url
    assert page.locator("[data-status=FAILED]").count() >= 2

    # The provider's failure count opens the messages whose attempt there was not accepted.
    page.goto(live_console.url("/"))
    failures = page.locator("#provider-health tr[data-provider=sandbox] [data-figure=not-accepted]")
    assert failures.inner_text() == "2"
    failures.click()
    page.wait_for_url("**attempt_outcome=not_accepted**")
    assert page.locator("select[name=attempted]").input_value() == "sandbox"
    assert page.locator("select[name=attempt_outcome]").input_value() == "not_accepted"
    assert page.locator("#results tbody tr").count() == 2
    screenshot(page, "send_logs_not_accepted_at_provider")
    assert page.js_errors == []
