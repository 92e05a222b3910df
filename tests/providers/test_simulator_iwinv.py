"""IWINV simulators: AlimTalk (``AUTH`` header) and SMS v2 (``secret`` header)."""

from __future__ import annotations

import base64
from datetime import date, timedelta

import requests

AT_AUTH = {"AUTH": base64.b64encode(b"demo-api-key").decode()}
SMS_SECRET = {"secret": base64.b64encode(b"demo-sms-key&demo-sms-auth").decode()}
OTP = {
    "templateCode": "KMSG_OTP_001",
    "reserve": "N",
    "list": [{"phone": "01012345678", "templateParam": ["KMSG", "123456"]}],
}
SMS = {
    "version": "1.0",
    "from": "01000000000",
    "to": ["01012345678"],
    "text": "인증번호 123456",
    "msgType": "SMS",
}


def at_post(sim, path, body, headers=AT_AUTH, **kwargs):
    return requests.post(
        sim.url("iwinv_alimtalk") + path, json=body, headers=headers, timeout=5, **kwargs
    )


def sms_post(sim, path, body, headers=SMS_SECRET, **kwargs):
    return requests.post(
        sim.url("iwinv_sms") + path, json=body, headers=headers, timeout=5, **kwargs
    )


# -- AlimTalk auth and sending -------------------------------------------------------------------
def test_alimtalk_auth_header_checks(simulator):
    missing = at_post(simulator, "/api/charge/", {}, headers={})
    wrong = at_post(
        simulator, "/api/charge/", {}, headers={"AUTH": base64.b64encode(b"other").decode()}
    )
    raw_key = at_post(simulator, "/api/charge/", {}, headers={"AUTH": "demo-api-key"})  # not base64
    ok = at_post(simulator, "/api/charge/", {})
    assert missing.json()["code"] == 401
    assert wrong.json()["code"] == 201
    assert raw_key.json()["code"] == 201
    assert ok.json() == {"code": 200, "message": "조회 성공", "charge": 50_000}
    assert len(simulator.control.requests("iwinv_alimtalk")) == 4  # refused calls are recorded too


def test_alimtalk_send_success_and_history(simulator):
    sent = at_post(simulator, "/api/v2/send/", OTP).json()
    assert sent["code"] == 200 and sent["success"] == 1 and sent["fail"] == 0
    seq_no = sent["seqNo"]
    history = at_post(
        simulator,
        "/api/history/",
        {"pageNum": 1, "pageSize": 15, "phone": "01012345678", "seqNo": seq_no},
    ).json()
    item = history["list"][0]
    assert history["code"] == 200 and history["totalCount"] == 1
    assert item["sendMessage"] == "[KMSG] 인증번호는 [123456]입니다. 3분 안에 입력해 주세요."
    assert item["statusCode"] != "OK" and item["sendDate"] == ""  # pending until set
    simulator.control.set_status("iwinv_alimtalk", seq_no, "delivered")
    item = at_post(simulator, "/api/history/", {"seqNo": seq_no}).json()["list"][0]
    assert (item["statusCode"], item["statusCodeName"]) == ("OK", "성공")
    assert item["receiveDate"]
    simulator.control.set_status(
        "iwinv_alimtalk", seq_no, statusCode="K104", statusCodeName="카카오톡 미사용자"
    )
    assert (
        at_post(simulator, "/api/history/", {"seqNo": seq_no}).json()["list"][0]["statusCode"]
        == "K104"
    )


def test_alimtalk_vendor_codes(simulator):
    bad_template = at_post(simulator, "/api/v2/send/", {**OTP, "templateCode": "NOPE"}).json()
    no_params = at_post(
        simulator, "/api/v2/send/", {**OTP, "list": [{"phone": "01012345678"}]}
    ).json()
    resend_unregistered = at_post(
        simulator, "/api/v2/send/", {**OTP, "reSend": "Y", "resendCallback": "0299998888"}
    ).json()
    bad_phone = at_post(
        simulator,
        "/api/v2/send/",
        {**OTP, "list": [{"phone": "1234", "templateParam": ["a", "b"]}]},
    ).json()
    assert bad_template["code"] == 501
    assert no_params["code"] == 508
    assert resend_unregistered["code"] == 505
    assert bad_phone["code"] == 503
    assert all(r["message"] for r in (bad_template, no_params, resend_unregistered, bad_phone))


