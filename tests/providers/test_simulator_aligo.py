"""Aligo simulators: SMS (``key``/``user_id`` in the form) and Kakao (``apikey``/``userid``/``senderkey``)."""

from __future__ import annotations

import requests

SMS_AUTH = {"key": "demo-api-key", "user_id": "demo"}
KAKAO_AUTH = {"apikey": "demo-api-key", "userid": "demo", "senderkey": "demo-sender-key"}
OTP_TEXT = "[KMSG] 인증번호는 [123456]입니다. 3분 안에 입력해 주세요."


def sms_post(sim, path, fields):
    # Aligo clients post multipart bodies; requests does that for ``files`` tuples.
    return requests.post(
        sim.url("aligo_sms") + path, files={k: (None, v) for k, v in fields.items()}, timeout=5
    )


def kakao_post(sim, path, fields):
    return requests.post(
        sim.url("aligo_kakao") + path, files={k: (None, v) for k, v in fields.items()}, timeout=5
    )


SEND = {**SMS_AUTH, "sender": "0212345678", "receiver": "01012345678", "msg": "인증번호 123456"}
AT = {
    **KAKAO_AUTH,
    "tpl_code": "KMSG_OTP_001",
    "sender": "0212345678",
    "receiver_1": "01012345678",
    "subject_1": "알림톡",
    "message_1": OTP_TEXT,
}


# -- SMS ---------------------------------------------------------------------------------------------
def test_sms_key_and_user_checks(simulator):
    wrong_key = sms_post(simulator, "/send/", {**SEND, "key": "nope"}).json()
    wrong_user = sms_post(simulator, "/send/", {**SEND, "user_id": "other"}).json()
    missing = sms_post(simulator, "/send/", {k: v for k, v in SEND.items() if k != "key"}).json()
    assert wrong_key["result_code"] == "-101"
    assert wrong_user["result_code"] == "-101"
    assert missing["result_code"] == "-100"
    assert len(simulator.control.requests("aligo_sms")) == 3


def test_sms_send_success_shape_and_wire_request(simulator):
    body = sms_post(simulator, "/send/", SEND).json()
    assert body["result_code"] == "1" and body["message"] == "success"
    assert body["success_cnt"] == 1 and body["error_cnt"] == 0 and body["msg_type"] == "SMS"
    assert body["msg_id"]
    wire = simulator.control.last_request("aligo_sms", "/send/")
    assert wire["body_kind"] == "multipart"
    assert wire["body"]["key"] == "demo-api-key" and wire["body"]["receiver"] == "01012345678"


def test_sms_long_text_becomes_lms_and_errors(simulator):
    assert sms_post(simulator, "/send/", {**SEND, "msg": "가" * 46}).json()["msg_type"] == "LMS"
    assert (
        sms_post(simulator, "/send/", {**SEND, "sender": "0299998888"}).json()["result_code"]
        == "-103"
    )
    assert sms_post(simulator, "/send/", {**SEND, "receiver": ""}).json()["result_code"] == "-105"
    simulator.control.set_balance("aligo", 0)
    assert sms_post(simulator, "/send/", SEND).json()["result_code"] == "-201"
    test_mode = sms_post(simulator, "/send/", {**SEND, "testmode_yn": "Y"}).json()
    assert test_mode["result_code"] == "1"  # test mode never charges


