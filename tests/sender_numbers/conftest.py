"""Fixtures for sender numbers: service calls in a request context, an API key, providers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from kmsg_console.api_keys.services import issue_key
from kmsg_console.extensions import db
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.sandbox import sandbox_clear, sandbox_outbox
from kmsg_console.providers.models import Provider, RoutingRule
from kmsg_console.sender_numbers import services
from kmsg_console.sender_numbers.models import RegistrationSource


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield app
        db.session.rollback()


@pytest.fixture
def actor():
    return SimpleNamespace(id=None, email="admin@example.com")


@pytest.fixture
def sandbox(app):
    """The installed sandbox (its default sender 02-1234-5678 registered) and an empty outbox."""
    sandbox_clear()
    with app.app_context():
        provider_services.ensure_sandbox_provider()
        db.session.commit()
    yield "sandbox"
    sandbox_clear()


@pytest.fixture
def api_key(app, sandbox):
    with app.app_context():
        key = issue_key("shop", ["send"], actor_label="test").plaintext
        db.session.commit()
    return key


@pytest.fixture
def send_api(client, api_key):
    def post(body):
        return client.post(
            "/api/v1/messages", json=body, headers={"Authorization": f"Bearer {api_key}"}
        )

    return post


def add_sandbox(app, code: str, sms_route: list[str] | None = None) -> None:
    """Another sandbox provider (nothing registered for it), optionally an SMS route."""
    with app.app_context():
        db.session.add(Provider(code=code, name=code, vendor="sandbox", settings={}, secrets={}))
        if sms_route is not None:
            db.session.add(RoutingRule(message_type="SMS", provider_codes=sms_route))
        db.session.commit()


def register(app, number: str, providers: list[str], *, verified: bool = True) -> None:
    with app.test_request_context():
        services.register(
            number,
            providers=providers,
            verified=verified,
            source=RegistrationSource.CLI,
            actor_label="test",
        )
        db.session.commit()


def delivered(provider: str | None = None) -> list:
    return sandbox_outbox(provider)
