"""A real browser reads an AlimTalk the console rescued with its own SMS: report, list, page."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from kmsg_console.extensions import db
from kmsg_console.messaging.phone import mask_phone
from kmsg_console.operators.models import Role
from kmsg_console.operators.services import create_operator
from kmsg_console.orm import utcnow
from kmsg_console.providers.models import Provider
from kmsg_console.sending.models import MessageLog
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
NON_KAKAO = "01099990000"


def _row(app, **columns) -> MessageLog:
    keyring, public_id = app.config["KEYRING"], str(uuid.uuid4())
    values = dict(
        public_id=public_id,
        created_at=utcnow() - timedelta(minutes=10),
        source="api",
        provider_code="solapi-main",
        to_hash=keyring.lookup_hash(NON_KAKAO, "phone"),
        to_enc=keyring.encrypt(NON_KAKAO, f"message:{public_id}:to"),
        to_masked=mask_phone(NON_KAKAO),
        attempt_count=1,
    )
    values.update(columns)
    log = MessageLog(**values)
    db.session.add(log)
    db.session.flush()
    return log


def _seed(app) -> dict[str, str]:
    """Two AlimTalks to a non-KakaoTalk user: one rescued by the console's SMS, one not."""
    with app.test_request_context():
        create_operator("viewer@example.com", PASSWORD, Role.VIEWER)
        db.session.add(
            Provider(code="solapi-main", name="SOLAPI", vendor="solapi", settings={}, secrets={})
        )
        failed = {
            "status": "FAILED",
            "type": "ALIMTALK",
            "requested_type": "ALIMTALK",
            "template_code": "ORDER_SHIPPED",
            "error_code": "MESSAGE_SEND_FAILED",
            "vendor_code": "3104",
        }
        rescued = _row(
            app,
            **failed,
            fallback_state="sent",
            warnings=[
                {
                    "code": "FAILOVER_PARTIAL_PROVIDER",
                    "message": "This provider sends the fallback SMS itself but cannot choose "
                    "SMS or LMS.",
                }
            ],
        )
        sms = _row(app, status="SENT", type="SMS", fallback_of_id=rescued.id)
        lost = _row(app, **failed)
        db.session.commit()
        return {"rescued": rescued.public_id, "sms": sms.public_id, "lost": lost.public_id}


def test_the_report_and_the_page_tell_the_fallback_that_was_delivered(live_console, page):
    ids = _seed(live_console.app)
    sign_in(page, live_console, "viewer@example.com")

    page.goto(live_console.url("/send-logs/failures"))
    assert page.locator('[data-count="FAILED"]').inner_text() == "1"
    assert page.locator('[data-count="fallback"]').inner_text() == "1"
    groups = page.locator("table.failure-groups tbody tr")
    assert groups.count() == 2
    assert page.locator('tr[data-group="MESSAGE_SEND_FAILED/3104/solapi-main/fallback"]').count()
    assert page.locator("svg.bar-chart rect.seg-fallback").count() == 1
    assert page.locator("table.vendor-codes td.num a").inner_text() == "1"  # failures only
    screenshot(page, "failure_report_delivered_by_fallback")

    page.click('a:has([data-count="fallback"])')
    page.wait_for_load_state("networkidle")
    assert "fallback=delivered" in page.url
    assert page.locator("#results tbody tr").count() == 1
    assert page.locator(f"#message-{ids['rescued']}").count() == 1

    page.goto(live_console.url(f"/send-logs/{ids['rescued']}"))
    notice = page.locator("#fallback-sent")
    assert notice.locator(f"a[href='/send-logs/{ids['sms']}']").count() == 1
    assert page.locator(".preview-warnings").count() == 0  # the vendor-sends-it forecast
    card = page.locator("#error").inner_text()
    assert "SMS" in notice.inner_text() and "대체 발송을 켜세요" not in card
    assert "대체 발송이 나갔습니다" in page.locator("#next-step").inner_text()  # not sent again
    screenshot(page, "alimtalk_fallback_sent_detail")
    assert page.js_errors == []
