"""Webhook endpoints: SSRF refusals, the API (scope ``webhooks``) and the console (admins)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kmsg_console.api_keys.services import issue_key
from kmsg_console.audit.models import AuditEvent
from kmsg_console.events import safety, services
from kmsg_console.events.models import WebhookDelivery, WebhookEndpoint
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from tests.api.openapi_check import OpenApiChecker
from tests.conftest import Console
from tests.events.conftest import add_endpoint, deliveries, run_deliveries
from tests.events.test_delivery import _emit

FORBIDDEN = ["127.0.0.1", "10.0.0.1", "169.254.169.254", "::1"]


@pytest.fixture
def dns(monkeypatch):
    """Plays DNS: ``dns["hooks.example.com"] = ["127.0.0.1"]``."""
    answers: dict[str, list[str]] = {}

    def resolve(host: str, port: int) -> list[str]:
        if host in answers:
            return answers[host]
        raise OSError("no such host")

    monkeypatch.setattr(safety, "resolve", resolve)
    return answers


@pytest.mark.parametrize("address", FORBIDDEN)
def test_hosts_resolving_to_private_addresses_are_refused_by_default(app, dns, address):
    dns["hooks.example.com"] = ["93.184.216.34", address]
    with app.test_request_context():
        with pytest.raises(services.EndpointError) as refused:
            services.create_endpoint("https://hooks.example.com/in", ["message.sent"])
        assert address in str(refused.value)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint)) == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://localhost/hook",
        "http://hooks.example.com/hook",  # https only
        "https://user:pw@hooks.example.com/hook",
        "ftp://hooks.example.com/hook",
    ],
)
def test_literal_private_addresses_and_plain_http_are_refused(app, url, monkeypatch):
    with app.test_request_context():
        with pytest.raises(services.EndpointError):
            services.check_url(url)


def test_a_public_host_is_accepted_and_the_setting_allows_private_targets(app, dns):
    dns["hooks.example.com"] = ["93.184.216.34"]
    with app.test_request_context():
        assert services.check_url("https://hooks.example.com/in")
        app.config["WEBHOOK_ALLOW_PRIVATE"] = True
        for url in ("http://127.0.0.1:8080/in", "https://[::1]/in", "http://10.0.0.1/in"):
            assert services.check_url(url) == url


def test_dns_changing_after_registration_is_caught_at_delivery(app, dns, receiver):
    dns["hooks.example.com"] = ["93.184.216.34"]
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    add_endpoint(app, "https://hooks.example.com/in")
    dns["hooks.example.com"] = ["169.254.169.254"]
    _emit(app)
    run_deliveries(app, rounds=1)
    [row] = deliveries(app)
    assert row.attempts == 1 and row.status == "pending" and row.last_status_code is None
    assert "169.254.169.254" in row.last_error
    assert receiver.requests == []


def test_redirects_are_not_followed(app, receiver):
    receiver.answers.append(302)
    add_endpoint(app, receiver.url)
    _emit(app)
    run_deliveries(app, rounds=1)
    [row] = deliveries(app)
    assert row.status == "pending" and row.last_status_code == 302 and len(receiver.requests) == 1


# -- API ---------------------------------------------------------------------------------------


@pytest.fixture
def api(app, client):
    with app.app_context():
        key = issue_key("integrator", ["webhooks"], actor_label="test").plaintext
        otp_only = issue_key("otp-only", ["otp"], actor_label="test").plaintext
        db.session.commit()
    checker = OpenApiChecker(client.get("/api/v1/openapi.json").get_json())

    def call(method: str, path: str, key: str | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {key or api.key}"}
        return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    api = call
    api.key, api.otp_only, api.checker = key, otp_only, checker
    return api


def test_api_registers_lists_rotates_and_deletes_endpoints(app, api, dns):
    dns["hooks.example.com"] = ["93.184.216.34"]
    body = {"url": "https://hooks.example.com/in", "event_types": ["message.delivered"]}
    assert api("POST", "/webhook-endpoints", key=api.otp_only, json=body).status_code == 403
    created = api("POST", "/webhook-endpoints", json=body)
    assert created.status_code == 201, created.get_json()
    api.checker.check("/webhook-endpoints", "post", created)
    endpoint = created.get_json()
    assert endpoint["secret"].startswith("whsec_") and endpoint["enabled"] is True
    listed = api("GET", "/webhook-endpoints")
    api.checker.check("/webhook-endpoints", "get", listed)
    assert [e["id"] for e in listed.get_json()["data"]] == [endpoint["id"]]
    assert "secret" not in listed.get_json()["data"][0]
    rotated = api("POST", f"/webhook-endpoints/{endpoint['id']}/rotate-secret")
    api.checker.check("/webhook-endpoints/{id}/rotate-secret", "post", rotated)
    assert rotated.get_json()["secret"] != endpoint["secret"]
    assert rotated.get_json()["previous_secret_valid_until"]
    assert api("DELETE", f"/webhook-endpoints/{endpoint['id']}").status_code == 204
    assert api("DELETE", f"/webhook-endpoints/{endpoint['id']}").status_code == 404
    with app.app_context():
        actions = list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))
        assert actions[-3:] == [
            "webhook_endpoint.create",
            "webhook_endpoint.rotate_secret",
            "webhook_endpoint.delete",
        ]
        # The secret is stored encrypted, never in clear.
        assert endpoint["secret"] not in str(
            db.session.execute(sa.text("SELECT * FROM webhook_endpoint")).all()
        )


@pytest.mark.parametrize("address", FORBIDDEN)
def test_api_refuses_private_targets_with_422(app, api, dns, address):
    dns["hooks.example.com"] = [address]
    response = api(
        "POST",
        "/webhook-endpoints",
        json={"url": "https://hooks.example.com/in", "event_types": ["message.sent"]},
    )
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_url"
    api.checker.check("/webhook-endpoints", "post", response)


def test_api_refuses_unknown_event_types_and_fields(api):
    for body in (
        {"url": "https://hooks.example.com/in", "event_types": ["message.read"]},
        {"url": "https://hooks.example.com/in", "event_types": []},
        {"url": "https://hooks.example.com/in", "event_types": ["message.sent"], "secret": "x"},
    ):
        assert api("POST", "/webhook-endpoints", json=body).status_code == 400


def test_openapi_describes_every_event_payload(client):
    document = client.get("/api/v1/openapi.json").get_json()
    from kmsg_console.events.types import ALL_TYPES

    mapping = document["components"]["schemas"]["WebhookEvent"]["discriminator"]["mapping"]
    assert set(mapping) == set(ALL_TYPES)
    assert "event" in document["webhooks"]
    names = [p["name"] for p in document["webhooks"]["event"]["post"]["parameters"]]
    assert names == ["X-Webhook-Id", "X-Webhook-Timestamp", "X-Webhook-Signature"]


# -- console -----------------------------------------------------------------------------------


def test_only_admins_reach_the_webhook_pages(app, console):
    console.login(Role.OPERATOR)
    assert console.client.get("/webhook-endpoints").status_code == 403
    assert console.post("/webhook-endpoints", {"url": "https://x.example"}).status_code == 403


def test_admin_adds_an_endpoint_sees_the_secret_once_and_redelivers(app, console, receiver):
    console.login(Role.ADMIN)
    page = console.post(
        "/webhook-endpoints",
        {"url": receiver.url, "event_types": ["provider.recovered"], "enabled": "y"},
    )
    assert page.status_code == 200
    with app.app_context():
        [endpoint] = services.list_endpoints()
        secret = services.signing_secrets(endpoint, endpoint.created_at)[0]
        public_id = endpoint.public_id
    assert secret in page.get_data(as_text=True)
    assert secret not in console.client.get("/webhook-endpoints").get_data(as_text=True)
    _emit(app)
    run_deliveries(app)
    detail = console.client.get(f"/webhook-endpoints/{public_id}").get_data(as_text=True)
    assert secret not in detail and "provider.recovered" in detail and "HTTP 200" in detail
    [row] = deliveries(app)
    path = f"/webhook-endpoints/{public_id}/deliveries/{row.id}/redeliver"
    assert console.client.post(path).status_code == 400  # no CSRF token
    assert console.post(path).status_code == 302
    run_deliveries(app)
    [row] = deliveries(app)
    assert row.attempts == 2 and [a.status_code for a in row.attempt_log] == [200, 200]
    assert len(receiver.requests) == 2
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(AuditEvent.action == "webhook_endpoint.redeliver")
            )
            == 1
        )


def test_the_form_refuses_bad_input_with_422(app, console, dns):
    console.login(Role.ADMIN)
    dns["hooks.example.com"] = ["10.0.0.1"]
    for data in (
        {"url": "https://hooks.example.com/in", "event_types": ["message.sent"]},
        {"url": "https://hooks.example.com/in"},
        {"url": "", "event_types": ["message.sent"]},
        {"url": "https://hooks.example.com/in", "event_types": ["nope"]},
    ):
        response = console.post("/webhook-endpoints", data)
        assert response.status_code == 422, data
    with app.app_context():
        assert services.list_endpoints() == []
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 0


def test_admin_edits_rotates_and_deletes(app, console, receiver):
    console.login(Role.ADMIN)
    public_id, old = add_endpoint(app, receiver.url)
    response = console.post(
        f"/webhook-endpoints/{public_id}",
        {"url": receiver.url, "event_types": ["message.failed"], "description": "주문 서버"},
    )
    assert response.status_code == 302
    with app.app_context():
        endpoint = services.find_endpoint(public_id)
        assert endpoint.event_types == ["message.failed"] and endpoint.enabled is False
    rotated = console.post(f"/webhook-endpoints/{public_id}/rotate-secret")
    assert rotated.status_code == 200 and "whsec_" in rotated.get_data(as_text=True)
    assert old not in rotated.get_data(as_text=True)
    assert console.post(f"/webhook-endpoints/{public_id}/delete").status_code == 302
    with app.app_context():
        assert services.list_endpoints() == []


def test_admins_see_failing_endpoints_on_the_dashboard(app, console, receiver):
    public_id, _secret = add_endpoint(app, receiver.url)
    with app.app_context():
        endpoint = services.find_endpoint(public_id)
        endpoint.failing_since = endpoint.created_at
        db.session.commit()
    console.login(Role.ADMIN)
    page = console.client.get("/").get_data(as_text=True)
    assert 'id="failing-webhooks"' in page and "Webhook endpoints failing: 1." in page
    assert "Failing" in console.client.get("/webhook-endpoints").get_data(as_text=True)
    viewer = Console(app, app.test_client())
    viewer.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    viewer.login(Role.VIEWER)
    assert "failing-webhooks" not in viewer.client.get("/").get_data(as_text=True)


def test_delivery_connects_to_the_checked_address_keeping_the_host_name(receiver):
    from kmsg_console.events import delivery

    port = receiver.server.server_address[1]
    # A host name no DNS knows: only the pinned address can be reached.
    status, error, _excerpt = delivery._post(  # noqa: SLF001
        f"http://hooks.invalid:{port}/in", b"{}", {"X-Webhook-Id": "evt_1"}, "127.0.0.1"
    )
    assert (status, error) == (200, None)
    [request] = receiver.requests
    assert request.headers["Host"] == f"hooks.invalid:{port}" and request.path == "/in"
    status, error, _ = delivery._post(  # noqa: SLF001
        f"http://hooks.invalid:{port}/in", b"{}", {}, None
    )
    assert status is None and "ConnectionError" in error
