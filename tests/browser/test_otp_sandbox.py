"""With live routing in place, an operator sends a test code through the sandbox, reads it in
the sandbox panel and checks it; the routing table is not touched."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.operators.services import create_operator
from kmsg_console.otp import services as otp
from kmsg_console.otp.models import VerificationPurpose
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.sandbox import sandbox_clear
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD
from tests.message_templates.conftest import provider_settings

pytestmark = pytest.mark.browser

LIVE_ROUTES = {"DEFAULT": ["solapi-main"], "SMS": ["solapi-main"], "LMS": ["solapi-main"]}


def test_a_test_code_through_the_sandbox_while_routing_stays_live(live_console, page, simulator):
    app = live_console.app
    with app.test_request_context():
        create_operator("operator@example.com", PASSWORD, Role.OPERATOR)
        provider_services.ensure_sandbox_provider()
        provider_services.save_provider(
            None,
            vendor="solapi",
            code="solapi-main",
            name="SOLAPI",
            values=provider_settings(simulator, "solapi"),
            enabled=True,
            actor=None,
        )
        provider_services.save_routes(LIVE_ROUTES, actor=None)
        otp.ensure_default_purposes()
        for purpose in db.session.scalars(sa.select(VerificationPurpose)):
            purpose.resend_cooldown_seconds = 0
        db.session.commit()
    sandbox_clear()
    sign_in(page, live_console, "operator@example.com")
    page.goto(live_console.url("/otp"))
    page.fill("input[name=phone]", "010-2345-6789")
    page.select_option("select#purpose", "login")
    page.select_option("select[name=provider]", "sandbox")
    screenshot(page, "otp_start_through_the_sandbox")
    page.click("form.otp-start button[type=submit]")
    page.wait_for_url(re.compile(r".*/otp/verifications/[0-9a-f-]{36}$"))
    code = re.search(r"\[(\d{6})\]", page.locator("#sandbox-text").inner_text()).group(1)
    screenshot(page, "otp_sandbox_code_shown")
    page.fill("input[name=code]", code)
    page.click("form.otp-check button[type=submit]")
    page.wait_for_selector("#otp-live[data-status=approved]")
    with app.app_context():
        assert provider_services.routes() == LIVE_ROUTES
    assert simulator.control.requests("solapi", "/messages/*") == []
    assert page.js_errors == []
    sandbox_clear()
