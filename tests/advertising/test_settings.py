"""``/settings/advertising``: everyone reads the rules; admins set the name and the 080 line."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kmsg_console.advertising import services as ad_settings
from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role


def _settings(app) -> tuple[str, str] | None:
    with app.app_context():
        saved = ad_settings.current()
        return None if saved is None else (saved.sender_name, saved.opt_out_line)


def test_an_admin_sets_the_sender_name_and_080_line(app, console):
    console.login(Role.ADMIN)
    page = console.client.get("/settings/advertising")
    assert page.status_code == 200 and "21:00" in page.get_data(as_text=True)
    saved = console.post(
        "/settings/advertising", data={"sender_name": " 케이샵 ", "opt_out_line": "080 123 4567"}
    )
    assert saved.status_code == 303 and saved.headers["Location"] == "/settings/advertising"
    assert _settings(app) == ("케이샵", "0801234567")
    html = console.client.get("/settings/advertising").get_data(as_text=True)
    assert 'value="080-123-4567"' in html and "무료수신거부 080-123-4567" in html
    with app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "setting.update")
        ).all()
        assert {e.target_id: e.details["after"] for e in events} == {
            "advertising.sender_name": {"advertising.sender_name": "케이샵"},
            "advertising.opt_out_line": {"advertising.opt_out_line": "0801234567"},
        }


@pytest.mark.parametrize(
    "data, field",
    [
        ({"sender_name": "", "opt_out_line": "080-123-4567"}, "sender_name"),
        ({"sender_name": "케이샵", "opt_out_line": "02-123-4567"}, "opt_out_line"),
        ({"sender_name": "케" * 41, "opt_out_line": "080-123-4567"}, "sender_name"),
    ],
)
def test_invalid_settings_are_refused_on_their_field(app, console, data, field):
    console.login(Role.ADMIN)
    refused = console.post("/settings/advertising", data=data)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert f'id="{field}"' in html and 'class="error"' in html
    assert _settings(app) is None


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.VIEWER])
def test_others_read_the_settings_but_cannot_change_them(app, console, role):
    console.login(role)
    assert console.client.get("/settings/advertising").status_code == 200
    data = {"sender_name": "케이샵", "opt_out_line": "080-123-4567"}
    assert console.post("/settings/advertising", data=data).status_code == 403
    assert _settings(app) is None
