"""In Chromium: an admin adds a webhook endpoint, sees its secret once, reads the delivery log
and redelivers an event (screenshots in test-artifacts/screenshots/webhooks_*)."""

from __future__ import annotations

import pytest

from kmsg_console.events import delivery
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.operators.services import create_operator
from kmsg_console.providers import services as provider_services
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD
from tests.events.conftest import Receiver, verify

pytestmark = pytest.mark.browser


def _deliver(app) -> None:
    with app.app_context():
        delivery.run_round()
        db.session.remove()


def test_admin_adds_an_endpoint_and_redelivers_from_the_log(live_console, page):
    app = live_console.app
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True  # the receiver listens on 127.0.0.1
    receiver = Receiver()
    try:
        with app.app_context():
            create_operator("admin@example.com", PASSWORD, Role.ADMIN)
            provider = provider_services.ensure_sandbox_provider()
            provider.health_ok = False  # last seen failing: the next test finds it recovered
            db.session.commit()
        sign_in(page, live_console, "admin@example.com")

        page.goto(live_console.url("/webhook-endpoints"))
        page.fill("input[name=url]", receiver.url)
        page.fill("input[name=description]", "주문 서버")
        page.check("input[name=event_types][value='provider.recovered']")
        page.check("input[name=event_types][value='message.delivered']")
        page.click("#add-endpoint button[type=submit]")
        page.wait_for_load_state("networkidle")
        secret = page.locator("#endpoint-secret").inner_text().strip()
        assert secret.startswith("whsec_")
        assert "한 번만" in page.locator("#issued-secret").inner_text()
        screenshot(page, "webhooks_secret_once")
        page.goto(live_console.url("/webhook-endpoints"))
        assert secret not in page.content()
        assert page.locator("#endpoints tbody tr").count() == 1

        with app.test_request_context():
            provider_services.test_connection(provider_services.get_by_code("sandbox"), actor=None)
            db.session.commit()
        _deliver(app)
        [received] = receiver.requests
        assert verify(secret, received) and received.event["type"] == "provider.recovered"

        page.click("#endpoints tbody a")
        page.wait_for_load_state("networkidle")
        row = page.locator("#deliveries tbody tr").first
        assert "provider.recovered" in row.inner_text() and "HTTP 200" in row.inner_text()
        screenshot(page, "webhooks_delivery_log")
        row.locator("button", has_text="재전송").click()
        page.wait_for_load_state("networkidle")
        assert "재전송 대기열" in page.locator("body").inner_text()
        _deliver(app)
        page.reload()
        row = page.locator("#deliveries tbody tr").first
        assert row.locator("td").nth(2).inner_text().strip() == "2"
        assert len(receiver.requests) == 2
        assert receiver.requests[1].headers["X-Webhook-Id"] == received.headers["X-Webhook-Id"]
        screenshot(page, "webhooks_redelivered")
        assert page.js_errors == []
    finally:
        receiver.close()
