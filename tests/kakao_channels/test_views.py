"""``/kakao-channels``: everyone reads, admins change; the template form's profile select."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.kakao_channels.models import KakaoProfile
from kmsg_console.message_templates.models import MessageTemplate
from kmsg_console.operators.models import Role
from kmsg_console.providers import services as provider_services
from tests.message_templates.conftest import SOLAPI_PF_ID, provider_settings

FORM = {
    "kind": "ALIMTALK",
    "name": "배송 시작",
    "category": "SHIPPING",
    "category_code": "004001",
    "content": "#{name}님, 주문하신 상품이 출발했습니다.",
    "message_type": "BA",
    "emphasis_type": "NONE",
}


@pytest.fixture
def solapi(app, simulator):
    """A SOLAPI provider on the simulator; saving it registers its configured channel."""
    with app.app_context():
        provider_services.save_provider(
            None,
            vendor="solapi",
            code="solapi-main",
            name="SOLAPI",
            values=provider_settings(simulator, "solapi"),
            enabled=True,
            actor=None,
        )
        provider_services.ensure_sandbox_provider()
        db.session.commit()
    return "solapi-main"


def _profiles(app) -> dict[str, KakaoProfile]:
    with app.app_context():
        rows = db.session.scalars(sa.select(KakaoProfile)).all()
        for row in rows:
            db.session.expunge(row)
        return {row.profile_key: row for row in rows}


def _actions(app) -> list[str]:
    with app.app_context():
        return db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.action.startswith("kakao_profile."))
            .order_by(AuditEvent.id)
        ).all()


def _errors(response) -> list[str]:
    return re.findall(r'<p class="error"[^>]*>([^<]+)</p>', response.get_data(as_text=True))


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_everyone_reads_but_only_admins_change(app, console, solapi, role):
    console.login(role)
    page = console.client.get("/kakao-channels")
    assert page.status_code == 200 and SOLAPI_PF_ID in page.get_data(as_text=True)
    assert 'id="add-profile"' not in page.get_data(as_text=True)
    profile_id = _profiles(app)[SOLAPI_PF_ID].id
    assert console.client.get(f"/kakao-channels/{profile_id}").status_code == 200
    new = {"new-provider": solapi, "new-profile_key": "KA01PFX", "new-status": "unknown"}
    assert console.post("/kakao-channels", data=new).status_code == 403
    assert console.post("/kakao-channels/sync", data={"provider": solapi}).status_code == 403
    assert (
        console.post(f"/kakao-channels/{profile_id}", data={"status": "blocked"}).status_code == 403
    )
    assert console.post(f"/kakao-channels/{profile_id}/remove").status_code == 403
    assert set(_profiles(app)) == {SOLAPI_PF_ID}


def test_admin_syncs_adds_edits_and_removes(app, console, solapi, simulator):
    console.login(Role.ADMIN)
    synced = console.post("/kakao-channels/sync", data={"provider": solapi}, follow_redirects=True)
    assert "0 added, 1 updated" in synced.get_data(as_text=True)
    assert _profiles(app)[SOLAPI_PF_ID].status == "active"
    # The sandbox has no channel API: it is named as entered by hand, and cannot be synced.
    page = console.client.get("/kakao-channels").get_data(as_text=True)
    assert 'id="manual-note"' in page and "Sandbox" in page.split('id="manual-note"')[1][:300]
    assert console.post("/kakao-channels/sync", data={"provider": "sandbox"}).status_code == 400

    added = console.post(
        "/kakao-channels",
        data={
            "new-provider": "sandbox",
            "new-profile_key": "sandbox-channel",
            "new-plus_id": "demo",
            "new-name": "데모",
            "new-status": "active",
        },
    )
    assert added.status_code == 303
    profile = _profiles(app)["sandbox-channel"]
    assert (profile.provider_code, profile.plus_id, profile.source) == (
        "sandbox",
        "@demo",
        "manual",
    )
    twice = console.post(
        "/kakao-channels",
        data={"new-provider": "sandbox", "new-profile_key": "sandbox-channel", "new-status": ""},
    )
    assert twice.status_code == 422
    empty = console.post("/kakao-channels", data={"new-provider": "sandbox", "new-status": "x"})
    assert empty.status_code == 422 and _errors(empty)

    edited = console.post(
        f"/kakao-channels/{profile.id}", data={"plus_id": "@demo", "name": "", "status": "dormant"}
    )
    assert edited.status_code == 303 and _profiles(app)["sandbox-channel"].status == "dormant"
    bad = console.post(f"/kakao-channels/{profile.id}", data={"plus_id": "a b", "status": "x"})
    assert bad.status_code == 422
    assert console.post(f"/kakao-channels/{profile.id}/remove").status_code == 303
    assert "sandbox-channel" not in _profiles(app)
    assert _actions(app) == [
        "kakao_profile.add",  # the channel the provider's settings name, when it was saved
        "kakao_profile.sync",
        "kakao_profile.add",
        "kakao_profile.update",
        "kakao_profile.remove",
    ]
    audit = console.client.get("/audit-log").get_data(as_text=True)
    assert "Kakao sender profile added" in audit and "Kakao sender profiles synced" in audit


def test_a_failed_sync_is_flashed(app, console, solapi, simulator):
    console.login(Role.ADMIN)
    simulator.control.inject("solapi", "status_5xx", status=500, count=None)
    page = console.post("/kakao-channels/sync", data={"provider": solapi}, follow_redirects=True)
    assert "The provider could not be read" in page.get_data(as_text=True)
    assert _profiles(app)[SOLAPI_PF_ID].status == "unknown"


def _select(html: str) -> str:
    match = re.search(r'<select id="sender_profile".*?</select>', html, re.S)
    assert match, html[:2000]
    return match.group(0)


def test_the_template_form_offers_the_providers_profiles(app, console, solapi):
    console.login(Role.OPERATOR)
    fragment = console.client.get(
        f"/templates/sender-profile?provider={solapi}", headers={"HX-Request": "true"}
    )
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html
    assert f'value="{SOLAPI_PF_ID}"' in _select(html)
    sandbox = console.client.get(
        "/templates/sender-profile?provider=sandbox", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert SOLAPI_PF_ID not in sandbox and "No sender profile is registered" in sandbox
    # Opened as a page it is not a page: back to the form.
    assert console.client.get("/templates/sender-profile").status_code == 303
    page = console.client.get("/templates/new").get_data(as_text=True)
    assert 'hx-trigger="change from:#provider"' in page and "Choose the provider first" in page

    created = console.post(
        "/templates/new", data={**FORM, "provider": solapi, "sender_profile": SOLAPI_PF_ID}
    )
    assert created.status_code == 303
    with app.app_context():
        template = db.session.scalars(sa.select(MessageTemplate)).one()
        assert template.sender_profile == SOLAPI_PF_ID
    edit = console.client.get(f"/templates/{template.id}/edit").get_data(as_text=True)
    assert f'selected value="{SOLAPI_PF_ID}"' in _select(edit)
    # The profile's page lists it.
    profile = _profiles(app)[SOLAPI_PF_ID]
    detail = console.client.get(f"/kakao-channels/{profile.id}").get_data(as_text=True)
    assert f'href="/templates/{template.id}"' in detail and "배송 시작" in detail


def test_the_template_form_refuses_unregistered_and_unusable_profiles(app, console, solapi):
    console.login(Role.OPERATOR)
    typed = console.post(
        "/templates/new", data={**FORM, "provider": solapi, "sender_profile": "KA01PFTYPED"}
    )
    assert typed.status_code == 422
    assert any("is not a registered Kakao sender profile" in e for e in _errors(typed))
    assert "KA01PFTYPED (not registered)" in _select(typed.get_data(as_text=True))
    with app.app_context():
        profile = db.session.scalars(sa.select(KakaoProfile)).one()
        profile.status = "blocked"
        db.session.commit()
    blocked = console.post(
        "/templates/new", data={**FORM, "provider": solapi, "sender_profile": SOLAPI_PF_ID}
    )
    assert blocked.status_code == 422
    assert any("Kakao sends nothing from it" in e for e in _errors(blocked))
    # An unusable profile is shown but cannot be picked.
    assert f'disabled value="{SOLAPI_PF_ID}"' in _select(blocked.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MessageTemplate)) == 0
