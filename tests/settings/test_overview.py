"""``/settings``: one navigation item for the console-wide settings pages."""

from __future__ import annotations

import re

import pytest

from kmsg_console.operators.models import Role

PAGES = ["/settings/sending", "/settings/advertising", "/settings/alerts", "/settings/retention"]


def _current_nav_link(html: str) -> str | None:
    nav = html.split('class="mainnav"', 1)[1].split("</nav>", 1)[0]
    found = re.search(r'<a href="([^"]+)"\s+aria-current="page"', nav)
    return found.group(1) if found else None


def test_the_overview_links_every_settings_page(console):
    console.login(Role.ADMIN)
    html = console.client.get("/settings").get_data(as_text=True)
    for page in PAGES:
        assert f'href="{page}"' in html
    assert _current_nav_link(html) == "/settings"


@pytest.mark.parametrize("page", PAGES)
def test_each_settings_page_marks_settings_current_and_is_not_in_the_nav_itself(console, page):
    console.login(Role.ADMIN)
    response = console.client.get(page)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _current_nav_link(html) == "/settings"
    nav = html.split('class="mainnav"', 1)[1].split("</nav>", 1)[0]
    assert f'href="{page}"' not in nav


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.VIEWER])
def test_only_admins_open_the_overview(console, role):
    console.login(role)
    assert console.client.get("/settings").status_code == 403
