"""Providers in the console: typed forms, encrypted secrets, tests against the simulators, routing."""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa

from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.messaging.types import MessageType
from kmsg_console.operators.models import Role
from kmsg_console.providers import services
from kmsg_console.providers.adapters.registry import ADAPTERS
from kmsg_console.providers.models import Provider

SECRET = "demo-api-secret"


def _create_solapi(console, simulator, secret=SECRET, code="solapi-main", sender="0212345678"):
    return console.post(
        "/providers/new?vendor=solapi",
        data={
            "code": code,
            "name": "SOLAPI main",
            "enabled": "y",
            "cfg_api_key": "demo-api-key",
            "cfg_api_secret": secret,
            "cfg_default_from": sender,
            "cfg_base_url": simulator.url("solapi"),
        },
    )


def _provider(app, code="solapi-main") -> Provider:
    with app.app_context():
        provider = db.session.scalar(sa.select(Provider).where(Provider.code == code))
        db.session.expunge(provider)
        return provider


def test_secret_is_encrypted_at_rest_and_never_shown(app, console, simulator, caplog):
    caplog.set_level(logging.DEBUG)
    console.login(Role.ADMIN)
    assert _create_solapi(console, simulator).status_code == 302
    with app.app_context():
        raw_rows = db.session.execute(sa.text("SELECT * FROM provider")).mappings().all()
        audit_rows = db.session.execute(sa.text("SELECT * FROM audit_event")).mappings().all()
    assert SECRET not in str(raw_rows) and SECRET not in str(audit_rows)
    provider = _provider(app)
    assert provider.secrets["api_secret"].startswith("v1.k1.")
    pages = [
        console.client.get("/providers").get_data(as_text=True),
        console.client.get(f"/providers/{provider.id}/edit").get_data(as_text=True),
    ]
    tested = console.htmx_post(f"/providers/{provider.id}/test")
    pages.append(tested.get_data(as_text=True))
    assert all(SECRET not in page for page in pages)
    assert services.MASK in pages[1]
    assert SECRET not in caplog.text


def test_untouched_mask_keeps_the_secret_and_a_new_value_replaces_it(app, console, simulator):
    console.login(Role.ADMIN)
    _create_solapi(console, simulator)
    provider = _provider(app)
    form = {
        "name": "renamed",
        "enabled": "y",
        "cfg_api_key": "demo-api-key",
        "cfg_api_secret": services.MASK,
        "cfg_base_url": simulator.url("solapi"),
    }
    assert console.post(f"/providers/{provider.id}/edit", data=form).status_code == 302
    with app.app_context():
        stored = db.session.get(Provider, provider.id)
        assert stored.name == "renamed"
        assert services.decrypted_config(stored)["api_secret"] == SECRET
    form["cfg_api_secret"] = "rotated-secret"
    console.post(f"/providers/{provider.id}/edit", data=form)
    with app.app_context():
        assert (
            services.decrypted_config(db.session.get(Provider, provider.id))["api_secret"]
            == "rotated-secret"
        )
        event = db.session.scalar(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "provider.update")
            .order_by(AuditEvent.id.desc())
        )
        assert event.details["credentials_replaced"] == ["api_secret"]
        assert "rotated-secret" not in str(event.details)


def test_ciphertext_is_bound_to_its_provider(app, console, simulator):
    console.login(Role.ADMIN)
    _create_solapi(console, simulator, code="one")
    _create_solapi(console, simulator, code="two", secret="another-secret")
    with app.app_context():
        one = services.get_by_code("one")
        two = services.get_by_code("two")
        one.secrets = {"api_secret": two.secrets["api_secret"]}  # copied across rows
        import pytest

        from kmsg_console.crypto import CryptoError

        with pytest.raises(CryptoError):
            services.decrypted_config(one)
        db.session.rollback()


def test_bad_input_re_renders_with_field_errors(app, console, simulator):
    console.login(Role.ADMIN)
    response = console.post(
        "/providers/new?vendor=solapi",
        data={
            "code": "Bad Id!",
            "name": "x",
            "cfg_api_key": "",
            "cfg_api_secret": SECRET,
            "cfg_base_url": "ftp://nope",
        },
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "lower-case" in text and "http://" in text
    assert 'value="x"' in text  # what was typed is kept
    _create_solapi(console, simulator)
    duplicate = _create_solapi(console, simulator)
    assert duplicate.status_code == 422 and "already used" in duplicate.get_data(as_text=True)
    assert console.client.get("/providers/new?vendor=nope").status_code == 404


def test_test_connection_reports_health_latency_and_balance(app, console, simulator):
    console.login(Role.ADMIN)
    _create_solapi(console, simulator)
    provider = _provider(app)
    response = console.htmx_post(f"/providers/{provider.id}/test")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "Healthy" in text and " ms" in text and "KRW" in text
    with app.app_context():
        stored = db.session.get(Provider, provider.id)
        assert stored.health_ok is True and stored.health_latency_ms is not None


def test_test_connection_shows_the_normalized_error(app, console, simulator):
    console.login(Role.ADMIN)
    _create_solapi(console, simulator, secret="wrong-secret")
    provider = _provider(app)
    text = console.htmx_post(f"/providers/{provider.id}/test").get_data(as_text=True)
    assert "Failing" in text and "AUTHENTICATION_FAILED" in text
    assert "wrong-secret" not in text
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "provider.test"))
        assert event.outcome == "failure"


