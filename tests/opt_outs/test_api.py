"""POST/GET /api/v1/opt-outs: add and check numbers with a ``send`` key; audited with the key
as actor; numbers only ever answered masked; every answer as the OpenAPI document says."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kmsg_console.api_keys.services import issue_key
from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.opt_outs.models import OptOut
from tests.api.openapi_check import OpenApiChecker


@pytest.fixture
def api(app, client):
    with app.test_request_context():
        send = issue_key("crm", ["send"], actor_label="test")
        otp_only = issue_key("otp-only", ["otp"], actor_label="test").plaintext
        db.session.commit()
    checker = OpenApiChecker(client.get("/api/v1/openapi.json").get_json())

    class Api:
        def post(self, body, key=None):
            response = client.post(
                "/api/v1/opt-outs",
                json=body,
                headers={"Authorization": f"Bearer {key or send.plaintext}"},
            )
            checker.check("/opt-outs", "post", response)
            return response

        def get(self, phone=None, key=None):
            query = {} if phone is None else {"phone": phone}
            response = client.get(
                "/api/v1/opt-outs",
                query_string=query,
                headers={"Authorization": f"Bearer {key or send.plaintext}"},
            )
            checker.check("/opt-outs", "get", response)
            return response

    api = Api()
    api.otp_only = otp_only
    return api


def _rows(app):
    with app.app_context():
        rows = list(db.session.scalars(sa.select(OptOut).order_by(OptOut.id)))
        db.session.expunge_all()
        return rows


def test_a_new_number_is_201_and_the_same_number_again_200(app, api):
    first = api.post({"phone": "+82 10-1234-5678", "note": "replied 거부"})
    assert first.status_code == 201
    body = first.get_json()
    assert body["phone"] == "010-****-5678" and body["scope"] == "global"
    assert body["source"] == "api" and body["note"] == "replied 거부"
    again = api.post({"phone": "01012345678", "scope": "global"})
    assert again.status_code == 200 and again.get_json()["phone"] == "010-****-5678"
    assert len(_rows(app)) == 1
    assert "12345678" not in first.get_data(as_text=True)


def test_a_scope_is_an_080_line(app, api):
    response = api.post({"phone": "010-1234-5678", "scope": "080-123-4567"})
    assert response.status_code == 201 and response.get_json()["scope"] == "080-123-4567"
    [row] = _rows(app)
    assert row.scope == "0801234567"


@pytest.mark.parametrize(
    "body, field, code",
    [
        ({"phone": "02-123-4567"}, "phone", "invalid_phone"),
        ({"phone": "010-12"}, "phone", "invalid_phone"),
        ({"phone": "010-1234-5678", "scope": "010-1234-5678"}, "scope", "invalid_scope"),
    ],
)
def test_bad_input_is_422_with_the_field(app, api, body, field, code):
    response = api.post(body)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == code and error["details"][0]["field"] == field
    assert "1234-5678" not in error["message"]
    assert _rows(app) == []


@pytest.mark.parametrize(
    "body", [{}, {"phone": "010-1234-5678", "extra": 1}, {"phone": "x", "note": "n" * 201}]
)
def test_schema_errors_are_400(api, body):
    assert api.post(body).status_code == 400


def test_the_key_needs_the_send_scope(app, api):
    assert api.post({"phone": "010-1234-5678"}, key=api.otp_only).status_code == 403
    assert api.get("010-1234-5678", key=api.otp_only).status_code == 403
    assert _rows(app) == []


def test_an_addition_is_audited_with_the_api_key_as_actor(app, api):
    api.post({"phone": "010-1234-5678"})
    api.post({"phone": "010-1234-5678"})  # already present: no second event
    with app.app_context():
        [event] = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "opt_out.add")
        ).all()
        assert event.actor_id is None and event.actor_label.startswith("API key crm (")
        assert event.details["after"]["phone"] == "010-****-5678"
        [row] = db.session.scalars(sa.select(OptOut)).all()
        assert row.created_by == event.actor_label


def test_a_number_is_checked_in_any_spelling(api):
    response = api.get("010-1234-5678")
    assert response.status_code == 200
    assert response.get_json() == {"phone": "010-****-5678", "listed": False, "scopes": []}
    api.post({"phone": "010-1234-5678", "scope": "080-123-4567"})
    api.post({"phone": "+82 10 1234 5678"})
    body = api.get("+821012345678").get_json()
    assert body == {
        "phone": "010-****-5678",
        "listed": True,
        "scopes": ["080-123-4567", "global"],
    }


def test_a_check_without_a_valid_number_is_refused(api):
    assert api.get().status_code == 400
    assert api.get("").status_code == 400
    assert api.get("1" * 33).status_code == 400
    response = api.get("02-123-4567")
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_phone"


def test_there_is_no_delete(client, api):
    response = client.delete("/api/v1/opt-outs")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {
        "GET",
        "HEAD",
        "OPTIONS",
        "POST",
    }
