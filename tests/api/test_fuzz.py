"""Fuzz the JSON API with schemathesis against its own OpenAPI document (/api/v1/openapi.json).

Every operation of the document is exercised in-process (schemathesis' WSGI integration) by
schemathesis' own engine, the one behind ``schemathesis run``: the examples, coverage, fuzzing
and stateful phases, positive and negative data, with a valid API key holding both scopes.
Valid requests really go through the send engine to the sandbox provider; the default throttle
policies are in force, so repeated numbers meet 429s as they would in production.

Every check schemathesis has is on: no 5xx, status codes, content types, bodies and headers as
documented, schema-invalid requests refused, schema-valid requests accepted, auth not ignored,
405 with ``Allow`` for undocumented methods, ... The one adjustment: a schema-valid request may
also be refused with 422, which the document reserves for what a JSON schema cannot know
(a well-formed phone number that is not a mobile number, an unknown purpose or template, an SMS
text over 90 bytes). A 400 for schema-valid data is still a failure.

``bench/fuzz_api.py`` runs the same harness with many more examples against a served instance.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from schemathesis.engine import events, from_schema

from kmsg_console.api_keys.services import issue_key
from kmsg_console.events import safety
from kmsg_console.extensions import db
from kmsg_console.otp.services import ensure_default_purposes
from kmsg_console.providers.services import ensure_sandbox_provider
from kmsg_console.throttle.services import ensure_default_policies

#: Examples per operation and generation mode in the fuzzing phase (the bench uses more).
MAX_EXAMPLES = int(os.environ.get("KMSG_FUZZ_EXAMPLES", "200"))
#: Steps of one stateful scenario (send → fetch, start → check, ...).
MAX_STEPS = 6

#: The checks that compare a response with the document: a failure of one is a schema violation.
CONFORMANCE_CHECKS = frozenset(
    {
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    }
)
#: What the API answers to a schema-valid request: schemathesis' defaults plus 422 (see above).
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]

#: Spellings the phone module accepts; each is filled with a number's parts.
PHONE_SPELLINGS = (
    "{p}{a}{b}",
    "{p}-{a}-{b}",
    "{p} {a} {b}",
    "{p}.{a}.{b}",
    "({p}) {a}-{b}",
    "+82 {q}-{a}-{b}",
    "+82{q}{a}{b}",
    "+82 {p}-{a}-{b}",
    "82-{q}-{a}-{b}",
    "82{q}{a}{b}",
)


def valid_phone_numbers(count: int = 400, seed: int = 82) -> list[str]:
    """``count`` valid Korean mobile numbers in every accepted spelling (deterministic)."""
    rng = random.Random(seed)
    numbers = []
    for _ in range(count):
        prefix = rng.choice(["010"] * 8 + ["011", "016", "017", "018", "019"])
        middle = (
            f"{rng.randrange(10_000):04d}" if prefix == "010" else f"{rng.randrange(200, 1000):03d}"
        )
        numbers.append(
            rng.choice(PHONE_SPELLINGS).format(
                p=prefix, q=prefix[1:], a=middle, b=f"{rng.randrange(10_000):04d}"
            )
        )
    return numbers


def provision(app) -> str:
    """Make ``app`` ready to send for real; return a fresh API key with every scope."""
    with app.test_request_context():
        ensure_sandbox_provider()
        ensure_default_purposes()
        ensure_default_policies()
        key = issue_key("fuzz", ["otp", "send", "webhooks"], actor_label="fuzz").plaintext
        db.session.commit()
    return key


def fuzz_config(
    api_key: str,
    *,
    max_examples: int = MAX_EXAMPLES,
    max_steps: int = MAX_STEPS,
    seed: int | None = None,
) -> schemathesis.Config:
    """The schemathesis configuration shared by this test and ``bench/fuzz_api.py``."""
    phones = {"dictionary": "kr_mobile", "probability": 0.5}
    data: dict[str, Any] = {
        "auth": {"openapi": {"bearer": {"bearer": api_key}}},
        "generation": {"mode": "all", "max-examples": max_examples, "database": "none"},
        "checks": {
            "enabled": True,
            "positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES},
        },
        "phases": {"stateful": {"enabled": True, "max-steps": max_steps}},
        # Half of the phone numbers the fuzzer sends are valid, so sends and starts succeed.
        "dictionaries": {"kr_mobile": {"values": valid_phone_numbers()}},
        "parameters": {"body.to": phones, "body.phone": phones, "query.phone": phones},
        "analysis": {"constants": {"enabled": False}},
    }
    if seed is not None:
        data["seed"] = seed
    return schemathesis.Config.from_dict(data)


def status_class(status: int) -> str:
    return f"{status // 100}xx"


@dataclass
class FuzzReport:
    """What one run sent and found."""

    statuses: Counter = field(default_factory=Counter)  # (operation label, status) -> responses
    failed_checks: Counter = field(default_factory=Counter)  # check name -> failing responses
    failures: dict[tuple[str, str, str], str] = field(
        default_factory=dict
    )  # first reproduction of each
    errors: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def by_class(self) -> Counter:
        classes: Counter = Counter()
        for (_label, status), count in self.statuses.items():
            classes[status_class(status)] += count
        return classes

    @property
    def server_errors(self) -> int:
        return self.by_class["5xx"]

    @property
    def schema_violations(self) -> int:
        return sum(
            count for name, count in self.failed_checks.items() if name in CONFORMANCE_CHECKS
        )

    @property
    def other_check_failures(self) -> int:
        return sum(
            count for name, count in self.failed_checks.items() if name not in CONFORMANCE_CHECKS
        )

    def seen(self, label: str, status: int) -> bool:
        return self.statuses[(label, status)] > 0

    def problems(self) -> str:
        lines = [
            f"{label}: {check}: {title}\n{repro}"
            for (label, check, title), repro in self.failures.items()
        ]
        return "\n\n".join(lines + self.errors)

    def _record_checks(self, recorder) -> None:
        for case_id, checks in recorder.checks.items():
            for check in checks:
                if check.failure_info is None:
                    continue
                self.failed_checks[check.name] += 1
                failure = check.failure_info.failure
                key = (recorder.label, check.name, failure.title)
                if key not in self.failures:
                    response = recorder.find_response(case_id=case_id)
                    answer = (
                        ""
                        if response is None
                        else f"\n-> {response.status_code} {response.content[:300]!r}"
                    )
                    self.failures[key] = (
                        f"{failure.message}\n{check.failure_info.code_sample}{answer}"
                    )

    def consume(self, event: events.EngineEvent) -> None:
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            self._record_checks(event.recorder)
        elif isinstance(event, events.NonFatalError):
            self.errors.append(f"error in {event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            self.errors.append(f"fatal: {event.exception!r}")


def run_fuzz(schema) -> FuzzReport:
    """Run every phase over every operation of ``schema``; count every response."""
    report = FuzzReport()

    # Counted here rather than from the engine's recorder, which drops passing cases.
    @schema.hook
    def after_call(context, case, response):
        report.statuses[(case.operation.label, response.status_code)] += 1

    for event in from_schema(schema).execute():
        report.consume(event)
    return report


#: Transport settings for sockets, which an in-process WSGI call has no use for.
SOCKET_SETTINGS = ("max_redirects", "verify", "cert", "proxies")


@pytest.fixture
def in_process_probes(monkeypatch):
    """Work around schemathesis 4.32: the probe request of its ``ignored_auth`` check drops the
    engine's requests session but keeps ``max_redirects``, which the WSGI transport then hands
    to werkzeug (``TypeError``). Drop the socket settings the transport drops for a session."""
    from schemathesis.transport.wsgi import WSGITransport

    send = WSGITransport.send

    def send_without_socket_settings(self, case, *, session=None, **kwargs):
        if session is None:
            for name in SOCKET_SETTINGS:
                kwargs.pop(name, None)
        return send(self, case, session=session, **kwargs)

    monkeypatch.setattr(WSGITransport, "send", send_without_socket_settings)


@pytest.fixture
def fuzzed_app(app, in_process_probes, monkeypatch):
    # Webhook URLs are resolved to check their addresses: no DNS for the fuzzer's host names.
    monkeypatch.setattr(safety, "resolve", lambda host, port: ["93.184.216.34"])
    # Exceptions become 500 answers, as in production, so the checks see them (not a traceback).
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app, provision(app)


def test_every_operation_conforms_to_the_document_under_fuzzing(fuzzed_app):
    app, key = fuzzed_app
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=fuzz_config(key))
    assert {operation.ok().label for operation in schema.get_all_operations()} == {
        "POST /messages",
        "GET /messages/{id}",
        "POST /verifications",
        "POST /verifications/{id}/check",
        "POST /opt-outs",
        "GET /opt-outs",
        "POST /webhook-endpoints",
        "GET /webhook-endpoints",
        "DELETE /webhook-endpoints/{id}",
        "POST /webhook-endpoints/{id}/rotate-secret",
        "POST /campaigns",
        "GET /campaigns/{id}",
        "POST /campaigns/{id}/cancel",
    }

    report = run_fuzz(schema)

    assert report.server_errors == 0, report.problems()
    assert report.schema_violations == 0, report.problems()
    assert not report.failures and not report.errors, report.problems()
    # The fuzzer got through to the success paths of every operation, not only to refusals.
    for label, status in [
        ("POST /messages", 201),
        ("GET /messages/{id}", 200),
        ("POST /verifications", 201),
        ("POST /verifications/{id}/check", 200),
        ("POST /opt-outs", 201),
        ("GET /opt-outs", 200),
        ("POST /webhook-endpoints", 201),
        ("GET /webhook-endpoints", 200),
        ("POST /campaigns", 202),
    ]:
        assert report.seen(label, status), (label, status, dict(report.statuses))
    assert report.requests > 300, dict(report.statuses)
