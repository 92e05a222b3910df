"""A real browser at a dead end: a timed-out send, explained, sent again as a new message."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from kmsg_console import sending
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.operators.services import create_operator
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.sandbox import sandbox_clear, sandbox_outbox, script_sandbox
from kmsg_console.sending.models import MessageLog, MessageSource
from kmsg_console.worker import tracking
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _timed_out_message(app) -> str:
    """A send whose provider never answered, checked once by the worker (no id to look up)."""
    sandbox_clear()
    with app.test_request_context():
        create_operator("ops@example.com", PASSWORD, Role.OPERATOR)
        provider_services.ensure_sandbox_provider()
        db.session.commit()
        script_sandbox("sandbox", ["timeout"])
        log = sending.send(
            sending.SendRequest(to="010-3333-4444", text="[샵] 주문하신 상품이 출발했습니다."),
            source=MessageSource.API,
        ).log
        tracking.poll_now(log)
        db.session.commit()
        assert (log.status, log.tracking_note) == ("UNKNOWN", "MISSING_PROVIDER_MESSAGE_ID")
        return log.public_id


def test_operator_sends_a_timed_out_message_again(live_console, page):
    original = _timed_out_message(live_console.app)
    sign_in(page, live_console, "ops@example.com")

    page.goto(live_console.url(f"/send-logs/{original}"))
    card = page.locator("#error").inner_text()
    assert "ReadTimeout" not in card and "조회할 수 없" in card
    assert page.locator("#next-step a[href$='/send-again']").count() == 1
    screenshot(page, "send_again_unknown_detail")

    page.click("#next-step a[href$='/send-again']")
    page.wait_for_load_state("networkidle")
    assert page.locator("#confirm-send-again .notice").count() == 1  # the first may have arrived
    screenshot(page, "send_again_confirm")

    page.click("form[action$='/send-again'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    new = re.search(r"/send-logs/([0-9a-f-]{36})$", page.url).group(1)
    assert new != original
    assert page.locator(".page-head [data-status]").get_attribute("data-status") == "SENT"
    assert page.locator(f"a[href='/send-logs/{original}']").count() >= 1  # sent again from
    assert page.locator(".flash-success").count() == 1
    screenshot(page, "send_again_new_message")

    page.goto(live_console.url(f"/send-logs/{original}"))
    assert page.locator(f"#next-step a[href='/send-logs/{new}']").count() == 1  # sent again as
    assert page.locator("#next-step a[href$='/send-again']").count() == 0
    screenshot(page, "send_again_original_linked")
    assert page.js_errors == []
    assert len(sandbox_outbox("sandbox")) == 2
    with live_console.app.app_context():
        rows = db.session.scalars(sa.select(MessageLog).order_by(MessageLog.id)).all()
        assert [r.public_id for r in rows] == [original, new] and rows[1].resent_from_id == rows[
            0
        ].id
    sandbox_clear()
