"""Keyset cursors come back from the browser: anything the console did not make is a 400."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.throttle import services as throttle_services
from kmsg_console.throttle.models import KeyKind, ThrottleMode
from kmsg_console.web.pagination import BadCursor, decode_cursor, encode_cursor

MOMENT = "2026-01-01T00:00:00+00:00"


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _raw(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


TAMPERED = {
    "id is a boolean": _cursor([MOMENT, True]),
    "id is 2**63": _cursor([MOMENT, 2**63]),
    "id is huge": _cursor([MOMENT, 10**30]),
    "id is negative": _cursor([MOMENT, -1]),
    "id is a float": _cursor([MOMENT, 1.5]),
    "id is NaN": _raw(f'["{MOMENT}", NaN]'.encode()),
    "id is a string": _cursor([MOMENT, "1"]),
    "id is an object": _cursor([MOMENT, {"id": [1]}]),
    "year 1 east of UTC": _cursor(["0001-01-01T00:00:00+14:00", 1]),
    "year 9999 west of UTC": _cursor(["9999-12-31T23:59:59-14:00", 1]),
    "no time zone": _cursor(["2026-01-01T00:00:00", 1]),
    "not a timestamp": _cursor(["yesterday", 1]),
    "timestamp is a list": _cursor([[MOMENT], 1]),
    "timestamp is an object": _cursor([{"t": MOMENT}, 1]),
    "timestamp is a number": _cursor([1767225600, 1]),
    "one element": _cursor([MOMENT]),
    "three elements": _cursor([MOMENT, 1, 2]),
    "empty list": _cursor([]),
    "object of two keys": _cursor({MOMENT: 1, "b": 2}),
    "string of two characters": _cursor("ab"),
    "null": _cursor(None),
    "deeply nested": _raw(b"[" * 5000 + b"]" * 5000),
    "not base64": "!!!$$$",
    "not ascii": "커서",
    "not utf-8": _raw(b"\xff\xfe\xfd\xfc"),
    "not json": _raw(b"not json"),
    "very long": "A" * 100_000,
}


@pytest.mark.parametrize("cursor", TAMPERED.values(), ids=TAMPERED.keys())
def test_decode_refuses_a_tampered_cursor(cursor):
    with pytest.raises(BadCursor):
        decode_cursor(cursor)


def test_decode_returns_what_encode_made():
    moment = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
    assert decode_cursor(encode_cursor(moment, 2**63 - 1)) == (moment, 2**63 - 1)
    assert decode_cursor(encode_cursor(moment, 1)) == (moment, 1)


def _policy_events(app) -> str:
    with app.app_context():
        policy = throttle_services.create_policy(
            throttle_services.PolicyData(
                name="per phone",
                mode=ThrottleMode.ENFORCE,
                key_kind=KeyKind.PHONE,
                actions=["otp_start"],
                windows=[throttle_services.WindowData(3, 600)],
                purpose=None,
                prefix=None,
                enabled=True,
            )
        )
        db.session.commit()
        return f"/throttle-policies/{policy.id}/events"


LISTS = {
    "send logs": lambda app: "/send-logs",
    "audit log": lambda app: "/audit-log",
    "otp": lambda app: "/otp",
    "throttle events": _policy_events,
}


@pytest.mark.parametrize("make_path", LISTS.values(), ids=LISTS.keys())
def test_every_list_answers_400_to_every_tampered_cursor(app, console, make_path):
    path = make_path(app)
    console.login(Role.ADMIN)
    answers = {}
    for name, cursor in TAMPERED.items():
        for htmx in (False, True):
            headers = {"HX-Request": "true"} if htmx else {}
            response = console.client.get(path, query_string={"cursor": cursor}, headers=headers)
            answers[(name, htmx)] = response.status_code
    assert {key: status for key, status in answers.items() if status != 400} == {}
    # The session survives the refusals: a valid request still answers.
    assert console.client.get(path).status_code == 200