def test_sms_partial_recipients_and_remain(simulator):
    body = sms_post(simulator, "/send/", {**SEND, "receiver": "01012345678,12,01087654321"}).json()
    assert (body["success_cnt"], body["error_cnt"]) == (2, 1)
    remain = sms_post(simulator, "/remain/", SMS_AUTH).json()
    assert remain["result_code"] == "1"
    assert remain["SMS_CNT"] == int((50_000 - 2 * 20) // 20)


# -- Kakao -----------------------------------------------------------------------------------------------
def test_kakao_auth_and_senderkey_checks(simulator):
    assert (
        kakao_post(simulator, "/akv10/alimtalk/send/", {**AT, "apikey": "nope"}).json()["code"]
        == -99
    )
    assert (
        kakao_post(simulator, "/akv10/alimtalk/send/", {**AT, "userid": "x"}).json()["code"] == -99
    )
    assert (
        kakao_post(simulator, "/akv10/alimtalk/send/", {**AT, "senderkey": "x"}).json()["code"]
        == 507
    )


def test_alimtalk_send_success(simulator):
    body = kakao_post(simulator, "/akv10/alimtalk/send/", AT).json()
    assert body["code"] == 0
    assert body["message"] == "성공적으로 전송요청 하였습니다."
    info = body["info"]
    assert info["type"] == "AT" and info["mid"] and (info["scnt"], info["fcnt"]) == (1, 0)
    assert info["current"] == 50_000 - info["unit"]


def test_alimtalk_refuses_text_that_differs_from_the_template(simulator):
    joined_values = {**AT, "message_1": "KMSG\n123456"}  # what a naive client builds
    edited = {**AT, "message_1": OTP_TEXT.replace("3분", "5분")}
    empty_var = {**AT, "message_1": "[] 인증번호는 [123456]입니다. 3분 안에 입력해 주세요."}
    for fields in (joined_values, edited, empty_var):
        body = kakao_post(simulator, "/akv10/alimtalk/send/", fields).json()
        assert body["code"] == 509 and body["message"]
    assert simulator.control.balances()["aligo"] == 50_000  # nothing charged


def test_alimtalk_other_refusals(simulator):
    assert (
        kakao_post(simulator, "/akv10/alimtalk/send/", {**AT, "tpl_code": "NOPE"}).json()["code"]
        == -501
    )
    assert (
        kakao_post(simulator, "/akv10/alimtalk/send/", {**AT, "sender": "0299998888"}).json()[
            "code"
        ]
        == 508
    )


def test_profile_list(simulator):
    body = kakao_post(simulator, "/akv10/profile/list/", KAKAO_AUTH).json()
    assert body["code"] == 0
    assert body["list"][0]["senderKey"] == "demo-sender-key"
    assert body["list"][0]["uuid"].startswith("@")


def template(sim, code):
    body = kakao_post(sim, "/akv10/template/list/", {**KAKAO_AUTH, "tpl_code": code}).json()
    assert body["code"] == 0
    return body["list"][0]


def test_template_review_transitions(simulator):
    added = kakao_post(
        simulator,
        "/akv10/template/add/",
        {
            **KAKAO_AUTH,
            "tpl_name": "가입 환영",
            "tpl_content": "#{name}님 가입을 환영합니다.",
            "tpl_button": '{"button":[{"name":"바로가기","linkType":"WL","linkMo":"https://example.com"}]}',
        },
    ).json()
    assert added["code"] == 0
    code = added["data"]["templtCode"]
    assert added["data"]["inspStatus"] == "REG"

    assert (
        kakao_post(simulator, "/akv10/template/request/", {**KAKAO_AUTH, "tpl_code": code}).json()[
            "code"
        ]
        == 0
    )
    assert template(simulator, code)["inspStatus"] == "REQ"
    again = kakao_post(
        simulator, "/akv10/template/request/", {**KAKAO_AUTH, "tpl_code": code}
    ).json()
    assert again["code"] != 0  # already under review

    simulator.control.reject_template("aligo_kakao", code, "버튼 링크를 확인해 주세요.")
    rejected = template(simulator, code)
    assert rejected["inspStatus"] == "REJ"
    assert rejected["comments"][0]["cmtContent"] == "버튼 링크를 확인해 주세요."

    modified = kakao_post(
        simulator,
        "/akv10/template/modify/",
        {
            **KAKAO_AUTH,
            "tpl_code": code,
            "tpl_name": "가입 환영",
            "tpl_content": "#{name}님 환영합니다.",
        },
    ).json()
    assert modified["code"] == 0 and template(simulator, code)["inspStatus"] == "REG"
    kakao_post(simulator, "/akv10/template/request/", {**KAKAO_AUTH, "tpl_code": code})
    simulator.control.approve_template("aligo_kakao", code)
    assert template(simulator, code)["inspStatus"] == "APR"

    sent = kakao_post(
        simulator,
        "/akv10/alimtalk/send/",
        {**AT, "tpl_code": code, "message_1": "홍길동님 환영합니다."},
    ).json()
    assert sent["code"] == 0


def test_unapproved_template_cannot_send_and_delete_works(simulator):
    code = kakao_post(
        simulator, "/akv10/template/add/", {**KAKAO_AUTH, "tpl_name": "t", "tpl_content": "본문"}
    ).json()["data"]["templtCode"]
    refused = kakao_post(
        simulator, "/akv10/alimtalk/send/", {**AT, "tpl_code": code, "message_1": "본문"}
    )
    assert refused.json()["code"] == -501
    assert (
        kakao_post(simulator, "/akv10/template/del/", {**KAKAO_AUTH, "tpl_code": code}).json()[
            "code"
        ]
        == 0
    )
    listed = kakao_post(simulator, "/akv10/template/list/", {**KAKAO_AUTH, "tpl_code": code}).json()
    assert listed["list"] == []
