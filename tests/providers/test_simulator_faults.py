"""Fault injection as a client sees it, plus the control API's own guarantees."""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests

from kmsg_console.providers.simulators import ControlError, create_simulator_app

AT_AUTH = {"AUTH": base64.b64encode(b"demo-api-key").decode()}
SMS_SECRET = {"secret": base64.b64encode(b"demo-sms-key&demo-sms-auth").decode()}
ALIGO = {"key": "demo-api-key", "user_id": "demo"}
OTP = {
    "templateCode": "KMSG_OTP_001",
    "list": [{"phone": "01012345678", "templateParam": ["K", "1"]}],
}


def charge(sim, **kwargs):
    return requests.post(
        sim.url("iwinv_alimtalk") + "/api/charge/",
        json={},
        headers=AT_AUTH,
        timeout=kwargs.pop("timeout", 5),
        **kwargs,
    )


def test_status_5xx_for_the_next_n_requests_only(simulator):
    simulator.control.inject("iwinv_alimtalk", "status_5xx", status=502, count=2, retry_after=3)
    first, second, third = charge(simulator), charge(simulator), charge(simulator)
    assert (first.status_code, second.status_code, third.status_code) == (502, 502, 200)
    assert first.headers["Retry-After"] == "3"
    assert third.json()["code"] == 200
    assert [r["fault"] for r in simulator.control.requests("iwinv_alimtalk")] == [
        "status_5xx",
        "status_5xx",
        None,
    ]


def test_solapi_5xx_has_the_solapi_error_shape(simulator):
    simulator.control.inject("solapi", "status_5xx", status=503)
    response = requests.get(simulator.url("solapi") + "/cash/v1/balance", timeout=5)
    assert response.status_code == 503
    assert response.json()["errorCode"] == "ServiceUnavailable"


def test_reset_drops_the_connection_and_is_recorded(simulator):
    simulator.control.inject("iwinv_alimtalk", "reset", path="/api/v2/send/")
    with pytest.raises(requests.ConnectionError):
        requests.post(
            simulator.url("iwinv_alimtalk") + "/api/v2/send/", json=OTP, headers=AT_AUTH, timeout=5
        )
    recorded = simulator.control.requests("iwinv_alimtalk", "/api/v2/send/")
    assert len(recorded) == 1
    assert recorded[0]["fault"] == "reset" and recorded[0]["response_status"] is None
    assert recorded[0]["body"] == OTP
    assert simulator.control.messages("iwinv_alimtalk") == []  # the vendor never acted
    assert charge(simulator).status_code == 200  # the next request is served normally


def test_reset_after_processing_keeps_the_side_effect(simulator):
    simulator.control.inject("iwinv_alimtalk", "reset", path="/api/v2/send", process=True)
    with pytest.raises(requests.ConnectionError):
        requests.post(
            simulator.url("iwinv_alimtalk") + "/api/v2/send/", json=OTP, headers=AT_AUTH, timeout=5
        )
    assert len(simulator.control.messages("iwinv_alimtalk")) == 1  # sent, but the answer was lost


def test_latency_causes_a_client_read_timeout(simulator):
    simulator.control.inject("iwinv_alimtalk", "latency", ms=1500)
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        charge(simulator, timeout=0.3)
    assert time.monotonic() - started < 1.4


def test_latency_within_the_client_timeout_still_answers(simulator):
    simulator.control.inject("iwinv_alimtalk", "timeout", ms=300)
    started = time.monotonic()
    response = charge(simulator, timeout=5)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_malformed_json_is_a_2xx_with_an_unparseable_body(simulator):
    simulator.control.inject("aligo_sms", "malformed_json")
    response = requests.post(simulator.url("aligo_sms") + "/remain/", data=ALIGO, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError):
        json.loads(response.text)


@pytest.mark.parametrize(
    ("vendor", "code", "call", "check"),
    [
        (
            "iwinv_alimtalk",
            519,
            lambda s: requests.post(
                s.url("iwinv_alimtalk") + "/api/v2/send/", json=OTP, headers=AT_AUTH, timeout=5
            ),
            lambda r: r.json()["code"] == 519 and r.json()["message"] == "잔액이 부족합니다.",
        ),
        (
            "iwinv_sms",
            15,
            lambda s: requests.post(
                s.url("iwinv_sms") + "/api/charge/", json={}, headers=SMS_SECRET, timeout=5
            ),
            lambda r: r.json()["resultCode"] == 15 and "IP" in r.json()["message"],
        ),
        (
            "aligo_sms",
            -102,
            lambda s: requests.post(s.url("aligo_sms") + "/remain/", data=ALIGO, timeout=5),
            lambda r: r.json()["result_code"] == "-102",
        ),
        (
            "aligo_kakao",
            -99,
            lambda s: requests.post(
                s.url("aligo_kakao") + "/akv10/profile/list/",
                data={"apikey": "demo-api-key", "userid": "demo"},
                timeout=5,
            ),
            lambda r: r.json()["code"] == -99,
        ),
        (
            "solapi",
            "TooManyRequests",
            lambda s: requests.get(s.url("solapi") + "/cash/v1/balance", timeout=5),
            lambda r: r.status_code == 429 and r.json()["errorCode"] == "TooManyRequests",
        ),
    ],
)
def test_vendor_error_uses_the_vendor_body(simulator, vendor, code, call, check):
    simulator.control.inject(vendor, "vendor_error", code=code)
    assert check(call(simulator))