def test_alimtalk_low_balance_gives_519(simulator):
    simulator.control.set_balance("iwinv_alimtalk", 1)
    assert at_post(simulator, "/api/v2/send/", OTP).json()["code"] == 519


def test_ip_whitelist_applies_to_both_apis(simulator_factory):
    sim = simulator_factory(iwinv_allowed_ips=("10.1.2.3",))
    at_refused = at_post(sim, "/api/charge/", {})
    sms_refused = sms_post(sim, "/api/charge/", {"version": "1.0"})
    at_allowed = at_post(
        sim, "/api/charge/", {}, headers={**AT_AUTH, "X-Forwarded-For": "10.1.2.3"}
    )
    assert at_refused.json()["code"] == 206
    assert sms_refused.json()["resultCode"] == 15
    assert at_allowed.json()["code"] == 200


def test_rate_limit_gives_429(simulator_factory):
    sim = simulator_factory(iwinv_rate_limit_per_minute=2)
    codes = [at_post(sim, "/api/charge/", {}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


# -- AlimTalk templates ---------------------------------------------------------------------------
def test_template_starts_in_inspection_and_moves_through_review(simulator):
    added = at_post(
        simulator,
        "/api/template/add/",
        {"templateName": "배송 안내", "templateContent": "#{name}님 상품이 출발했습니다."},
    ).json()
    assert added["code"] == 200
    code = added["templateCode"]

    def fetch():
        found = at_post(
            simulator, "/api/template/", {"pageNum": "1", "pageSize": "15", "templateCode": code}
        ).json()
        assert found["totalCount"] == 1
        return found["list"][0]

    assert fetch()["status"] == "I"
    assert (
        at_post(
            simulator,
            "/api/template/modify/",
            {"templateCode": code, "templateName": "x", "templateContent": "y"},
        ).json()["code"]
        == 512
    )
    simulator.control.reject_template("iwinv_alimtalk", code, "변수 위치가 부적절합니다.")
    rejected = fetch()
    assert rejected["status"] == "R"
    assert rejected["templateStatusComments"] == "변수 위치가 부적절합니다."
    modified = at_post(
        simulator,
        "/api/template/modify/",
        {"templateCode": code, "templateName": "배송 안내", "templateContent": "#{name}님 출발"},
    ).json()
    assert modified["code"] == 200 and fetch()["status"] == "I"
    simulator.control.approve_template("iwinv_alimtalk", code)
    assert fetch()["status"] == "Y"
    sent = at_post(
        simulator,
        "/api/v2/send/",
        {"templateCode": code, "list": [{"phone": "01012345678", "templateParam": ["홍길동"]}]},
    ).json()
    assert sent["code"] == 200


def test_template_validation_and_misspelled_delete_answer(simulator):
    too_long = at_post(
        simulator, "/api/template/add/", {"templateName": "가" * 16, "templateContent": "c"}
    )
    bad_button = at_post(
        simulator,
        "/api/template/add/",
        {"templateName": "n", "templateContent": "c", "buttons": [{"type": "WL", "name": "열기"}]},
    )
    assert too_long.json()["code"] == 510
    assert bad_button.json()["code"] == 514
    deleted = at_post(simulator, "/api/template/delete/", {"templateCode": "KMSG_OTP_001"}).json()
    assert deleted == {"code": 200, "messgae": "템플릿 삭제 성공"}
    assert (
        at_post(simulator, "/api/template/", {"templateCode": "KMSG_OTP_001"}).json()["totalCount"]
        == 0
    )


# -- SMS v2 ---------------------------------------------------------------------------------------------
def test_sms_secret_header_checks(simulator):
    wrong = sms_post(
        simulator,
        "/api/charge/",
        {"version": "1.0"},
        headers={"secret": base64.b64encode(b"demo-sms-key&wrong").decode()},
    )
    missing = sms_post(simulator, "/api/charge/", {"version": "1.0"}, headers={})
    ok = sms_post(simulator, "/api/charge/", {"version": "1.0"})
    assert wrong.json()["resultCode"] == 14
    assert missing.json()["resultCode"] == 14
    assert ok.json()["resultCode"] == 0 and ok.json()["charge"] == 50_000


def test_sms_send_codes(simulator):
    ok = sms_post(simulator, "/api/v2/send/", SMS).json()
    assert ok["resultCode"] == 0 and ok["message"] == "전송 성공" and ok["msgType"] == "SMS"
    assert ok["requestNo"]
    lms = sms_post(
        simulator, "/api/v2/send/", {k: v for k, v in SMS.items() if k != "msgType"}
    ).json()
    assert lms["msgType"] == "LMS"
    cases = {
        13: {**SMS, "from": "0299998888"},
        41: {**SMS, "to": []},
        21: {**SMS, "msgType": None, "text": "가" * 1001},
        23: {**SMS, "msgType": None, "title": "제" * 21},
        43: {**SMS, "date": "2026/01/01 10:00"},
    }
    for code, body in cases.items():
        assert sms_post(simulator, "/api/v2/send/", body).json()["resultCode"] == code, code


def test_sms_balance_gives_50(simulator):
    simulator.control.set_balance("iwinv_sms", 0)
    assert sms_post(simulator, "/api/v2/send/", SMS).json()["resultCode"] == 50


def test_sms_mms_multipart_checks_image(simulator):
    fields = {
        "version": "1.0",
        "from": "01000000000",
        "to": "01012345678",
        "title": "t",
        "text": "사진",
    }
    url = simulator.url("iwinv_sms") + "/api/v2/send/"
    ok = requests.post(
        url,
        data=fields,
        files={"image": ("a.jpg", b"\xff\xd8" + b"0" * 100)},
        headers=SMS_SECRET,
        timeout=5,
    ).json()
    big = requests.post(
        url,
        data=fields,
        files={"image": ("a.jpg", b"0" * (100 * 1024 + 1))},
        headers=SMS_SECRET,
        timeout=5,
    ).json()
    bmp = requests.post(
        url, data=fields, files={"image": ("a.bmp", b"0")}, headers=SMS_SECRET, timeout=5
    ).json()
    assert (ok["resultCode"], ok["msgType"]) == (0, "MMS")
    assert big["resultCode"] == 31
    assert bmp["resultCode"] == 32
    wire = simulator.control.last_request("iwinv_sms", "/api/v2/send/")
    assert wire["body_kind"] == "multipart" and wire["files"]["image"]["filename"] == "a.bmp"


def test_sms_history_and_status(simulator):
    request_no = sms_post(simulator, "/api/v2/send/", SMS).json()["requestNo"]
    today = date.today()
    query = {
        "version": "1.0",
        "companyid": "demo",
        "startDate": (today - timedelta(days=1)).isoformat(),
        "endDate": (today + timedelta(days=1)).isoformat(),
        "requestNo": request_no,
        "pageNum": 1,
        "pageSize": 15,
        "phone": "01012345678",
    }
    first = sms_post(simulator, "/api/history/", query).json()
    assert first["resultCode"] == 0
    assert first["list"][0]["sendStatusCode"] == "00"
    simulator.control.set_status("iwinv_sms", request_no, sendStatusCode="06")
    item = sms_post(simulator, "/api/history/", query).json()["list"][0]
    assert (item["sendStatusCode"], item["sendStatusMsg"]) == ("06", "전송 성공")
    assert (
        sms_post(simulator, "/api/history/", {**query, "companyid": "x"}).json()["resultCode"]
        == 202
    )
    too_wide = {**query, "startDate": (today - timedelta(days=120)).isoformat()}
    assert sms_post(simulator, "/api/history/", too_wide).json()["resultCode"] == 43
