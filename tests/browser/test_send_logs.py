"""A real browser investigates: filters with htmx, searches a number, drills down, retries, reads the report."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from kmsg_console import sending
from kmsg_console.extensions import db
from kmsg_console.messaging.phone import mask_phone
from kmsg_console.operators.models import Role
from kmsg_console.operators.services import create_operator
from kmsg_console.orm import utcnow
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.sandbox import sandbox_clear, script_sandbox
from kmsg_console.providers.models import Provider
from kmsg_console.sending.models import MessageAttempt, MessageLog, MessageSource
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
PHONE = "01055557777"


def _seed(app) -> dict[str, str]:
    sandbox_clear()
    ids = {}
    with app.test_request_context():
        create_operator("ops@example.com", PASSWORD, Role.OPERATOR)
        provider_services.ensure_sandbox_provider()
        db.session.add(
            Provider(
                code="iwinv-main",
                name="IWINV",
                vendor="iwinv",
                enabled=False,
                settings={},
                secrets={},
            )
        )
        db.session.commit()
        for text in ("[샵] 주문 접수", "[샵] 배송 시작"):
            sending.send(
                sending.SendRequest(to="010-1111-2222", text=text), source=MessageSource.API
            )
        script_sandbox("sandbox", ["fail:PROVIDER_ERROR"])
        ids["retryable"] = sending.send(
            sending.SendRequest(to=PHONE, text="[샵] 결제 완료"), source=MessageSource.API
        ).log.public_id
        # An IWINV refusal from an unregistered server IP, written as the send engine stores one.
        keyring, public_id, now = (
            app.config["KEYRING"],
            str(uuid.uuid4()),
            utcnow() - timedelta(minutes=3),
        )
        log = MessageLog(
            public_id=public_id,
            created_at=now,
            status="FAILED",
            source="api",
            type="SMS",
            provider_code="iwinv-main",
            to_hash=keyring.lookup_hash("01033334444", "phone"),
            to_enc=keyring.encrypt("01033334444", f"message:{public_id}:to"),
            to_masked=mask_phone("01033334444"),
            error_code="AUTHENTICATION_FAILED",
            vendor_code="206",
            vendor_text="unregistered IP",
            attempt_count=1,
        )
        log.attempts.append(
            MessageAttempt(
                number=1,
                trigger="initial",
                provider_code="iwinv-main",
                started_at=now,
                finished_at=now,
                latency_ms=85,
                outcome="failed",
                vendor_code="206",
                error_code="AUTHENTICATION_FAILED",
                vendor_text="unregistered IP",
            )
        )
        db.session.add(log)
        db.session.commit()
        ids["iwinv"] = public_id
    return ids


def test_operator_investigates_and_retries_in_the_browser(live_console, page):
    ids = _seed(live_console.app)
    sign_in(page, live_console, "ops@example.com")
    page.goto(live_console.url("/send-logs"))
    assert page.locator("#results tbody tr").count() == 4
    screenshot(page, "send_logs_list")

    page.select_option("select[name=status]", "FAILED")
    page.wait_for_url("**status=FAILED**")
    assert page.locator("#results tbody tr").count() == 2
    assert page.locator("h1").count() == 1  # the fragment replaced only the results

    page.fill("input[name=phone]", "010-5555-7777")
    page.press("input[name=phone]", "Enter")
    page.wait_for_url("**recipient=**")
    assert "5555-7777" not in page.url and "55557777" not in page.url
    assert page.locator("#results tbody tr").count() == 1
    screenshot(page, "send_logs_phone_search")

    page.goto(live_console.url(f"/send-logs/{ids['iwinv']}"))
    assert "IP" in page.locator(".vendor-explanation").first.inner_text()
    screenshot(page, "send_logs_detail_iwinv")

    page.goto(live_console.url(f"/send-logs/{ids['retryable']}"))
    assert page.locator(".page-head [data-status]").get_attribute("data-status") == "FAILED"
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("form[action$='/retry'] button")
    page.wait_for_load_state("networkidle")
    assert page.locator(".page-head [data-status]").get_attribute("data-status") == "SENT"
    assert page.locator("#attempt-2").count() == 1 and page.locator(".flash-success").count() == 1
    screenshot(page, "send_logs_detail_retried")

    page.goto(live_console.url("/send-logs"))
    page.select_option("select[name=attempted]", "iwinv-main")
    page.wait_for_url("**attempted=iwinv-main**")
    assert page.locator("#results tbody tr").count() == 1  # only the IWINV refusal went there
    screenshot(page, "send_logs_tried_at")

    page.goto(live_console.url("/send-logs/failures"))
    assert (
        page.locator("table.heatmap tbody tr").count() == 1
    )  # the IWINV failure; the retried one is sent now
    assert page.locator("table.vendor-codes tbody tr").count() == 1
    page.select_option("select[name=period]", "7d")
    page.wait_for_url("**period=7d**")
    assert page.locator("table.heatmap thead th.num").count() == 8  # seven days and the total
    screenshot(page, "send_logs_failures")
    assert page.js_errors == []
    sandbox_clear()
