"""Adding a provider from a bare /providers/new: the vendor is asked for, then its form opens."""

from __future__ import annotations

import pytest

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.operators.services import create_operator
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_a_bare_add_provider_address_asks_for_the_vendor(live_console, page):
    with live_console.app.app_context():
        create_operator("admin@example.com", PASSWORD, Role.ADMIN)
        db.session.commit()
    sign_in(page, live_console, "admin@example.com")
    response = page.goto(live_console.url("/providers/new"))
    assert response.status == 200
    options = page.locator("form.vendor-pick select[name=vendor] option")
    assert options.count() == 4
    screenshot(page, "providers_pick_vendor")
    page.select_option("form.vendor-pick select[name=vendor]", "iwinv")
    page.click("form.vendor-pick button[type=submit]")
    page.wait_for_url("**/providers/new?vendor=iwinv")
    assert page.locator("input[name=cfg_alimtalk_base_url]").count() == 1
    assert "IWINV" in page.locator("h1").inner_text()

    response = page.goto(live_console.url("/providers/new?vendor=kakao"))
    assert response.status == 404
    assert page.locator("form.vendor-pick .error").count() == 1
    screenshot(page, "providers_pick_unknown_vendor")
    assert [e for e in page.js_errors if "status of 404" not in e] == []
