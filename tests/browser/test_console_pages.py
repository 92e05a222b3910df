"""A real browser signs in and opens every console page."""

from __future__ import annotations

import pytest

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.operators.services import create_operator
from kmsg_console.web.navigation import NAV_ITEMS
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _admin(live):
    with live.app.app_context():
        create_operator("admin@example.com", PASSWORD, Role.ADMIN)
        db.session.commit()


def test_login_page_renders_in_korean_with_a_korean_font(live_console, page):
    page.goto(live_console.url("/login"))
    assert page.locator("h1").inner_text() == "kmsg-console"
    assert "로그인" in page.locator("button[type=submit]").inner_text()
    screenshot(page, "login")
    assert page.js_errors == []


def test_wrong_password_shows_an_error(live_console, page):
    _admin(live_console)
    sign_in(page, live_console, "admin@example.com", "wrong password here")
    assert page.locator(".error").count() == 1
    assert page.url.endswith("/login")


def test_admin_signs_in_and_opens_every_page(live_console, page):
    _admin(live_console)
    sign_in(page, live_console, "admin@example.com")
    assert page.url == live_console.url("/")
    links = page.locator("nav.mainnav a")
    assert links.count() == len(NAV_ITEMS)
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    for href in hrefs + ["/account", "/operators/new"]:
        response = page.goto(live_console.url(href))
        assert response.status == 200, href
        assert page.locator("h1").count() >= 1
        name = href.strip("/").replace("/", "_") or "dashboard"
        screenshot(page, f"page_{name}")
    assert page.js_errors == []


def test_audit_filter_updates_in_place_with_htmx(live_console, page):
    _admin(live_console)
    sign_in(page, live_console, "admin@example.com")
    page.goto(live_console.url("/audit-log"))
    page.fill("input[name=action]", "auth.login")
    page.click(".filters button[type=submit]")
    page.wait_for_url("**action=auth.login**")
    assert page.locator("#results table tbody tr").count() >= 1
    assert page.locator("h1").count() == 1  # a fragment was swapped in, not a page nested in a page
    screenshot(page, "audit_filtered")


def test_admin_creates_an_operator_in_the_browser(live_console, page):
    _admin(live_console)
    sign_in(page, live_console, "admin@example.com")
    page.goto(live_console.url("/operators/new"))
    page.fill("input[name=email]", "new.operator@example.com")
    page.select_option("select[name=role]", "operator")
    page.fill("input[name=password]", "short")
    page.click("main button[type=submit]")
    assert page.locator(".error").count() == 1  # re-rendered with a field error
    assert page.locator("input[name=email]").input_value() == "new.operator@example.com"
    page.fill("input[name=password]", "a long enough password")
    page.click("main button[type=submit]")
    page.wait_for_url("**/operators")
    assert "new.operator@example.com" in page.content()
    screenshot(page, "operators_after_create")
