"""Acceptance: an operator sends a test OTP in the console, reads the sandbox delivery, checks
the code and sees the verification approved; the status panel follows changes live (htmx)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from kmsg_console import sending
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.operators.services import create_operator
from kmsg_console.otp import services as otp
from kmsg_console.otp.models import Verification, VerificationPurpose
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.sandbox import sandbox_clear
from kmsg_console.throttle.services import ensure_default_policies
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

PHONE = "010-2345-6789"


@pytest.fixture
def otp_console(live_console):
    with live_console.app.test_request_context():
        create_operator("operator@example.com", PASSWORD, Role.OPERATOR)
        create_operator("admin@example.com", PASSWORD, Role.ADMIN)
        provider_services.ensure_sandbox_provider()
        otp.ensure_default_purposes()
        ensure_default_policies()
        for purpose in db.session.scalars(sa.select(VerificationPurpose)):
            purpose.resend_cooldown_seconds = 0
        db.session.commit()
    yield live_console
    sandbox_clear()


def _unexpected(errors: list[str]) -> list[str]:
    """Console errors other than Chromium's note on a 422 page (a form re-rendered with errors)."""
    return [e for e in errors if "status of 422" not in e]


def _send_test_code(page, live, phone=PHONE):
    page.goto(live.url("/otp"))
    page.fill("input[name=phone]", phone)
    page.select_option("select#purpose", "login")
    page.click("form.otp-start button[type=submit]")
    page.wait_for_url(re.compile(r".*/otp/verifications/[0-9a-f-]{36}$"))


def test_operator_sends_reads_checks_and_sees_it_approved(otp_console, page):
    sign_in(page, otp_console, "operator@example.com")
    page.goto(otp_console.url("/otp"))
    assert page.locator("nav.mainnav a[aria-current=page]").get_attribute("href") == "/otp"
    screenshot(page, "otp_console_empty")

    _send_test_code(page, otp_console)
    assert page.locator("#otp-live").get_attribute("data-status") == "pending"
    assert page.locator("#otp-live").get_attribute("hx-trigger") == "every 2s"
    delivered = page.locator("#sandbox-text").inner_text()
    code = re.search(r"\[(\d{6})\]", delivered).group(1)
    screenshot(page, "otp_verification_pending")

    page.fill("input[name=code]", "000000" if code != "000000" else "111111")
    with page.expect_navigation():
        page.click("form.otp-check button[type=submit]")
    assert page.locator("#otp-live").get_attribute("data-status") == "pending"
    assert page.locator(".otp-check .error").count() == 1  # wrong code: attempts left shown
    assert page.locator("input[name=code]").input_value() == ""
    screenshot(page, "otp_verification_wrong_code")

    page.fill("input[name=code]", code)
    page.click("form.otp-check button[type=submit]")
    page.wait_for_selector("#otp-live[data-status=approved]")
    assert page.locator(".flash-success").count() == 1
    assert page.locator("form.otp-check").count() == 0
    assert "1 / 5" in page.locator(".otp-attempts").inner_text()
    screenshot(page, "otp_verification_approved")

    page.goto(otp_console.url("/otp"))
    assert page.locator("#otp-recent tbody tr").count() == 1
    assert page.locator("#otp-recent [data-status=approved]").count() == 1
    assert page.locator("svg.otp-chart rect.bar-approved").count() == 7
    assert code not in page.content()
    screenshot(page, "otp_console_after")
    assert _unexpected(page.js_errors) == []


def test_status_panel_follows_an_approval_made_elsewhere(otp_console, page):
    sign_in(page, otp_console, "operator@example.com")
    _send_test_code(page, otp_console, phone="010-3456-7890")
    with otp_console.app.test_request_context():
        verification = db.session.scalar(sa.select(Verification))
        text = sending.sandbox_inbox("010-3456-7890", limit=1)[0]["text"]
        otp.check(verification.public_id, re.search(r"\[(\d{6})\]", text).group(1))
    # No reload: the htmx poll picks the change up and swaps the check form out.
    page.wait_for_selector("#otp-live[data-status=approved]", timeout=6000)
    page.wait_for_selector("#otp-actions .otp-finished")
    assert page.locator("#otp-live").get_attribute("hx-trigger") is None
    assert page.js_errors == []


def test_admin_edits_a_purpose_with_a_live_sms_preview(otp_console, page):
    sign_in(page, otp_console, "admin@example.com")
    page.goto(otp_console.url("/otp/purposes"))
    screenshot(page, "otp_purposes")
    page.click("#purpose-1 a")
    page.wait_for_selector("#sms-preview .sms-preview-text")
    assert "123456" in page.locator("#sms-preview .sms-preview-text").inner_text()
    page.fill("textarea[name=message_template]", "[#{brand}] " + "인증번호" * 12 + " [#{code}]")
    page.wait_for_selector("#sms-preview .warn-text")
    assert "LMS" in page.locator("#sms-preview .type-badge").inner_text()
    screenshot(page, "otp_purpose_edit_preview")
    page.fill("input[name=lifetime_seconds]", "900")
    with page.expect_navigation():
        page.click("form.purpose-form button[type=submit]")
    assert page.locator(".field.has-error input[name=lifetime_seconds]").count() == 1
    assert page.locator("input[name=lifetime_seconds]").input_value() == "900"
    screenshot(page, "otp_purpose_edit_error")
    assert _unexpected(page.js_errors) == []