def test_connection_refused_is_a_network_error(app, console):
    console.login(Role.ADMIN)
    console.post(
        "/providers/new?vendor=solapi",
        data={
            "code": "down",
            "name": "down",
            "enabled": "y",
            "cfg_api_key": "k",
            "cfg_api_secret": "s",
            "cfg_base_url": "http://127.0.0.1:9",
        },
    )
    provider = _provider(app, "down")
    text = console.htmx_post(f"/providers/{provider.id}/test").get_data(as_text=True)
    assert "NETWORK_ERROR" in text or "NETWORK_TIMEOUT" in text


LETTERS_ERROR = (
    '<p class="error" role="alert">'
    "Phone number may contain only digits, spaces, hyphens and a leading +.</p>"
)


def test_a_sender_number_carriers_refuse_is_a_field_error_and_nothing_is_saved(
    app, console, simulator
):
    """Saved, it would fail every send at the vendor (SOLAPI 1021) and every OTP start with it."""
    console.login(Role.ADMIN)
    response = _create_solapi(console, simulator, sender="12ab")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert LETTERS_ERROR in html and 'value="12ab"' in html  # what was typed is kept
    with app.app_context():
        assert services.get_by_code("solapi-main") is None
        assert not db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.target_type == "provider")
        ).all()

    assert _create_solapi(console, simulator).status_code == 302
    provider = _provider(app)
    form = {
        "name": "renamed",
        "enabled": "y",
        "cfg_api_key": "demo-api-key",
        "cfg_api_secret": services.MASK,
        "cfg_default_from": "080-123-4567",  # free-call numbers cannot send
        "cfg_base_url": simulator.url("solapi"),
    }
    console.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ko"
    edited = console.post(f"/providers/{provider.id}/edit", data=form)
    html = edited.get_data(as_text=True)
    assert edited.status_code == 422
    assert (
        '<p class="error" role="alert">'
        "발신번호는 휴대전화, 유선, 070 또는 15XX/16XX/18XX 번호여야 합니다.</p>"
    ) in html
    assert _provider(app).settings["default_from"] == "0212345678"
    assert _provider(app).name == "SOLAPI main"
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.target_type == "provider")
        ).all()
    assert actions == ["provider.create"]


def test_landline_mobile_070_and_representative_senders_are_kept_as_digits(app, console, simulator):
    console.login(Role.ADMIN)
    _create_solapi(console, simulator)
    provider = _provider(app)
    for typed, kept in [
        ("1588-1234", "15881234"),
        ("02-123-4567", "021234567"),
        ("031-123-4567", "0311234567"),
        ("070-4123-5678", "07041235678"),
        ("+82 10-2345-6789", "01023456789"),
    ]:
        form = {
            "name": "SOLAPI main",
            "enabled": "y",
            "cfg_api_key": "demo-api-key",
            "cfg_api_secret": services.MASK,
            "cfg_default_from": typed,
            "cfg_base_url": simulator.url("solapi"),
        }
        response = console.post(f"/providers/{provider.id}/edit", data=form)
        assert response.status_code == 302, (typed, response.get_data(as_text=True)[:500])
        assert _provider(app).settings["default_from"] == kept


@pytest.mark.parametrize(
    ("vendor", "field", "values"),
    [
        ("solapi", "default_from", {"api_key": "k", "api_secret": "s"}),
        ("iwinv", "sender_number", {"sms_api_key": "k", "sms_auth_key": "a"}),
        ("aligo", "sender", {"api_key": "k", "user_id": "u"}),
    ],
)
def test_every_vendors_default_sender_is_checked_where_it_is_saved(app, vendor, field, values):
    """services.save_provider, so the console form and the providers command both refuse it."""
    with app.test_request_context():
        with pytest.raises(services.ProviderError) as refused:
            services.save_provider(
                None,
                vendor=vendor,
                code=vendor,
                name=vendor,
                values={**values, field: "12ab"},
                enabled=True,
                actor=None,
            )
        assert refused.value.field == field
        assert services.get_by_code(vendor) is None
        saved = services.save_provider(
            None,
            vendor=vendor,
            code=vendor,
            name=vendor,
            values={**values, field: "1588-1234"},
            enabled=True,
            actor=None,
        )
        assert saved.settings[field] == "15881234"


