"""Fixtures: a SOLAPI provider on the simulator (the only provider), an API key, a fixed clock."""

from __future__ import annotations

from datetime import datetime

import pytest

from kmsg_console.api_keys.services import issue_key
from kmsg_console.extensions import db
from kmsg_console.messaging.advertising import KST
from kmsg_console.providers import services as provider_services
from kmsg_console.sending import rules
from tests.api.openapi_check import OpenApiChecker
from tests.message_templates.conftest import SOLAPI_PF_ID

#: An advertising text with every part the rules ask for.
AD_TEXT = "(광고) 케이샵\n겨울 세일 30%\n무료수신거부 080-123-4567"
#: Noon in Korea: inside the allowed hours of every type.
NOON = datetime(2026, 12, 8, 12, 0, tzinfo=KST)


@pytest.fixture
def solapi(app, simulator):
    """The SOLAPI simulator as the only provider (SMS, LMS, FriendTalk)."""
    with app.test_request_context():
        provider_services.save_provider(
            None,
            vendor="solapi",
            code="solapi-main",
            name="SOLAPI",
            values={
                "api_key": "demo-api-key",
                "api_secret": "demo-api-secret",
                "default_from": "0212345678",
                "kakao_pf_id": SOLAPI_PF_ID,
                "base_url": simulator.url("solapi"),
            },
            enabled=True,
            actor=None,
        )
        db.session.commit()
    return simulator


def sent_to_solapi(simulator) -> list[dict]:
    """The messages the SOLAPI simulator received."""
    return simulator.control.messages("solapi")


@pytest.fixture
def clock(monkeypatch):
    """Set the sending rules' clock: ``clock(datetime)``; noon KST until a test sets it."""

    def set_clock(moment: datetime) -> None:
        monkeypatch.setattr(rules, "clock", lambda: moment)

    set_clock(NOON)
    return set_clock


@pytest.fixture
def api(app, client, solapi, clock):
    with app.test_request_context():
        key = issue_key("shop", ["send"], actor_label="test").plaintext
        db.session.commit()

    checker = OpenApiChecker(client.get("/api/v1/openapi.json").get_json())

    class Api:
        """Every answer is checked against the OpenAPI document."""

        def post(self, body, headers=None):
            response = client.post(
                "/api/v1/messages",
                json=body,
                headers={"Authorization": f"Bearer {key}", **(headers or {})},
            )
            checker.check("/messages", "post", response)
            return response

        def get(self, message_id):
            response = client.get(
                f"/api/v1/messages/{message_id}", headers={"Authorization": f"Bearer {key}"}
            )
            checker.check("/messages/{id}", "get", response)
            return response

    return Api()
