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


def test_dashboard_alerts_panel_links_to_the_fixes(live_console, page, simulator):
    """Balance low, failure rate, the daily cap and a stopped worker, each with its fix."""
    from datetime import timedelta

    import sqlalchemy as sa

    from kmsg_console.alerts import services as alerts
    from kmsg_console.orm import utcnow
    from kmsg_console.worker import jobs
    from kmsg_console.worker.models import WorkerJob
    from tests.worker.conftest import PROVIDER_CONFIGS

    sandbox_clear()
    app = live_console.app
    with app.test_request_context():
        create_operator("admin@example.com", PASSWORD, Role.ADMIN)
        provider_services.ensure_sandbox_provider()
        solapi = provider_services.save_provider(
            None,
            vendor="solapi",
            code="solapi",
            name="SOLAPI 본계정",
            values=PROVIDER_CONFIGS["solapi"](simulator),
            enabled=True,
            actor=None,
        )
        alerts.set_balance_threshold(solapi, 10_000, actor=None, actor_label="test")
        alerts.save_settings(
            alerts.AlertSettings(
                failure_rate_percent=30,
                failure_window_minutes=15,
                failure_min_messages=5,
                daily_volume_cap=4,
                monthly_volume_cap=1000,
            ),
            actor=None,
            actor_label="test",
        )
        db.session.commit()
        script_sandbox("sandbox", ["ok", "ok", "fail:NETWORK_ERROR", "ok", "fail:NETWORK_ERROR"])
        for n in range(5):
            sending.send(
                sending.SendRequest(to="010-1234-5678", text=f"[샵] 주문 {n}번 접수"),
                source=MessageSource.API,
            )
        jobs.ensure_rows()
        db.session.execute(
            sa.update(WorkerJob)
            .where(WorkerJob.name == "delivery_tracking")
            .values(last_finished_at=utcnow() - timedelta(minutes=7))
        )
        db.session.commit()
    simulator.control.set_balance("solapi", 3_500)
    with app.app_context():
        alerts.run_balance_checks()
        alerts.run_checks()
        solapi_id = provider_services.get_by_code("solapi").id

    sign_in(page, live_console, "admin@example.com")
    page.goto(live_console.url("/"))
    panel = page.locator("#alerts")
    assert panel.locator("li[data-alert]").count() == 4
    assert "3500" in panel.locator("li[data-alert=balance_low]").inner_text()
    assert "5건 중 40.0%가 실패" in panel.locator("li[data-alert=failure_rate]").inner_text()
    assert "일일 한도 70%" in panel.locator("li[data-alert=cap]").inner_text()
    assert panel.locator("li[data-alert=worker_stopped]").count() == 1
    screenshot(page, "dashboard_alerts")
    panel.locator("li[data-alert=balance_low] a").click()
    page.wait_for_url(f"**/providers/{solapi_id}/edit")
    assert page.locator("input[name=balance_alert_below]").input_value() == "10000"
    screenshot(page, "provider_form_balance_alert")
    page.go_back()
    page.locator("#alerts li[data-alert=failure_rate] a").click()
    page.wait_for_url("**status=FAILED**")
    assert page.locator("[data-status=FAILED]").count() == 2
    page.goto(live_console.url("/"))
    page.locator("#alerts li[data-alert=cap] a").click()
    page.wait_for_url("**/settings/alerts")
    assert page.locator("input[name=daily_volume_cap]").input_value() == "4"
    screenshot(page, "alert_settings")
    assert page.js_errors == []
