"""The upgrade registers the senders providers already use: an install keeps sending."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from kmsg_console import migrate, sending
from kmsg_console.extensions import db, dispose_engines
from kmsg_console.providers.models import Provider, RoutingRule
from kmsg_console.sender_numbers.models import SenderNumber, SenderNumberProvider
from kmsg_console.sending.models import MessageSource
from tests.conftest import _postgres_database, make_app

BEFORE = "e2a7c4d91f36"  # the opt-out list, the revision before sender numbers


@pytest.fixture(params=["sqlite", "postgresql"])
def old_install(request, tmp_path):
    if request.param == "sqlite":
        source = iter([f"sqlite:///{tmp_path / 'old.db'}"])
    else:
        source = _postgres_database()
    app = make_app(next(source), tmp_path / "instance")
    migrate.upgrade(app, BEFORE)
    yield app
    with app.app_context():
        db.session.remove()
        dispose_engines()
    for _rest in source:
        pass


def test_upgrade_registers_default_senders_and_sending_goes_on(old_install, simulator):
    app = old_install
    with app.app_context():
        keyring = app.config["KEYRING"]
        # Rows as the old revision knows them: a bulk INSERT names only the given columns
        # (and their defaults), so columns later revisions add to the models stay out.
        db.session.execute(
            sa.insert(Provider),
            [
                {
                    "code": "solapi-main",
                    "name": "SOLAPI",
                    "vendor": "solapi",
                    "settings": {
                        "api_key": "demo-api-key",
                        "default_from": "0212345678",
                        "base_url": simulator.url("solapi"),
                    },
                    "secrets": {
                        "api_secret": keyring.encrypt(
                            "demo-api-secret", "provider:solapi-main:api_secret"
                        )
                    },
                },
                {
                    "code": "aligo-main",
                    "name": "Aligo",
                    "vendor": "aligo",
                    "settings": {"user_id": "demo", "sender": "02-9999-8888"},
                    "secrets": {},
                    "enabled": False,
                },
                {
                    "code": "iwinv-main",
                    "name": "IWINV",
                    "vendor": "iwinv",
                    "settings": {},
                    "secrets": {},
                    "enabled": False,
                },
                {
                    "code": "sandbox",
                    "name": "Sandbox",
                    "vendor": "sandbox",
                    "settings": {},
                    "secrets": {},
                },
            ],
        )
        db.session.execute(
            sa.insert(RoutingRule), [{"message_type": "SMS", "provider_codes": ["solapi-main"]}]
        )
        db.session.commit()
        db.session.remove()
        dispose_engines()
    migrate.upgrade(app)
    with app.app_context():
        rows = db.session.execute(
            sa.select(
                SenderNumber.number,
                SenderNumber.status,
                SenderNumber.verified_by,
                SenderNumberProvider.provider_code,
                SenderNumberProvider.source,
            )
            .join(SenderNumberProvider)
            .order_by(SenderNumberProvider.provider_code)
        ).all()
        assert rows == [
            ("0299998888", "verified", "migration", "aligo-main", "migration"),
            ("0212345678", "verified", "migration", "sandbox", "migration"),
            ("0212345678", "verified", "migration", "solapi-main", "migration"),
        ]
        db.session.remove()
    simulator.control.clear_requests()
    with app.test_request_context():
        result = sending.send(
            sending.SendRequest(to="01023456789", text="배송이 시작되었습니다."),
            source=MessageSource.API,
        )
        assert result.log.status in ("SENT", "PENDING"), result.log.error_code
        sandbox = sending.send(
            sending.SendRequest(to="01023456789", text="hi", provider="sandbox"),
            source=MessageSource.API,
        )
        assert sandbox.log.status == "SENT"
        db.session.remove()
    [request] = simulator.control.requests("solapi", path="/messages/v4/send-many/detail")
    assert request["body"]["messages"][0]["from"] == "0212345678"


def test_downgrade_drops_the_tables(old_install):
    app = old_install
    migrate.upgrade(app)
    config = migrate.alembic_config(app)
    with app.app_context(), db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, BEFORE)
    with app.app_context():
        tables = sa.inspect(db.engine).get_table_names()
        db.session.remove()
    assert "sender_number" not in tables and "sender_number_provider" not in tables
