"""An admin syncs the Kakao sender profiles from SOLAPI, opens one, and registers a template
picking that profile from the template form's select."""

from __future__ import annotations

import pytest

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.operators.services import create_operator
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.simulators import solapi_channels
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD
from tests.message_templates.conftest import provider_settings

pytestmark = pytest.mark.browser

SECOND_PF_ID = "KA01PF261207000000000SECOND"


def test_admin_syncs_profiles_and_picks_one_for_a_template(live_console, page, simulator):
    with live_console.app.test_request_context():
        create_operator("admin@example.com", PASSWORD, Role.ADMIN)
        provider_services.save_provider(
            None,
            vendor="solapi",
            code="solapi-main",
            name="SOLAPI 메인",
            values=provider_settings(simulator, "solapi"),
            enabled=True,
            actor=None,
        )
        db.session.commit()
    # A second channel linked at SOLAPI that the console does not know yet.
    solapi_channels.store_channel(
        simulator.state, SECOND_PF_ID, "kmsgshop", "01012345678", "00300010001"
    )
    sign_in(page, live_console, "admin@example.com")

    page.goto(live_console.url("/kakao-channels"))
    assert page.locator("#profiles tbody tr").count() == 1  # the provider's configured channel
    page.select_option("#sync-profiles select[name=provider]", "solapi-main")
    page.click("#sync-profiles button[type=submit]")
    page.wait_for_selector("#profiles tbody tr:nth-child(2)")
    rows = page.locator("#profiles tbody tr")
    assert rows.count() == 2
    assert "@kmsgshop" in rows.all_inner_texts()[1] and "활성" in rows.all_inner_texts()[1]
    screenshot(page, "kakao_channels_synced")

    page.click("#profiles a:has-text('@kmsgshop')")
    page.wait_for_selector("#profile-key")
    assert page.locator("#profile-key").inner_text() == SECOND_PF_ID
    assert page.locator("#profile-templates .empty").count() == 1
    screenshot(page, "kakao_channels_profile")

    page.goto(live_console.url("/templates/new"))
    page.select_option("select[name=provider]", "solapi-main")
    profile_select = page.locator("select#sender_profile")
    page.wait_for_selector(
        f"select#sender_profile option[value='{SECOND_PF_ID}']", state="attached"
    )
    profile_select.select_option(SECOND_PF_ID)
    page.wait_for_selector("select#category_code")
    page.select_option("select#category_code", "004001")
    page.fill("input[name=name]", "배송 시작")
    page.fill("textarea[name=content]", "#{name}님, 주문하신 상품이 출발했습니다.")
    page.select_option("select[name=category]", "SHIPPING")
    page.locator("#sender-profile-field").scroll_into_view_if_needed()
    screenshot(page, "kakao_channels_template_form")
    page.click("form.template-form button[type=submit]")
    page.wait_for_url("**/templates/1")
    facts = page.locator("dl.facts").inner_text()
    assert SECOND_PF_ID in facts and "@kmsgshop" in facts

    page.goto(live_console.url("/kakao-channels"))
    page.click("#profiles a:has-text('@kmsgshop')")
    page.wait_for_selector("#profile-templates table")
    assert "배송 시작" in page.locator("#profile-templates").inner_text()
    screenshot(page, "kakao_channels_profile_with_template")
    assert page.js_errors == []


def test_the_send_form_offers_the_providers_profiles_for_alimtalk(live_console, page, simulator):
    with live_console.app.test_request_context():
        create_operator("operator@example.com", PASSWORD, Role.OPERATOR)
        for vendor in ("solapi", "aligo"):
            provider_services.save_provider(
                None,
                vendor=vendor,
                code=f"{vendor}-main",
                name=vendor.upper(),
                values=provider_settings(simulator, vendor),
                enabled=True,
                actor=None,
            )
        db.session.commit()
    sign_in(page, live_console, "operator@example.com")
    page.goto(live_console.url("/send"))
    page.select_option("select[name=type]", "ALIMTALK")
    page.select_option("select[name=provider]", "aligo-main")
    page.wait_for_selector("select#kakao_profile option[value='demo-sender-key']", state="attached")
    page.select_option("select[name=provider]", "solapi-main")
    page.wait_for_selector(
        "select#kakao_profile option[value='KA01PF000000000000000000DEMO']", state="attached"
    )
    options = page.locator("select#kakao_profile option").all_inner_texts()
    assert len(options) == 2 and "demo-sender-key" not in " ".join(options)
    page.wait_for_selector("#byte-counter [data-type='ALIMTALK']")
    page.locator("fieldset.alimtalk-fields").scroll_into_view_if_needed()
    screenshot(page, "kakao_channels_send_form")
    assert page.js_errors == []
