"""Running the simulators: index page, background server lifecycle, the CLI runner."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import pytest
import requests

from kmsg_console.providers.simulators import SimulatorOptions, SimulatorServer


def test_index_lists_every_vendor_base_url(simulator):
    text = requests.get(simulator.base_url + "/", timeout=5).text
    for prefix in (
        "/solapi",
        "/iwinv/alimtalk",
        "/iwinv/sms",
        "/aligo/sms",
        "/aligo/kakao",
        "/_control/",
    ):
        assert simulator.base_url + prefix in text
    assert "demo-api-secret" in text and "demo-sender-key" in text


def test_url_accepts_vendor_spellings(simulator):
    assert (
        simulator.url("iwinv-sms")
        == simulator.url("/iwinv/sms")
        == simulator.base_url + "/iwinv/sms"
    )
    with pytest.raises(KeyError):
        simulator.url("nhn")


def test_unknown_vendor_path_is_a_recorded_json_404(simulator):
    response = requests.post(simulator.url("aligo_sms") + "/nope/", timeout=5)
    assert response.status_code == 404
    assert response.json()["vendor"] == "aligo_sms"
    assert simulator.control.last_request("aligo_sms")["path"] == "/nope/"


def test_custom_credentials_replace_the_demo_ones(simulator_factory):
    sim = simulator_factory(aligo_api_key="live-key", aligo_user_id="shop")
    url = sim.url("aligo_sms") + "/remain/"
    assert (
        requests.post(url, data={"key": "demo-api-key", "user_id": "demo"}, timeout=5).json()[
            "result_code"
        ]
        == "-101"
    )
    assert (
        requests.post(url, data={"key": "live-key", "user_id": "shop"}, timeout=5).json()[
            "result_code"
        ]
        == "1"
    )


def test_server_stops_and_releases_the_port():
    server = SimulatorServer(SimulatorOptions()).start()
    url = server.url("aligo_sms") + "/remain/"
    assert requests.post(url, data={"key": "demo-api-key", "user_id": "demo"}, timeout=5).ok
    server.control.inject("aligo_sms", "timeout", ms=60_000)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 5
    with pytest.raises(requests.ConnectionError):
        requests.post(url, data={}, timeout=2)


def test_an_outage_refuses_connections_and_keeps_the_port_and_the_state():
    with SimulatorServer(SimulatorOptions()) as server:
        url = server.url("aligo_sms") + "/remain/"
        auth = {"key": "demo-api-key", "user_id": "demo"}
        assert requests.post(url, data=auth, timeout=5).ok
        port = server.port
        server.take_down()
        assert server.is_down
        with pytest.raises(requests.ConnectionError) as refused:
            requests.post(url, data=auth, timeout=2)
        assert "refused" in str(refused.value).lower()
        with socket.socket() as other:  # nobody else can take the port meanwhile
            with pytest.raises(OSError):
                other.bind(("127.0.0.1", port))
        server.bring_up()
        assert not server.is_down and server.port == port
        assert requests.post(url, data=auth, timeout=5).ok
        assert len(server.control.requests("aligo_sms")) == 2  # recorded across the outage
        server.take_down()  # stopping a server that is down releases the port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_an_outage_resets_requests_in_progress():
    with SimulatorServer(SimulatorOptions()) as server:
        server.control.inject("aligo_sms", "latency", ms=30_000)
        url = server.url("aligo_sms") + "/remain/"
        failures = []

        def call():
            try:
                requests.post(url, data={"key": "demo-api-key", "user_id": "demo"}, timeout=20)
            except requests.ConnectionError as exc:
                failures.append(exc)

        thread = threading.Thread(target=call)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.control.requests("aligo_sms"):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert server.take_down() == 1
        thread.join(timeout=10)
        assert len(failures) == 1  # the connection was reset, not answered after the delay


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_run_simulators_prints_urls_and_serves():
    port = _free_port()
    code = (
        f"from kmsg_console.providers.simulators import run_simulators; run_simulators(port={port})"
    )
    proc = subprocess.Popen(
        [sys.executable, "-u", "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        banner = []
        while proc.stdout is not None:
            line = proc.stdout.readline()
            if not line:
                break
            banner.append(line)
            if line.startswith("Control API"):
                break
        text = "".join(banner)
        assert f"http://127.0.0.1:{port}/solapi" in text
        assert f"http://127.0.0.1:{port}/iwinv/alimtalk" in text
        assert "demo-api-key" in text and "demo-sms-auth" in text
        index = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert index.status_code == 200 and "/aligo/kakao" in index.text
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
