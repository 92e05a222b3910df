"""Regressions found by fuzzing the API (tests/api/test_fuzz.py, bench/fuzz_api.py).

Each test names the request that used to fail. Every answer is also checked against the
served OpenAPI document.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from jsonschema import Draft202012Validator

from kmsg_console.api_keys.services import issue_key
from kmsg_console.extensions import db
from kmsg_console.otp.models import Verification
from kmsg_console.otp.services import ensure_default_purposes
from kmsg_console.providers import services as provider_services
from kmsg_console.sending import rules
from kmsg_console.sending.models import MessageLog
from kmsg_console.throttle import engine as throttle_engine
from kmsg_console.throttle.engine import ThrottleUnavailable
from kmsg_console.throttle.models import KeyKind, ThrottleMode
from kmsg_console.throttle.services import PolicyData, WindowData, create_policy
from tests.api.openapi_check import OpenApiChecker

PATHS = {"/api/v1/messages": "/messages", "/api/v1/verifications": "/verifications"}


@pytest.fixture
def api(app, client):
    with app.test_request_context():
        provider_services.ensure_sandbox_provider()
        ensure_default_purposes()
        key = issue_key("fuzz-regressions", ["send", "otp"], actor_label="test").plaintext
        db.session.commit()
    document = client.get("/api/v1/openapi.json").get_json()
    checker = OpenApiChecker(document)

    class Api:
        def __init__(self) -> None:
            self.document = document
            self.auth = {"Authorization": f"Bearer {key}"}

        def post(self, path, body=None, *, raw=None, headers=None, content_type="application/json"):
            data = raw if raw is not None else json.dumps(body)
            response = client.post(
                path, data=data, content_type=content_type, headers={**self.auth, **(headers or {})}
            )
            self.conforms(path, "post", response)
            return response

        def get(self, path):
            response = client.get(path, headers=self.auth)
            self.conforms(path, "get", response)
            return response

        @staticmethod
        def conforms(path, method, response):
            template = PATHS.get(path) or (
                "/messages/{id}"
                if path.startswith("/api/v1/messages/")
                else "/verifications/{id}/check"
            )
            checker.check(template, method, response)
            assert response.mimetype == "application/json"

    return Api()


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _error(response, status, code="invalid_request"):
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


# -- U+0000: PostgreSQL text columns cannot hold it; the lookups failed with DataError (500) ----


@pytest.mark.parametrize(
    "path, body, field",
    [
        # POST /api/v1/verifications {"phone": ..., "purpose": "\x1e]¦\U000e6653\x00..."} -> 500 (found by the fuzzer)
        ("/api/v1/verifications", {"phone": "01012345678", "purpose": "lo\x00gin"}, "purpose"),
        (
            "/api/v1/verifications",
            {"phone": "01012345678", "purpose": "login", "user_ref": "\x00"},
            "user_ref",
        ),
        ("/api/v1/messages", {"to": "01012345678", "template_code": "A\x00"}, "template_code"),
        ("/api/v1/messages", {"to": "01012345678", "text": "a\x00b"}, "text"),
        (
            "/api/v1/messages",
            {"to": "01012345678", "text": "#{a}", "variables": {"a": "\x00"}},
            "variables.a",
        ),
        ("/api/v1/messages", {"to": "010\x001234\x005678", "text": "x"}, "to"),
    ],
)
def test_nul_characters_are_refused_with_400_on_every_backend(app, api, path, body, field):
    error = _error(api.post(path, body), 400)
    assert error["details"][0]["field"] == field
    assert "U+0000" in error["message"]
    assert _count(app, MessageLog) == 0 and _count(app, Verification) == 0


def test_nul_in_the_idempotency_key_is_refused(app, api):
    # POST /api/v1/messages with "Idempotency-Key: a\x00" -> 500 on PostgreSQL
    for value in ["a\x00", "a\tb", "x" * 256]:
        error = _error(
            api.post(
                "/api/v1/messages",
                {"to": "01012345678", "text": "x"},
                headers={"Idempotency-Key": value},
            ),
            400,
        )
        assert error["details"][0]["field"] == "Idempotency-Key"
    assert _count(app, MessageLog) == 0


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/messages/a%00b",  # GET -> 500 on PostgreSQL
        "/api/v1/messages/" + "a" * 65,
    ],
)
def test_impossible_message_ids_are_not_found(api, path):
    _error(api.get(path), 404, "not_found")


def test_impossible_verification_ids_are_not_found(api):
    # POST /api/v1/verifications/a%00b/check {"code": "1"} -> 500 on PostgreSQL
    _error(api.post("/api/v1/verifications/a%00b/check", {"code": "123456"}), 404, "not_found")


# -- unpaired surrogates: "\ud800" is legal JSON text but no UTF-8 string (UnicodeEncodeError, 500) ---


@pytest.mark.parametrize(
    "path, raw",
    [
        ("/api/v1/messages", '{"to": "01012345678", "text": "a\\ud800b"}'),
        ("/api/v1/messages", '{"to": "01012345678", "text": "x", "template_code": "\\udc00"}'),
        (
            "/api/v1/messages",
            '{"to": "01012345678", "text": "#{\\ud800}", "variables": {"\\ud800": "x"}}',
        ),
        ("/api/v1/verifications", '{"phone": "01012345678", "purpose": "\\udc00"}'),
        (
            "/api/v1/verifications",
            '{"phone": "01012345678", "purpose": "login", "user_ref": "\\udc00"}',
        ),
    ],
)
def test_unpaired_surrogates_are_refused_with_400(app, api, path, raw):
    error = _error(api.post(path, raw=raw), 400)
    assert "surrogate" in error["message"]
    assert _count(app, MessageLog) == 0 and _count(app, Verification) == 0


def test_a_surrogate_pair_is_an_ordinary_character(api):
    response = api.post(
        "/api/v1/messages", raw='{"to": "01012345678", "text": "ok \\ud83d\\ude00"}'
    )
    assert response.status_code == 201
    assert response.get_json()["warnings"][0]["code"] == "UNENCODABLE_CHARACTERS"


# -- malformed JSON that Python's parser accepts or crashes on -----------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 100_000 + "]" * 100_000,  # RecursionError -> 500
        '{"to": "01012345678", "text": "x", "variables": {"a": '
        + "[" * 50_000
        + "]" * 50_000
        + "}}",
        '{"to": "01012345678", "text": "#{a}", "variables": {"a": NaN}}',  # was sent as "nan"
        '{"to": "01012345678", "text": "#{a}", "variables": {"a": Infinity}}',
        '{"to": "01012345678", "text": "#{a}", "variables": {"a": 1e400}}',  # parsed as Infinity
        "{not json",
        "",
    ],
)
def test_invalid_json_is_refused_with_400(app, api, raw):
    error = _error(api.post("/api/v1/messages", raw=raw), 400)
    assert error["message"].startswith("The body is not valid JSON: ")
    assert _count(app, MessageLog) == 0


def test_validation_messages_are_short(api):
    error = _error(api.post("/api/v1/messages", {"to": "01012345678", "text": "x" * 5000}), 400)
    assert len(error["message"]) <= 300 and error["details"][0]["field"] == "text"


# -- scheduled_at -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+09:00",  # before year 1 in UTC: OverflowError -> 500
        "9999-12-31T23:59:59-09:00",  # after year 9999 in UTC
        "9999-12-31T20:00:00Z",  # after year 9999 in Korea time, where the vendors want it
    ],
)
def test_scheduled_at_out_of_range_is_refused_with_400(app, api, value):
    error = _error(
        api.post("/api/v1/messages", {"to": "01012345678", "text": "x", "scheduled_at": value}), 400
    )
    assert error["details"] == [{"field": "scheduled_at", "message": "out of range"}]
    assert _count(app, MessageLog) == 0


def test_scheduled_at_accepts_rfc3339_lower_case_separators(api):
    # RFC 3339 5.6 allows "t" and "z"; the schema's date-time format accepted them, then 400.
    soon = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dt%H:%M:%Sz")
    response = api.post(
        "/api/v1/messages", {"to": "01012345678", "text": "x", "scheduled_at": soon}
    )
    assert response.status_code == 201, response.get_json()


# -- the document matches what the API does ---------------------------------------------------


def test_405_lists_the_allowed_methods(client):
    # TRACE /api/v1/verifications -> 405 without the Allow header RFC 9110 requires
    for method, path, allowed in [
        ("TRACE", "/api/v1/verifications", {"POST", "OPTIONS"}),
        ("DELETE", "/api/v1/messages/abc", {"GET", "HEAD", "OPTIONS"}),
    ]:
        response = client.open(path, method=method)
        assert response.status_code == 405
        assert set(response.headers["Allow"].replace(" ", "").split(",")) == allowed
        assert response.get_json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    "path", ["/api/v1/messages", "/api/v1/verifications", "/api/v1/verifications/x/check"]
)
def test_a_body_that_is_not_json_gets_a_documented_415(api, path):
    # POST with Content-Type: text/plain -> 415, which the document did not list
    _error(api.post(path, raw="to=01012345678", content_type="text/plain"), 415)


def test_every_documented_example_is_valid_and_goes_through(api, monkeypatch):
    """The request examples the fuzzer starts from validate against their schema and succeed."""
    # At noon in Korea: the advertising example would be refused at night (quiet hours).
    monkeypatch.setattr(rules, "clock", lambda: datetime(2026, 12, 8, 3, 0, tzinfo=UTC))
    schemas = api.document["components"]["schemas"]
    for path, name in [
        ("/messages", "SendMessageRequest"),
        ("/verifications", "StartVerificationRequest"),
    ]:
        media = api.document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        validator = Draft202012Validator({**schemas[name], "$defs": schemas})
        assert media["examples"]
        for example in media["examples"].values():
            assert list(validator.iter_errors(example["value"])) == []
            response = api.post("/api/v1" + path, example["value"])
            assert response.status_code == 201, (example, response.get_json())
        for phone in schemas[name]["properties"]["to" if name == "SendMessageRequest" else "phone"][
            "examples"
        ]:
            body = (
                {"to": phone, "text": "x"}
                if name == "SendMessageRequest"
                else {"phone": phone, "purpose": "payment"}
            )
            if name == "StartVerificationRequest":
                continue  # one number, one purpose: the resend cooldown answers 429 after the first
            assert api.post("/api/v1" + path, body).status_code == 201


def test_links_point_at_operations_of_the_document(api):
    operations = {
        op["operationId"]: op for item in api.document["paths"].values() for op in item.values()
    }
    links = [
        link
        for op in operations.values()
        for response in op["responses"].values()
        for link in response.get("links", {}).values()
    ]
    assert {link["operationId"] for link in links} == {"getMessage", "checkVerification"}
    for link in links:
        assert set(link["parameters"]) == {
            p["name"] for p in operations[link["operationId"]]["parameters"] if p["in"] == "path"
        }


def test_every_429_documents_a_required_retry_after(api):
    for item in api.document["paths"].values():
        for operation in item.values():
            if "429" in operation["responses"]:
                assert operation["responses"]["429"]["headers"]["Retry-After"]["required"] is True


# -- POST /messages is throttled like the document says (the api_send action was never checked) --


def _api_send_policy(app, key_kind: KeyKind, limit: int) -> None:
    with app.test_request_context():
        create_policy(
            PolicyData(
                f"api sends per {key_kind.value}",
                ThrottleMode.ENFORCE,
                key_kind,
                ["api_send"],
                [WindowData(limit, 3600)],
            )
        )
        db.session.commit()


def test_api_sends_are_throttled_per_phone_with_retry_after(app, api):
    _api_send_policy(app, KeyKind.PHONE, 2)
    for _ in range(2):
        assert api.post("/api/v1/messages", {"to": "010-1111-2222", "text": "x"}).status_code == 201
    refused = api.post("/api/v1/messages", {"to": "+82 10-1111-2222", "text": "x"})
    _error(refused, 429, "throttled")
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert api.post("/api/v1/messages", {"to": "010-3333-4444", "text": "x"}).status_code == 201
    assert _count(app, MessageLog) == 3


def test_invalid_sends_and_idempotent_replays_spend_no_quota(app, api):
    _api_send_policy(app, KeyKind.API_KEY, 1)
    _error(api.post("/api/v1/messages", {"to": "02-123-4567", "text": "x"}), 422, "invalid_phone")
    first = api.post(
        "/api/v1/messages", {"to": "01012345678", "text": "x"}, headers={"Idempotency-Key": "k1"}
    )
    assert first.status_code == 201
    replay = api.post(
        "/api/v1/messages", {"to": "01012345678", "text": "x"}, headers={"Idempotency-Key": "k1"}
    )
    assert replay.status_code == 200 and replay.get_json()["id"] == first.get_json()["id"]
    _error(api.post("/api/v1/messages", {"to": "01012345678", "text": "y"}), 429, "throttled")


def test_an_unreachable_throttle_store_is_a_documented_503_not_a_500(app, api, monkeypatch):
    def unreachable(*args, **kwargs):
        raise ThrottleUnavailable("connection refused")

    with app.app_context():
        runtime = throttle_engine.runtime(app)
    monkeypatch.setattr(runtime.backend, "decide", unreachable)
    for path, body in [
        ("/api/v1/messages", {"to": "01012345678", "text": "x"}),
        ("/api/v1/verifications", {"phone": "01012345678", "purpose": "login"}),
    ]:
        response = api.post(path, body)
        _error(response, 503, "throttle_unavailable")
        assert int(response.headers["Retry-After"]) >= 1
    assert _count(app, MessageLog) == 0 and _count(app, Verification) == 0