def test_solapi_vendor_error_with_status_code_fails_each_message(simulator):
    simulator.control.inject(
        "solapi", "vendor_error", code=1030, path="/messages/v4/send-many/detail"
    )
    messages = [{"to": "01012345678", "from": "0212345678", "text": "a"}] * 2
    body = requests.post(
        simulator.url("solapi") + "/messages/v4/send-many/detail",
        json={"messages": messages},
        timeout=5,
    ).json()
    assert [m["statusCode"] for m in body["failedMessageList"]] == ["1030", "1030"]
    assert body["groupInfo"]["count"]["registeredFailed"] == 2


def test_faults_match_vendor_path_and_method(simulator):
    simulator.control.inject("iwinv_alimtalk", "status_5xx", path="/api/history/")
    simulator.control.inject("iwinv_sms", "status_5xx", method="GET")
    assert charge(simulator).status_code == 200  # other path
    sms = requests.post(
        simulator.url("iwinv_sms") + "/api/charge/", json={}, headers=SMS_SECRET, timeout=5
    )
    assert sms.status_code == 200  # other method
    assert len(simulator.control.faults()) == 2
    history = requests.post(
        simulator.url("iwinv_alimtalk") + "/api/history", json={}, headers=AT_AUTH, timeout=5
    )
    assert history.status_code == 503  # trailing slash does not matter
    assert len(simulator.control.faults()) == 1


def test_sticky_fault_until_cleared(simulator):
    simulator.control.inject("iwinv_alimtalk", "status_5xx", count=None)
    assert [charge(simulator).status_code for _ in range(3)] == [503, 503, 503]
    simulator.control.clear_faults("iwinv_alimtalk")
    assert charge(simulator).status_code == 200


@pytest.mark.parametrize("processed", [False, True])
def test_body_replaces_the_answer_before_or_after_the_vendor_acted(simulator, processed):
    simulator.control.inject(
        "iwinv_alimtalk", "body", path="/api/v2/send/", body="{}", process=processed
    )
    response = requests.post(
        simulator.url("iwinv_alimtalk") + "/api/v2/send/", json=OTP, headers=AT_AUTH, timeout=5
    )
    assert (response.status_code, response.json()) == (200, {})
    assert response.headers["Content-Type"].startswith("application/json")
    assert len(simulator.control.messages("iwinv_alimtalk")) == int(processed)
    assert simulator.control.requests("iwinv_alimtalk")[0]["fault"] == "body"


def test_body_takes_any_status_and_content_type(simulator):
    simulator.control.inject(
        "aligo_sms", "body", body="<h1>maintenance</h1>", status=200, content_type="text/html"
    )
    response = requests.post(simulator.url("aligo_sms") + "/remain/", data=ALIGO, timeout=5)
    assert (response.status_code, response.text) == (200, "<h1>maintenance</h1>")
    assert response.headers["Content-Type"].startswith("text/html")


def test_control_rejects_bad_input(simulator):
    with pytest.raises(ControlError):
        simulator.control.inject("iwinv_alimtalk", "explode")
    with pytest.raises(ControlError):
        simulator.control.inject("nowhere", "reset")
    with pytest.raises(ControlError):
        simulator.control.inject("solapi", "vendor_error")  # needs a code
    with pytest.raises(ControlError):
        simulator.control.inject("solapi", "body")  # needs a body
    with pytest.raises(ControlError):
        simulator.control.set_status("solapi", "M4V-unknown", "delivered")
    with pytest.raises(ControlError):
        simulator.control.reject_template("aligo_kakao", "KMSG_OTP_001", "")


def test_clear_resets_requests_messages_templates_and_balances(simulator):
    requests.post(
        simulator.url("iwinv_alimtalk") + "/api/v2/send/", json=OTP, headers=AT_AUTH, timeout=5
    )
    simulator.control.reject_template("iwinv_alimtalk", "KMSG_OTP_001", "반려")
    simulator.control.inject("solapi", "reset", count=None)
    simulator.control.clear()
    assert simulator.control.requests() == []
    assert simulator.control.faults() == []
    assert simulator.control.messages("iwinv_alimtalk") == []
    assert simulator.control.balances()["iwinv_alimtalk"] == 50_000
    seeded = {t["templateCode"]: t["status"] for t in simulator.control.templates("iwinv_alimtalk")}
    assert seeded == {"KMSG_OTP_001": "Y"}


def test_control_api_refuses_non_loopback_callers():
    client = create_simulator_app().test_client()
    remote = client.get("/_control/requests", environ_base={"REMOTE_ADDR": "192.0.2.10"})
    local = client.get("/_control/requests", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert remote.status_code == 403
    assert local.status_code == 200
