"""The API's message carries the SMS/LMS the console sent in place of an AlimTalk."""

from __future__ import annotations

import sqlalchemy as sa

from kmsg_console.api_keys.services import issue_key
from kmsg_console.extensions import db
from kmsg_console.sending.models import MessageLog
from tests.api.openapi_check import OpenApiChecker
from tests.worker.conftest import NON_KAKAO, TEMPLATE, load, round_


def test_the_api_message_carries_its_fallback(app, client, simulator, route, clock):
    route("solapi")
    with app.test_request_context():
        key = issue_key("shop", ["send"], actor_label="test").plaintext
        db.session.commit()
    headers = {"Authorization": f"Bearer {key}"}
    checker = OpenApiChecker(client.get("/api/v1/openapi.json").get_json())
    sent = client.post(
        "/api/v1/messages",
        headers=headers,
        json={
            "to": NON_KAKAO,
            "type": "ALIMTALK",
            "template_code": TEMPLATE,
            "variables": {"service": "kmsg", "code": "1"},
            "failover": {"enabled": True, "channel": "sms", "content": "카카오톡 대신 문자"},
        },
    )
    checker.check("/messages", "post", sent)
    assert sent.status_code == 201 and sent.get_json()["fallback"] is None
    message = sent.get_json()["id"]
    simulator.control.set_status("solapi", load(app, message).provider_message_id, "non_kakao_user")
    clock.advance(seconds=31)
    round_(app)
    with app.app_context():
        child = db.session.scalar(
            sa.select(MessageLog.public_id).where(
                MessageLog.fallback_of_id == load(app, message).id
            )
        )

    def get(public_id):
        response = client.get(f"/api/v1/messages/{public_id}", headers=headers)
        checker.check("/messages/{id}", "get", response)
        return response.get_json()

    assert get(message)["fallback"] == {"message_id": child, "type": "SMS", "status": "SENT"}
    assert get(child)["fallback"] is None  # sent with the same key, in the AlimTalk's place
