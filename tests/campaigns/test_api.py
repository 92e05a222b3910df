"""``/api/v1/campaigns``: create (202), read the counts, cancel; answers checked against the
OpenAPI document; sends checked at the SOLAPI simulator."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kmsg_console.api_keys.services import issue_key
from kmsg_console.extensions import db
from kmsg_console.orm import utcnow
from tests.api.openapi_check import OpenApiChecker
from tests.campaigns.conftest import numbers, run_until_done, simulator_numbers


@pytest.fixture
def api(app, client, solapi, clock):
    with app.test_request_context():
        keys = [issue_key(name, ["send"], actor_label="test").plaintext for name in ("a", "b")]
        db.session.commit()
    checker = OpenApiChecker(client.get("/api/v1/openapi.json").get_json())

    class Api:
        def call(self, method, path, template, body=None, key=0):
            response = client.open(
                f"/api/v1{path}",
                method=method,
                json=body,
                headers={"Authorization": f"Bearer {keys[key]}"},
            )
            checker.check(template, method.lower(), response)
            return response

    return Api()


def test_create_send_and_read_a_campaign(app, api, solapi):
    phones = numbers(3)
    body = {
        "name": "점검 안내",
        "text": "#{이름}님, #{날짜} 점검이 있습니다.",
        "variables": {"날짜": "12월 10일"},
        "recipients": [{"to": p, "variables": {"이름": f"고객{i}"}} for i, p in enumerate(phones)]
        + [{"to": phones[0], "variables": {"이름": "중복"}}],
        "rate": 100,
    }
    created = api.call("POST", "/campaigns", "/campaigns", body)
    assert created.status_code == 202
    assert created.get_json()["status"] == "running"
    campaign_id = created.get_json()["id"]
    with app.app_context():
        run_until_done()
    answer = api.call("GET", f"/campaigns/{campaign_id}", "/campaigns/{id}").get_json()
    assert answer["status"] == "completed"
    assert {k: answer[k] for k in ("total", "sent", "failed", "unknown", "skipped", "pending")} == {
        "total": 4,
        "sent": 3,
        "failed": 0,
        "unknown": 0,
        "skipped": 1,
        "pending": 0,
    }
    assert simulator_numbers(solapi) == {p: 1 for p in phones}
    texts = sorted(m["text"] for m in solapi.control.messages("solapi"))
    assert texts[0] == "고객0님, 12월 10일 점검이 있습니다."
    # Another key's campaigns are not found.
    assert api.call("GET", f"/campaigns/{campaign_id}", "/campaigns/{id}", key=1).status_code == 404


def test_invalid_recipients_refuse_the_whole_campaign(app, api, solapi):
    body = {
        "name": "안내",
        "text": "#{이름}님 안내",
        "recipients": [
            {"to": "010-5000-0001", "variables": {"이름": "가"}},
            {"to": "02-123-4567", "variables": {"이름": "나"}},
            {"to": "010-5000-0003"},
        ],
    }
    answer = api.call("POST", "/campaigns", "/campaigns", body)
    assert answer.status_code == 422
    error = answer.get_json()["error"]
    assert error["code"] == "invalid_recipients"
    assert [d["field"] for d in error["details"]] == ["recipients[1]", "recipients[2]"]
    assert "02-123-4567" not in answer.get_data(as_text=True)
    with app.app_context():
        run_until_done()
    assert solapi.control.messages("solapi") == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": "x", "recipients": [{"to": "01050000001"}]}, "invalid_campaign"),
        ({"name": " ", "text": "a", "recipients": [{"to": "01050000001"}]}, "invalid_campaign"),
        (
            {"name": "x", "text": "a", "rate": 10_000, "recipients": [{"to": "01050000001"}]},
            "invalid_rate",
        ),
        (
            {"name": "x", "text": "a", "from": "0" * 30, "recipients": [{"to": "01050000001"}]},
            "invalid_campaign",
        ),
        (
            {"name": "x", "template_code": "NOPE", "recipients": [{"to": "01050000001"}]},
            "unknown_template",
        ),
    ],
)
def test_refusals(api, body, code):
    answer = api.call("POST", "/campaigns", "/campaigns", body)
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (422, code)


def test_a_scheduled_campaign_is_cancelled_before_it_starts(app, api, solapi):
    later = (utcnow() + timedelta(hours=2)).isoformat()
    body = {
        "name": "예약",
        "text": "안내",
        "scheduled_at": later,
        "recipients": [{"to": p} for p in numbers(3)],
    }
    created = api.call("POST", "/campaigns", "/campaigns", body).get_json()
    assert created["status"] == "scheduled"
    path = f"/campaigns/{created['id']}/cancel"
    cancelled = api.call("POST", path, "/campaigns/{id}/cancel").get_json()
    assert (cancelled["status"], cancelled["cancelled"], cancelled["pending"]) == (
        "cancelled",
        3,
        0,
    )
    with app.app_context():
        run_until_done()
    assert solapi.control.messages("solapi") == []
    assert (
        api.call("POST", "/campaigns/cmp_nope/cancel", "/campaigns/{id}/cancel").status_code == 404
    )