def test_routing_and_failover_order(app, console, simulator):
    console.login(Role.ADMIN)
    with app.app_context():
        services.ensure_sandbox_provider()
        db.session.commit()
    _create_solapi(console, simulator)
    _create_solapi(console, simulator, code="solapi-backup")
    response = console.post(
        "/providers/routing",
        data={
            "route_DEFAULT": ["sandbox", "", ""],
            "route_SMS": ["solapi-main", "solapi-backup", ""],
            "route_LMS": ["", "", ""],
        },
    )
    assert response.status_code == 302
    with app.test_request_context():
        assert services.routes()["SMS"] == ["solapi-main", "solapi-backup"]
        router = services.build_router()
        assert router.by_type[MessageType.SMS] == ["solapi-main", "solapi-backup"]
        assert router.default_provider_id == "sandbox"
    bad = console.post(
        "/providers/routing", data={"route_DEFAULT": ["sandbox"], "route_SMS": ["ghost"]}
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert 'id="route-error-SMS"' in html and "Unknown provider: ghost" in html
    with app.app_context():
        assert services.routes()["SMS"] == ["solapi-main", "solapi-backup"]


def _route_row(html: str, route: str) -> str:
    start = html.index(f'<tr id="route-{route}"')
    return html[start : html.index("</tr>", start)]


def test_the_sandbox_cannot_follow_a_live_provider_in_a_route(app, console, simulator):
    """A message failing over to the sandbox would never reach its recipient."""
    console.login(Role.ADMIN)
    with app.app_context():
        services.ensure_sandbox_provider()
        db.session.commit()
    _create_solapi(console, simulator)
    response = console.post(
        "/providers/routing",
        data={
            "route_DEFAULT": ["solapi-main", "sandbox", ""],
            "route_SMS": ["solapi-main", "", ""],
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    row = _route_row(html, "DEFAULT")
    assert 'id="route-error-DEFAULT"' in row and "cannot follow a live provider" in row
    # The submitted order is shown again, not the saved one.
    assert '<option value="solapi-main" selected>' in _route_row(html, "SMS")
    with app.app_context():
        assert services.routes() == {"DEFAULT": ["sandbox"]}
        with pytest.raises(services.ProviderError) as refused:
            services.save_routes({"SMS": ["solapi-main", "sandbox"]}, actor=None)
        assert (refused.value.field, refused.value.code) == ("SMS", "sandbox_after_live")
        # A route of only the sandbox (a fresh install's) and a sandbox before a live
        # provider stay valid: neither lets a live provider's failure land in the sandbox.
        services.save_routes({"SMS": ["sandbox"], "LMS": ["sandbox", "solapi-main"]}, actor=None)
        assert services.routes()["LMS"] == ["sandbox", "solapi-main"]


def test_disable_removes_a_provider_from_routing(app, console, simulator):
    console.login(Role.ADMIN)
    _create_solapi(console, simulator)
    provider = _provider(app)
    console.post(f"/providers/{provider.id}/toggle")
    with app.test_request_context():
        assert "solapi-main" not in services.build_router().providers
        actions = list(db.session.scalars(sa.select(AuditEvent.action)))
    assert "provider.disable" in actions


def test_only_admins_manage_providers(console):
    console.login(Role.OPERATOR)
    assert console.client.get("/providers").status_code == 403
    assert console.post("/providers/routing", data={}).status_code == 403


def _vendor_options(html: str) -> list[str]:
    select = re.search(r'<select[^>]*name="vendor"[^>]*>(.*?)</select>', html, re.S)
    return re.findall(r'<option[^>]*value="([^"]*)"', select.group(1)) if select else []


def test_adding_a_provider_without_a_vendor_asks_which_one(console):
    console.login(Role.ADMIN)
    response = console.client.get("/providers/new")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'<form method="get" action="/providers/new"', html)
    assert _vendor_options(html) == list(ADAPTERS)
    assert 'role="alert"' not in html
    chosen = console.client.get("/providers/new?vendor=aligo")
    assert chosen.status_code == 200 and 'name="cfg_user_id"' in chosen.get_data(as_text=True)


def test_an_unknown_vendor_is_answered_with_the_choice_and_one_error(console):
    console.login(Role.ADMIN)
    response = console.client.get("/providers/new?vendor=nope")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert _vendor_options(html) == list(ADAPTERS)
    assert html.count('role="alert"') == 1 and "Choose one of the vendors" in html


def test_only_admins_choose_a_vendor(console):
    console.login(Role.OPERATOR)
    assert console.client.get("/providers/new").status_code == 403
