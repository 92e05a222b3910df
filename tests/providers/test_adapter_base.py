"""Shared adapter machinery: config parsing, redaction, transport classification, logging."""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from kmsg_console.messaging.errors import Acceptance, ErrorCode
from kmsg_console.messaging.types import Message, MessageType
from kmsg_console.providers.adapters.base import redact
from kmsg_console.providers.adapters.config import (
    ConfigField,
    ProviderConfigError,
    Timeouts,
    parse_config,
)
from kmsg_console.providers.adapters.solapi import SolapiAdapter
from kmsg_console.providers.adapters.transport import (
    HttpClient,
    classify_transport_error,
    parse_retry_after,
)

FIELDS = (
    ConfigField("key", "Key", required=True, secret=True),
    ConfigField("url", "URL", kind="url", default="https://api.example.com/"),
    ConfigField("flag", "Flag", kind="bool", default=False),
    ConfigField("count", "Count", kind="int", default=3),
)


# -- configuration ----------------------------------------------------------------------------
def test_config_applies_defaults_and_types():
    assert parse_config(FIELDS, {"key": " k ", "flag": "Y", "count": "7"}) == {
        "key": "k",
        "url": "https://api.example.com",
        "flag": True,
        "count": 7,
    }


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({}, "key"),
        ({"key": "  "}, "key"),
        ({"key": "k", "url": "ftp://x"}, "url"),
        ({"key": "k", "flag": "maybe"}, "flag"),
        ({"key": "k", "count": "many"}, "count"),
        ({"key": "k", "typo": 1}, "typo"),
    ],
)
def test_config_errors_name_the_field(raw, field):
    with pytest.raises(ProviderConfigError) as info:
        parse_config(FIELDS, raw)
    assert info.value.field == field


def test_adapter_repr_never_shows_secrets():
    adapter = SolapiAdapter("s", {"api_key": "k", "api_secret": "top-secret-value"})
    assert "top-secret-value" not in repr(adapter)


# -- redaction --------------------------------------------------------------------------------
def test_redact_masks_credentials_phones_and_bodies():
    body = {
        "apikey": "abc",
        "key": "k2",
        "Authorization": "HMAC-SHA256 x",
        "to": "01012345678",
        "list": [{"phone": "01098765432", "sendMessage": "인증번호 123456", "statusCode": "OK"}],
        "note": "token demo-secret-1234 leaked",
        "message": "발송 성공",
    }
    clean = redact(body, ["demo-secret-1234"])
    assert clean["apikey"] == clean["key"] == clean["Authorization"] == "***"
    assert clean["to"] == "010-****-5678" and clean["list"][0]["phone"] == "010-****-5432"
    assert "123456" not in str(clean) and clean["list"][0]["statusCode"] == "OK"
    assert clean["note"] == "token *** leaked" and clean["message"] == "발송 성공"
    assert body["apikey"] == "abc"  # the original is untouched


def test_logs_carry_neither_secrets_nor_full_numbers(simulator, caplog):
    adapter = SolapiAdapter(
        "s",
        {
            "api_key": "demo-api-key",
            "api_secret": "wrong-secret-xyz",
            "default_from": "0212345678",
            "base_url": simulator.url("solapi"),
        },
    )
    with caplog.at_level(logging.DEBUG):
        outcome = adapter.send(
            Message(type=MessageType.SMS, to="01012345678", text="인증번호 123456")
        )
    adapter.close()
    assert outcome.error.code is ErrorCode.AUTHENTICATION_FAILED
    assert "010-****-5678" in caplog.text
    for leak in ("wrong-secret-xyz", "01012345678", "123456"):
        assert leak not in caplog.text
        assert leak not in str(outcome.error.raw)


# -- transport classification --------------------------------------------------------------------
def test_retry_after_seconds_and_http_date():
    assert parse_retry_after("5") == 5000
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25_000 <= parse_retry_after(later) <= 30_000
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None


@pytest.mark.parametrize(
    ("exc", "code", "accepted"),
    [
        (
            requests.exceptions.ConnectTimeout("x"),
            ErrorCode.NETWORK_TIMEOUT,
            Acceptance.NOT_ACCEPTED,
        ),
        (requests.exceptions.ReadTimeout("x"), ErrorCode.NETWORK_TIMEOUT, Acceptance.UNKNOWN),
        (
            requests.exceptions.ConnectionError(
                MaxRetryError(None, "/", NewConnectionError(None, "refused"))
            ),
            ErrorCode.NETWORK_ERROR,
            Acceptance.NOT_ACCEPTED,
        ),
        (
            requests.exceptions.ConnectionError(
                ProtocolError("Connection aborted.", ConnectionResetError())
            ),
            ErrorCode.NETWORK_ERROR,
            Acceptance.UNKNOWN,
        ),
        (
            requests.exceptions.ChunkedEncodingError("x"),
            ErrorCode.NETWORK_ERROR,
            Acceptance.UNKNOWN,
        ),
        (
            requests.exceptions.SSLError(
                MaxRetryError(None, "/", ssl.SSLCertVerificationError("bad cert"))
            ),
            ErrorCode.NETWORK_ERROR,
            Acceptance.NOT_ACCEPTED,
        ),
        (requests.exceptions.InvalidURL("x"), ErrorCode.NETWORK_ERROR, Acceptance.NOT_ACCEPTED),
        (
            requests.exceptions.InvalidJSONError("x"),
            ErrorCode.NETWORK_ERROR,
            Acceptance.NOT_ACCEPTED,
        ),
        (requests.exceptions.ProxyError("x"), ErrorCode.NETWORK_ERROR, Acceptance.NOT_ACCEPTED),
        (RuntimeError("who knows"), ErrorCode.NETWORK_ERROR, Acceptance.UNKNOWN),
    ],
)
def test_classify_transport_error(exc, code, accepted):
    error = classify_transport_error(exc)
    assert (error.code, error.accepted) == (code, accepted)


@pytest.fixture
def raw_server() -> Iterator[Callable[[bytes], str]]:
    """A one-shot TCP server that reads the request and answers with the given raw bytes."""
    servers: list[socket.socket] = []

    def start(answer: bytes) -> str:
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        servers.append(server)

        def serve() -> None:
            conn, _ = server.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(answer)

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{server.getsockname()[1]}/"

    yield start
    for server in servers:
        server.close()


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",  # chunked body cut off
        b'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"code": 200',  # shorter than announced
        b"",
    ],  # hung up without answering
    ids=["chunked", "truncated", "no answer"],
)
def test_connection_lost_after_sending_is_unknown(raw_server, answer):
    client = HttpClient(Timeouts(1, 2), provider_id="t")
    result = client.request("POST", raw_server(answer), json={"x": 1})
    client.close()
    assert (result.code, result.accepted) == (ErrorCode.NETWORK_ERROR, Acceptance.UNKNOWN)


def test_redirects_are_not_followed(raw_server):
    client = HttpClient(Timeouts(1, 2), provider_id="t")
    reply = client.request(
        "POST",
        raw_server(
            b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/\r\nContent-Length: 0\r\n\r\n"
        ),
    )
    client.close()
    assert reply.status == 302
