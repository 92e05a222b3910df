"""Fixtures for the manual send console: a sandbox provider and an operator's id."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.operators.models import Operator, Role
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.sandbox import sandbox_clear
from kmsg_console.providers.models import Provider, RoutingRule
from kmsg_console.sender_numbers.services import register_default_sender
from kmsg_console.sending.models import MessageLog


@pytest.fixture
def sandbox(app):
    """The built-in sandbox provider, routed as the default, with an empty script."""
    sandbox_clear()
    with app.app_context():
        provider_services.ensure_sandbox_provider()
        db.session.commit()
    yield "sandbox"
    sandbox_clear()


@pytest.fixture
def add_sandbox(app):
    """Add another sandbox provider, optionally routed for SMS after ``after``."""

    def add(
        code: str, name: str, *, sms_route: list[str] | None = None, enabled: bool = True
    ) -> None:
        with app.test_request_context():
            db.session.add(
                Provider(
                    code=code, name=name, vendor="sandbox", enabled=enabled, settings={}, secrets={}
                )
            )
            if sms_route is not None:
                db.session.add(RoutingRule(message_type="SMS", provider_codes=sms_route))
            db.session.flush()
            # Its default sender (the sandbox's built-in one) registered for it, as saving
            # a provider in the console does.
            register_default_sender(provider_services.get_by_code(code), actor_label="test")
            db.session.commit()

    return add


@pytest.fixture
def operator(console):
    """Sign in as an operator; return the operator's id."""
    email = console.login(Role.OPERATOR)
    with console.app.app_context():
        return db.session.scalar(sa.select(Operator.id).where(Operator.email == email))


def message_logs(app) -> list[MessageLog]:
    with app.app_context():
        logs = list(db.session.scalars(sa.select(MessageLog).order_by(MessageLog.id)))
        db.session.expunge_all()
        return logs


def flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))
