"""POST/GET /api/v1/messages: every error case, idempotency, failover, and the OpenAPI contract."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from openapi_spec_validator import validate

from kmsg_console import sending
from kmsg_console.api_keys.services import issue_key
from kmsg_console.extensions import db, dispose_engines
from kmsg_console.messaging.types import SCHEDULE_HORIZON
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.sandbox import script_sandbox
from kmsg_console.sending.models import MessageAttempt, MessageLog
from tests.api.openapi_check import OpenApiChecker


@pytest.fixture
def api(app, client):
    with app.test_request_context():
        provider_services.ensure_sandbox_provider()
        key = issue_key("shop", ["send", "otp"], actor_label="test").plaintext
        other = issue_key("other", ["send"], actor_label="test").plaintext
        otp_only = issue_key("otp-only", ["otp"], actor_label="test").plaintext
        db.session.commit()
    document = client.get("/api/v1/openapi.json").get_json()

    class Api:
        checker = OpenApiChecker(document)

        def post(self, body, key_=None, headers=None, **kwargs):
            h = {"Authorization": f"Bearer {key_ or key}", **(headers or {})}
            response = client.post("/api/v1/messages", json=body, headers=h, **kwargs)
            self.checker.check("/messages", "post", response)
            return response

        def get(self, message_id, key_=None):
            response = client.get(
                f"/api/v1/messages/{message_id}", headers={"Authorization": f"Bearer {key_ or key}"}
            )
            self.checker.check("/messages/{id}", "get", response)
            return response

    api = Api()
    api.key, api.other, api.otp_only, api.document = key, other, otp_only, document
    return api


def _count(app, model=MessageLog) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_openapi_document_is_valid(api):
    validate(api.document)
    assert set(api.document["paths"]) >= {"/messages", "/messages/{id}"}


def test_send_sms_through_the_sandbox(app, api):
    response = api.post(
        {
            "to": "+82 10-1234-5678",
            "text": "[샵] 주문이 접수되었습니다. #{name}님",
            "variables": {"name": "김"},
        }
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "SENT" and body["type"] == "SMS" and body["to"] == "010-****-5678"
    assert body["attempts"][0]["outcome"] == "accepted"
    fetched = api.get(body["id"])
    assert fetched.status_code == 200 and fetched.get_json()["id"] == body["id"]


def test_long_text_is_upgraded_to_lms(api):
    body = api.post({"to": "01012345678", "text": "가" * 46}).get_json()
    assert body["type"] == "LMS" and body["requested_type"] is None


@pytest.mark.parametrize(
    "payload, status, code",
    [
        ({"text": "no recipient"}, 400, "invalid_request"),
        ({"to": 1012345678, "text": "x"}, 400, "invalid_request"),
        ({"to": "01012345678", "text": "x", "unknown": True}, 400, "invalid_request"),
        ({"to": "01012345678", "text": ["x"]}, 400, "invalid_request"),
        ({"to": "01012345678", "type": "FAX", "text": "x"}, 400, "invalid_request"),
        (
            {"to": "01012345678", "text": "x", "variables": {"a": {"nested": 1}}},
            400,
            "invalid_request",
        ),
        ({"to": "01012345678", "text": "x", "scheduled_at": "tomorrow"}, 400, "invalid_request"),
        (
            {"to": "01012345678", "text": "x", "scheduled_at": "2030-01-01T09:00:00"},
            400,
            "invalid_request",
        ),
        ({"to": "02-123-4567", "text": "landline recipient"}, 422, "invalid_phone"),
        ({"to": "not a phone", "text": "x"}, 422, "invalid_phone"),
        ({"to": "+1 415 555 0100", "text": "x"}, 422, "invalid_phone"),
        ({"to": "01012345678", "type": "SMS", "text": "가" * 46}, 422, "invalid_request"),
        ({"to": "01012345678", "type": "LMS", "text": "가" * 1001}, 422, "invalid_request"),
        (
            {"to": "01012345678", "type": "LMS", "text": "x", "subject": "제" * 21},
            422,
            "invalid_request",
        ),
        ({"to": "01012345678", "text": "hi #{name}"}, 422, "invalid_request"),
        (
            {"to": "01012345678", "type": "ALIMTALK", "template_code": "NOPE", "variables": {}},
            422,
            "unknown_template",
        ),
        ({"to": "01012345678", "text": "x", "provider": "ghost"}, 422, "no_provider"),
    ],
)
def test_bad_input_gets_a_json_error_and_sends_nothing(app, api, payload, status, code):
    response = api.post(payload)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["code"] == code
    assert _count(app) == 0


def test_an_invalid_recipient_is_named_as_the_caller_wrote_it(app, api):
    response = api.post({"to": "010-12", "text": "x"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_phone"
    assert error["message"] == "010-12 is not a valid Korean phone number."
    assert error["details"] == [
        {"field": "to", "code": "INVALID_PHONE_NUMBER", "message": error["message"]}
    ]


def test_a_template_code_without_a_type_is_refused_naming_the_missing_type(app, api):
    # Without a type a message is an SMS (never guessed from other fields).
    response = api.post({"to": "01012345678", "template_code": "WELCOME", "variables": {}})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"] == (
        'type is missing: template_code is for ALIMTALK, so send "type": "ALIMTALK" with it '
        "(a message without a type is an SMS)."
    )
    assert [issue["field"] for issue in error["details"]] == ["type"]
    assert _count(app) == 0


def test_a_template_code_on_another_type_is_refused_naming_it(app, api):
    response = api.post({"to": "01012345678", "type": "LMS", "text": "x", "template_code": "W"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["message"] == "template_code is for ALIMTALK only, not for type LMS."
    assert [issue["field"] for issue in error["details"]] == ["template_code"]
    assert _count(app) == 0


def test_non_json_and_malformed_bodies(app, api, client):
    headers = {"Authorization": f"Bearer {api.key}"}
    assert client.post("/api/v1/messages", data="to=1", headers=headers).status_code in {400, 415}
    bad = client.post(
        "/api/v1/messages",
        data="{not json",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_request"
    array = client.post("/api/v1/messages", json=[1, 2], headers=headers)
    assert array.status_code == 400
    huge = client.post(
        "/api/v1/messages",
        data="x" * (3 * 1024 * 1024),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert huge.status_code == 413 and huge.get_json()["error"]["code"] == "too_large"
    assert _count(app) == 0


def test_no_provider_for_the_type(app, api):
    with app.test_request_context():
        sandbox = provider_services.get_by_code("sandbox")
        sandbox.enabled = False
        db.session.commit()
    response = api.post({"to": "01012345678", "text": "x"})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "no_provider"


def test_authentication_and_scope(api):
    assert api.post({"to": "01012345678", "text": "x"}, key_="kmsg_bad_key").status_code == 401
    assert api.post({"to": "01012345678", "text": "x"}, key_=api.otp_only).status_code == 403


def test_messages_are_private_to_their_key(api):
    message_id = api.post({"to": "01012345678", "text": "x"}).get_json()["id"]
    assert api.get(message_id, key_=api.other).status_code == 404
    assert api.get("does-not-exist").status_code == 404


def test_idempotency_same_body_returns_the_same_message(app, api):
    body = {"to": "01012345678", "text": "주문 확인"}
    first = api.post(body, headers={"Idempotency-Key": "order-1"})
    second = api.post(body, headers={"Idempotency-Key": "order-1"})
    assert first.status_code == 201 and second.status_code == 200
    assert first.get_json()["id"] == second.get_json()["id"]
    assert _count(app) == 1 and _count(app, MessageAttempt) == 1


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


@pytest.mark.parametrize(
    "offset, code",
    [
        (timedelta(seconds=-1), "schedule_passed"),
        (timedelta(0), "schedule_passed"),
        (SCHEDULE_HORIZON + timedelta(seconds=1), "schedule_too_far"),
    ],
)
def test_a_send_time_outside_the_schedule_window_is_refused_before_anything_is_logged(
    app, api, monkeypatch, offset, code
):
    now = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    monkeypatch.setattr(sending.request, "utcnow", lambda: now)
    response = api.post({"to": "01012345678", "text": "x", "scheduled_at": _iso(now + offset)})
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert [(d["field"], d["code"]) for d in error["details"]] == [("scheduled_at", code)]
    assert _count(app) == 0


def test_a_send_time_inside_the_window_is_kept_in_korea_time_or_any_offset(app, api, monkeypatch):
    now = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    monkeypatch.setattr(sending.request, "utcnow", lambda: now)
    last = now + SCHEDULE_HORIZON
    soon = (now + timedelta(minutes=10)).astimezone(timezone(timedelta(hours=9)))  # 17:10+09:00
    for moment in (last, soon):
        response = api.post({"to": "01012345678", "text": "x", "scheduled_at": _iso(moment)})
        assert response.status_code == 201, response.get_json()
    with app.app_context():
        stored = db.session.scalars(
            sa.select(MessageLog.scheduled_at).order_by(MessageLog.id)
        ).all()
    assert stored == [last, soon]


def test_a_replay_after_its_send_time_has_passed_still_returns_the_message(app, api, monkeypatch):
    now = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    clock = [now]
    monkeypatch.setattr(sending.request, "utcnow", lambda: clock[0])
    body = {"to": "01012345678", "text": "x", "scheduled_at": _iso(now + timedelta(hours=1))}
    first = api.post(body, headers={"Idempotency-Key": "reminder-1"})
    clock[0] = now + timedelta(hours=2)  # the client retries after the time it asked for
    replay = api.post(body, headers={"Idempotency-Key": "reminder-1"})
    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.get_json()["id"] == first.get_json()["id"]
    assert api.post(body).status_code == 422  # a new request for that time is refused
    assert _count(app) == 1


def test_idempotency_different_body_is_409(app, api):
    api.post({"to": "01012345678", "text": "A"}, headers={"Idempotency-Key": "k"})
    conflict = api.post({"to": "01012345678", "text": "B"}, headers={"Idempotency-Key": "k"})
    assert (
        conflict.status_code == 409
        and conflict.get_json()["error"]["code"] == "idempotency_conflict"
    )
    other_key = api.post(
        {"to": "01012345678", "text": "B"}, key_=api.other, headers={"Idempotency-Key": "k"}
    )
    assert other_key.status_code == 201  # keys are scoped per API key
    assert _count(app) == 2


def test_concurrent_requests_with_one_idempotency_key_send_once(
    app, api, database_url, instance_dir
):
    from tests.conftest import make_app

    results = []
    # One app per thread, like separate web processes; built before the threads start
    # (building apps concurrently trips a CPython 3.11 ast thread-safety bug in routing).
    apps = [make_app(database_url, instance_dir) for _ in range(8)]
    barrier = threading.Barrier(len(apps), timeout=60)

    def call(worker_app):
        client = worker_app.test_client()
        barrier.wait()
        response = client.post(
            "/api/v1/messages",
            json={"to": "01012345678", "text": "once"},
            headers={"Authorization": f"Bearer {api.key}", "Idempotency-Key": "race"},
        )
        results.append((response.status_code, response.get_json().get("id")))
        with worker_app.app_context():
            dispose_engines()

    threads = [threading.Thread(target=call, args=(worker_app,)) for worker_app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {status for status, _ in results} <= {200, 201}
    assert len({message_id for _, message_id in results}) == 1
    assert _count(app) == 1 and _count(app, MessageAttempt) == 1


def test_scripted_failure_is_recorded_with_codes(app, api):
    script_sandbox("sandbox", ["fail:INSUFFICIENT_BALANCE"])
    body = api.post({"to": "01012345678", "text": "x"}).get_json()
    assert body["status"] == "FAILED"
    # Refused, so nothing was sent: retryable once the account is topped up.
    assert body["error"]["code"] == "INSUFFICIENT_BALANCE" and body["error"]["retryable"] is True


def test_timeout_after_sending_is_unknown_and_never_resent(app, api, simulator):
    # A second provider exists; the timeout must not fail over to it.
    with app.test_request_context():
        for code in ("solapi", "solapi-2"):
            provider_services.save_provider(
                None,
                vendor="solapi",
                code=code,
                name=code,
                enabled=True,
                actor=None,
                values={
                    "api_key": "demo-api-key",
                    "api_secret": "demo-api-secret",
                    "default_from": "0212345678",
                    "base_url": simulator.url("solapi"),
                },
            )
        provider_services.save_routes({"SMS": ["solapi", "solapi-2"]}, actor=None)
        db.session.commit()
    app.config["PROVIDER_READ_TIMEOUT"] = 0.5
    provider_services.forget_adapters()
    simulator.control.inject("solapi", "latency", ms=1500, process=True)
    body = api.post({"to": "01012345678", "type": "SMS", "text": "x"}).get_json()
    assert body["status"] == "UNKNOWN"
    assert [a["provider"] for a in body["attempts"]] == ["solapi"]
    assert body["attempts"][0]["outcome"] == "unknown"
    assert len(simulator.control.requests("solapi", path="/messages/v4/send-many/detail")) == 1


def test_connection_refused_fails_over_to_the_next_provider(app, api, simulator):
    with app.test_request_context():
        for code, base_url in (("down", "http://127.0.0.1:9"), ("up", simulator.url("solapi"))):
            provider_services.save_provider(
                None,
                vendor="solapi",
                code=code,
                name=code,
                enabled=True,
                actor=None,
                values={
                    "api_key": "demo-api-key",
                    "api_secret": "demo-api-secret",
                    "default_from": "0212345678",
                    "base_url": base_url,
                },
            )
        provider_services.save_routes({"SMS": ["down", "up"]}, actor=None)
        db.session.commit()
    body = api.post({"to": "01012345678", "type": "SMS", "text": "x"}).get_json()
    assert body["status"] == "SENT" and body["provider"] == "up"
    assert [(a["provider"], a["outcome"], a["trigger"]) for a in body["attempts"]] == [
        ("down", "failed", "initial"),
        ("up", "accepted", "failover"),
    ]


def test_log_row_exists_before_the_provider_is_called(app, api, monkeypatch):
    """A crash inside the provider call leaves a row saying the outcome is unknown."""
    from kmsg_console.providers.adapters.sandbox import SandboxAdapter

    seen = {}

    def crash(self, message):
        with app.app_context():
            row = db.session.scalar(sa.select(MessageLog))
            attempt = db.session.scalar(sa.select(MessageAttempt))
            seen["status"], seen["attempt"] = row.status, attempt.outcome
        raise SystemExit("process killed mid-send")

    monkeypatch.setattr(SandboxAdapter, "send", crash)
    with pytest.raises(SystemExit):
        api.post({"to": "01012345678", "text": "x"})
    assert seen == {"status": "UNKNOWN", "attempt": "in_flight"}
    with app.app_context():
        row = db.session.scalar(sa.select(MessageLog))
        assert row.status == "UNKNOWN"


def test_plaintext_number_and_body_are_in_no_column(app, api):
    api.post({"to": "010-9876-5432", "text": "비밀 본문 secret-body-123"})
    with app.app_context():
        for table in ("message_log", "message_attempt", "message_event", "sandbox_delivery"):
            rows = db.session.execute(sa.text(f"SELECT * FROM {table}")).mappings().all()
            dump = str(rows)
            assert "01098765432" not in dump and "9876-5432" not in dump, table
            assert "secret-body-123" not in dump, table
