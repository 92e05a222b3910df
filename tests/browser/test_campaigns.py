"""Campaigns in a real browser: upload a CSV, see the preview with its invalid rows, confirm,
watch the progress page (htmx polling) reach completion while the worker sends, follow a
failure group into the send log filtered by the campaign; cancel another campaign mid-way."""

from __future__ import annotations

import re
import threading
from datetime import datetime

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from kmsg_console.campaigns import dispatch
from kmsg_console.campaigns.models import Campaign
from kmsg_console.extensions import db
from kmsg_console.messaging.advertising import KST
from kmsg_console.operators.models import Role
from kmsg_console.operators.services import create_operator
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.sandbox import sandbox_clear, script_sandbox
from kmsg_console.sending import rules
from kmsg_console.sending.models import MessageLog
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def campaign_console(live_console, page, monkeypatch):
    monkeypatch.setattr(rules, "clock", lambda: datetime(2026, 12, 8, 12, 0, tzinfo=KST))
    sandbox_clear()
    with live_console.app.test_request_context():
        create_operator("operator@example.com", PASSWORD, Role.OPERATOR)
        provider_services.ensure_sandbox_provider()
        db.session.commit()
    sign_in(page, live_console, "operator@example.com")
    yield live_console
    sandbox_clear()


class Worker:
    """The campaign job in a thread, round after round, until stopped."""

    def __init__(self, app) -> None:
        self.app = app
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        with self.app.app_context():
            while not self.stop.is_set():
                dispatch.run_round()
                db.session.remove()
                self.stop.wait(0.2)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


def _upload(page, live, name: str, rows: list[str], rate: str) -> None:
    page.goto(live.url("/campaigns/new"))
    page.fill("input[name=name]", name)
    page.fill("textarea[name=text]", "#{이름}님, 12월 점검 안내입니다.")
    page.fill("input[name=rate]", rate)
    data = "\n".join(["phone,이름", *rows]).encode()
    page.set_input_files(
        "input[name=file]", {"name": "recipients.csv", "mimeType": "text/csv", "buffer": data}
    )
    page.click("#new-campaign button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_upload_preview_confirm_progress_and_cancel(campaign_console, page):
    live = campaign_console
    page.goto(live.url("/campaigns"))
    screenshot(page, "campaigns_list_empty")
    rows = [f"010-6000-00{i:02d},고객{i}" for i in range(6)] + ["02-123-4567,가", "hello,나"]
    _upload(page, live, "12월 점검 안내", rows, "100")
    invalid = page.locator("#invalid-rows").inner_text()
    assert "8번째 줄" in invalid and "9번째 줄" in invalid  # by line number, not number
    assert page.locator("#to-send").inner_text() == "6"
    screenshot(page, "campaigns_preview")
    # The third and fourth sends are refused by the (sandbox) vendor.
    script_sandbox("sandbox", ["ok*2", "fail:INVALID_REQUEST:1062*2"])
    with Worker(live.app):
        page.click("#confirm")
        expect(page.locator("#count-remaining")).to_have_text("0", timeout=20000)
        expect(page.locator("#progress")).not_to_have_attribute(
            "hx-get", re.compile(".*"), timeout=20000
        )
    assert page.locator("#count-sent").inner_text() == "4"
    assert page.locator("#count-failed").inner_text() == "2"
    screenshot(page, "campaigns_progress_completed")

    # The failure group leads to the send log filtered by this campaign, status and code.
    group = page.locator("#campaign-failures li", has_text="INVALID_REQUEST")
    assert group.inner_text().strip().endswith("2")
    group.locator("a").click()
    page.wait_for_load_state("networkidle")
    assert "campaign=cmp_" in page.url and "error_code=INVALID_REQUEST" in page.url
    expect(page.locator("#campaign-filter")).to_contain_text("12월 점검 안내")
    assert page.locator("table.send-log-table tbody tr").count() == 2
    screenshot(page, "send_logs_campaign_filter")
    # Changing another filter (htmx) keeps the campaign; its × clears the campaign.
    page.select_option("select[name=status]", "")
    page.select_option("select[name=error_code]", "")
    expect(page.locator("table.send-log-table tbody tr")).to_have_count(6)
    expect(page).to_have_url(re.compile(r"campaign=cmp_"))
    page.locator("#campaign-filter a[aria-label]").click()
    page.wait_for_load_state("networkidle")
    assert "campaign=" not in page.url
    expect(page.locator("#campaign-filter")).to_have_count(0)

    # A slow one (1 message a second), cancelled while it sends.
    _upload(page, live, "느린 캠페인", [f"010-6100-00{i:02d},고객{i}" for i in range(8)], "1")
    page.on("dialog", lambda dialog: dialog.accept())
    with Worker(live.app):
        page.click("#confirm")
        expect(page.locator("#count-sent")).not_to_have_text("0", timeout=20000)
        screenshot(page, "campaigns_progress_running")
        page.click("#cancel")
        page.wait_for_load_state("networkidle")
        expect(page.locator("#count-remaining")).to_have_text("0", timeout=20000)
    screenshot(page, "campaigns_progress_cancelled")
    with live.app.app_context():
        slow = db.session.scalar(sa.select(Campaign).where(Campaign.name == "느린 캠페인"))
        assert slow.status == "cancelled"
        sent = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(MessageLog)
            .where(MessageLog.campaign_id == slow.id)
        )
    cancelled = int(page.locator("#count-cancelled").inner_text())
    assert sent >= 1 and cancelled >= 1 and sent + cancelled == 8
    assert not page.js_errors
    page.goto(live.url("/campaigns"))
    screenshot(page, "campaigns_list")
