"""A test code can be sent through the sandbox while live routing stays as it is."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from kmsg_console import sending
from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.otp import services as otp
from kmsg_console.otp.models import Verification, VerificationPurpose
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.sandbox import sandbox_clear
from kmsg_console.sending.models import MessageLog
from kmsg_console.throttle.services import ensure_default_policies
from tests.message_templates.conftest import provider_settings

PHONE = "010-4444-5555"
SANDBOX_PANEL = re.compile(r'<pre class="message-text" id="sandbox-text">(.*?)</pre>', re.S)
LIVE_ROUTES = {"DEFAULT": ["solapi-main"], "SMS": ["solapi-main"], "LMS": ["solapi-main"]}


@pytest.fixture
def live_routing(app, simulator):
    """SOLAPI (its simulator) carries every message; the sandbox is enabled but not routed."""
    with app.test_request_context():
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
        ensure_default_policies()
        for purpose in db.session.scalars(sa.select(VerificationPurpose)):
            purpose.resend_cooldown_seconds = 0
        db.session.commit()
    sandbox_clear()
    yield
    sandbox_clear()


def _start(console, **extra):
    return console.post("/otp", data={"phone": PHONE, "purpose": "login", **extra})


def _routes(app) -> dict[str, list[str]]:
    with app.app_context():
        return provider_services.routes()


def _providers_used(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(MessageLog.provider_code)))


def _inbox(app) -> list[dict]:
    with app.test_request_context():
        return sending.sandbox_inbox(PHONE)


def test_the_start_form_offers_the_sandbox_beside_the_routing(app, console, live_routing):
    console.login(Role.OPERATOR)
    html = console.client.get("/otp").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="provider"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None
    assert re.findall(r'value="([^"]*)"', select.group(1)) == ["", "sandbox"]


def test_a_test_start_through_the_sandbox_shows_its_code_and_leaves_routing_alone(
    app, console, live_routing, simulator
):
    console.login(Role.OPERATOR)
    response = _start(console, provider="sandbox")
    assert response.status_code == 303
    page = console.client.get(response.headers["Location"]).get_data(as_text=True)
    panel = SANDBOX_PANEL.search(page)
    assert panel and re.search(r"\[\d{6}\]", panel.group(1))
    assert len(_inbox(app)) == 1 and _providers_used(app) == ["sandbox"]
    assert simulator.control.requests("solapi", "/messages/*") == []  # nothing went live
    assert _routes(app) == LIVE_ROUTES
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "otp.test_start")
        )
        assert event.details["provider"] == "sandbox"


def test_without_the_choice_a_test_start_follows_the_live_route(
    app, console, live_routing, simulator
):
    console.login(Role.OPERATOR)
    response = _start(console, provider="")
    assert response.status_code == 303
    page = console.client.get(response.headers["Location"]).get_data(as_text=True)
    assert SANDBOX_PANEL.search(page) is None and _inbox(app) == []
    assert _providers_used(app) == ["solapi-main"]


@pytest.mark.parametrize("provider", ["solapi-main", "nowhere"])
def test_only_a_sandbox_can_be_chosen(app, console, live_routing, simulator, provider):
    console.login(Role.OPERATOR)
    response = _start(console, provider=provider)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.count('role="alert"') == 1 and "Not a valid choice" in html
    assert f'value="{PHONE}"' in html  # what was typed is kept
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Verification)) == 0
    assert _providers_used(app) == [] and _inbox(app) == []


def test_the_engine_refuses_a_live_provider_named_for_a_test(app, live_routing):
    with app.test_request_context():
        with pytest.raises(otp.OtpRefused) as refused:
            otp.start(phone=PHONE, purpose_code="login", provider_code="solapi-main")
        assert refused.value.code == "unknown_provider" and refused.value.status == 422
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Verification)) == 0
