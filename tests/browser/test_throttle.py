"""The safelist and blocklist page in a real browser: htmx swaps under the strict CSP, and a
prefix that can match no number is refused in place."""

from __future__ import annotations

import pytest

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.operators.services import create_operator
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def admin_on_lists(live_console, page):
    with live_console.app.app_context():
        create_operator("admin@example.com", PASSWORD, Role.ADMIN)
        db.session.commit()
    sign_in(page, live_console, "admin@example.com")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(live_console.url("/throttle-policies/lists"))
    return live_console


def _add(page, match: str, value: str, note: str = "") -> None:
    page.select_option("#lists select[name=match]", match)
    page.fill("#lists input[name=value]", value)
    page.fill("#lists input[name=note]", note)
    page.click("#lists button[type=submit]")


def test_list_edits_swap_in_place_without_inline_style_refusals(admin_on_lists, page):
    # Browsers, password managers and screenshot tools leave style attributes on inputs (a
    # resized field, a filled-in icon); htmx must not copy them onto the swapped-in form,
    # which the CSP (style-src 'self') refuses.
    page.evaluate(
        "document.querySelectorAll('#lists input[type=text], #lists input:not([type])')"
        ".forEach(input => { input.style.width = '24em'; })"
    )
    _add(page, "prefix", "+234", "pumping route")
    page.locator("#list-block tbody tr").wait_for()
    assert "+234" in page.locator("#list-block").inner_text()
    page.click("#list-block button.danger")
    page.locator("#list-block .empty").wait_for()
    screenshot(page, "throttle_lists_after_swaps")
    assert page.js_errors == []


def test_a_prefix_that_can_match_no_number_is_refused_with_the_input_kept(admin_on_lists, page):
    _add(page, "prefix", "10", "mobile numbers")
    errors = page.locator("#lists .error")
    errors.wait_for()
    assert errors.count() == 1
    assert "01로 시작" in errors.inner_text()
    assert page.locator("#lists input[name=value]").input_value() == "10"
    assert page.locator("#lists input[name=note]").input_value() == "mobile numbers"
    assert page.locator("#list-block .empty").count() == 1
    screenshot(page, "throttle_lists_unreachable_prefix")

    _add(page, "prefix", "010", "mobile numbers")
    page.locator("#list-block tbody tr").wait_for()
    assert page.locator("#lists .error").count() == 0
    assert "010" in page.locator("#list-block").inner_text()
    assert [e for e in page.js_errors if "status of 422" not in e] == []
