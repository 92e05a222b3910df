"""The provider HTTP client and the process environment: proxies and CA bundle honoured,
read once per client; ~/.netrc never consulted."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest
import requests

from kmsg_console.providers.adapters.config import Timeouts
from kmsg_console.providers.adapters.transport import HttpClient

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def clean_proxy_environment(monkeypatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def recording_server() -> Iterator[Callable[[], tuple[str, list[bytes]]]]:
    """TCP servers that answer every request with ``200 {}`` and keep the raw requests."""
    servers: list[socket.socket] = []

    def start() -> tuple[str, list[bytes]]:
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        servers.append(server)
        received: list[bytes] = []

        def serve() -> None:
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                with conn:
                    data = b""
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    received.append(data)
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
                    )

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{server.getsockname()[1]}", received

    yield start
    for server in servers:
        server.close()


def _dead_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def _get(client: HttpClient, url: str):
    try:
        return client.request("GET", url)
    finally:
        client.close()


def test_netrc_credentials_never_reach_a_vendor(recording_server, tmp_path, monkeypatch):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login someone password their-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HOME", str(tmp_path))
    url, received = recording_server()

    requests.get(url + "/plain", timeout=5)  # what requests does by default: the setup is real
    assert b"authorization: basic" in received[0].lower()

    reply = _get(HttpClient(Timeouts(2, 2), provider_id="t"), url + "/vendor")
    assert reply.status == 200
    assert b"authorization" not in received[1].lower()


def test_proxy_from_the_environment_is_used(recording_server, monkeypatch):
    proxy, received = recording_server()
    monkeypatch.setenv("HTTP_PROXY", proxy)

    reply = _get(HttpClient(Timeouts(2, 2), provider_id="t"), "http://vendor.example/v4/send")

    assert reply.status == 200
    assert received[0].startswith(b"GET http://vendor.example/v4/send HTTP/1.1")


def test_no_proxy_hosts_are_called_directly(recording_server, monkeypatch):
    url, received = recording_server()
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{_dead_port()}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")

    reply = _get(HttpClient(Timeouts(2, 2), provider_id="t"), url + "/direct")

    assert reply.status == 200
    assert received[0].startswith(b"GET /direct HTTP/1.1")


def test_the_environment_is_read_once_per_client(recording_server, monkeypatch):
    proxy, through_proxy = recording_server()
    monkeypatch.setenv("HTTP_PROXY", proxy)
    client = HttpClient(Timeouts(2, 2), provider_id="t")
    assert client.request("GET", "http://vendor.example/a").status == 200

    # Changed under a running adapter: it keeps what it read (a rebuilt one reads anew).
    dead = f"http://127.0.0.1:{_dead_port()}"
    monkeypatch.setenv("HTTP_PROXY", dead)
    assert _get(client, "http://vendor.example/b").status == 200
    assert [r.split(b"\r\n")[0] for r in through_proxy] == [
        b"GET http://vendor.example/a HTTP/1.1",
        b"GET http://vendor.example/b HTTP/1.1",
    ]
    refused = _get(HttpClient(Timeouts(2, 2), provider_id="t"), "http://vendor.example/c")
    assert refused.code.value == "NETWORK_ERROR"


def test_ca_bundle_from_the_environment_is_used(monkeypatch, tmp_path):
    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_text("")
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    client = HttpClient(Timeouts(2, 2), provider_id="t")
    assert client.session.verify == str(bundle)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    assert HttpClient(Timeouts(2, 2), provider_id="t").session.verify is True
