"""Aligo's own Node client (npm ``aligoapi`` 1.1.3) against the Aligo SMS and Kakao simulators.

Every call aligoapi offers is made by aligoapi itself (``scripts/aligo_node_calls.js``), with the
request bodies its examples document. aligoapi returns answers unchecked, so the script checks
each one for the fields the callers of that call read; here every value is compared with what
the simulator holds.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

from kmsg_console.providers.simulators import SimulatorOptions
from kmsg_console.providers.simulators.aligo_kakao_channels import CATEGORIES
from tests.conformance import clients

SCRIPT = "aligo_node_calls.js"
DEMO = SimulatorOptions()
KST = timezone(timedelta(hours=9))
TO, TO2 = "01012345678", "01087654321"
SENDER = DEMO.sender_numbers[0]
SENDER_KEY = DEMO.aligo_sender_key
TEMPLATE = DEMO.demo_template_code
OTP_TEXT = "[KMSG] 인증번호는 [123456]입니다. 3분 안에 입력해 주세요."
IMAGE = {
    "filename": "photo.jpg",
    "contentType": "image/jpeg",
    "base64": base64.b64encode(b"\xff\xd8\xff\xe0 not really a jpeg").decode(),
}
#: Asked first in every Kakao run, as aligoapi's examples do before any other Kakao call.
TOKEN = {"call": "token", "body": {"time": "30", "type": "i"}}


def call(name: str, body: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"call": name, "body": body or {}, **extra}


def aligoapi(node_clients, simulator, *calls: dict[str, Any], key: str = DEMO.aligo_api_key):
    """The answers aligoapi returned for ``calls`` (each checked by the script)."""
    results = clients.run_node(
        node_clients,
        SCRIPT,
        ALIGO_SMS_URL=simulator.url("aligo_sms"),
        ALIGO_KAKAO_URL=simulator.url("aligo_kakao"),
        ALIGO_KEY=key,
        ALIGO_USER=DEMO.aligo_user_id,
        CALLS=json.dumps(list(calls)),
    )
    assert [r["call"] for r in results] == [c["call"] for c in calls if c["call"] != "sleep"]
    return [r["answer"] for r in results]


def by_id(messages: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for message in messages:
        grouped.setdefault(str(message[key]), []).append(message)
    return grouped


def tomorrow() -> datetime:
    return datetime.now(KST) + timedelta(days=1)


# -- SMS ---------------------------------------------------------------------------------------
def test_sms_sends_remain_list_and_sms_list(node_clients, simulator):
    sms, lms, mms, remain = aligoapi(
        node_clients,
        simulator,
        call("send", {"sender": SENDER, "receiver": f"{TO},{TO2}", "msg": "인증번호 123456"}),
        call(
            "send",
            {
                "sender": SENDER,
                "receiver": TO,
                "msg": "가" * 60,
                "msg_type": "LMS",
                "title": "공지",
            },
        ),
        call("send", {"sender": SENDER, "receiver": TO, "msg": "사진", "msg_type": "MMS"}),
        call("remain"),
    )
    stored = by_id(simulator.control.messages("aligo_sms"), "msg_id")
    assert (sms["result_code"], sms["success_cnt"], sms["error_cnt"], sms["msg_type"]) == (
        "1",
        2,
        0,
        "SMS",
    )
    assert {m["receiver"] for m in stored[sms["msg_id"]]} == {TO, TO2}
    assert [(m["msg_type"], m["title"]) for m in stored[lms["msg_id"]]] == [("LMS", "공지")]
    assert mms["msg_type"] == "MMS" and stored[mms["msg_id"]][0]["msg"] == "사진"
    point = simulator.control.balances()["aligo"]
    assert (remain["SMS_CNT"], remain["LMS_CNT"], remain["MMS_CNT"]) == (
        int(point // 20),
        int(point // 50),
        int(point // 200),
    )

    listed, recipients = aligoapi(
        node_clients,
        simulator,
        call("list", {"page": "1", "page_size": "30"}),
        call("smsList", {"mid": sms["msg_id"], "page": "1", "page_size": "30"}),
    )
    assert [row["mid"] for row in listed["list"]] == [
        mms["msg_id"],
        lms["msg_id"],
        sms["msg_id"],
    ]
    row = listed["list"][2]
    assert (row["type"], row["sender"], row["sms_count"], row["msg"], row["reserve"]) == (
        "SMS",
        SENDER,
        "2",
        "인증번호 123456",
        "",
    )
    assert row["reg_date"] == stored[sms["msg_id"]][0]["reg_date"]
    assert listed["next_yn"] == "N" and recipients["next_yn"] == "N"
    assert sorted((r["mdid"], r["receiver"]) for r in recipients["list"]) == sorted(
        (m["mdid"], m["receiver"]) for m in stored[sms["msg_id"]]
    )
    assert {r["sms_state"] for r in recipients["list"]} == {"발송완료"}


def test_sms_mms_image_reaches_the_simulator_as_a_file(node_clients, simulator):
    (sent,) = aligoapi(
        node_clients,
        simulator,
        call("send", {"sender": SENDER, "receiver": TO, "msg": "사진"}, files={"image": IMAGE}),
    )
    assert sent["msg_type"] == "MMS"  # an attached image makes it MMS
    wire = simulator.control.last_request("aligo_sms", "/send/")
    assert wire["files"]["image"]["filename"] == "photo.jpg"
    assert wire["files"]["image"]["size"] == len(base64.b64decode(IMAGE["base64"]))


def test_sms_send_mass_and_a_cancelled_reservation(node_clients, simulator):
    when = tomorrow()
    mass, reserved = aligoapi(
        node_clients,
        simulator,
        call(
            "sendMass",
            {
                "sender": SENDER,
                "msg_type": "SMS",
                "cnt": "2",
                "rec_1": TO,
                "msg_1": "김민수님 예약 확인",
                "rec_2": TO2,
                "msg_2": "이서연님 예약 확인",
            },
        ),
        call(
            "send",
            {
                "sender": SENDER,
                "receiver": TO,
                "msg": "내일 안내",
                "rdate": when.strftime("%Y%m%d"),
                "rtime": when.strftime("%H%M"),
            },
        ),
    )
    stored = by_id(simulator.control.messages("aligo_sms"), "msg_id")
    assert (mass["success_cnt"], mass["error_cnt"]) == (2, 0)
    assert {(m["receiver"], m["msg"]) for m in stored[mass["msg_id"]]} == {
        (TO, "김민수님 예약 확인"),
        (TO2, "이서연님 예약 확인"),
    }
    balance = simulator.control.balances()["aligo"]

    cancelled, listed, again = aligoapi(
        node_clients,
        simulator,
        call("cancel", {"mid": reserved["msg_id"]}),
        call("list"),
        call("cancel", {"mid": reserved["msg_id"]}, expect="error"),
    )
    assert cancelled["result_code"] == "1"
    assert simulator.control.balances()["aligo"] == balance + 20  # the reservation is refunded
    row = next(r for r in listed["list"] if r["mid"] == reserved["msg_id"])
    assert row["reserve"] == when.strftime("%Y-%m-%d %H:%M:00")
    assert row["reserve_state"] == "예약취소"
    assert again["result_code"] == "-105"
    assert stored[reserved["msg_id"]][0]["reserve_date"] == row["reserve"]


def test_sms_wrong_key_is_refused(node_clients, simulator):
    (refused,) = aligoapi(
        node_clients,
        simulator,
        call("send", {"sender": SENDER, "receiver": TO, "msg": "x"}, expect="error"),
        key="wrong-key",
    )
    assert refused["result_code"] == "-101"
    assert simulator.control.messages("aligo_sms") == []


# -- Kakao: token and channels ------------------------------------------------------------------
def test_token_and_kakao_channels(node_clients, simulator):
    token, channels, categories, auth = aligoapi(
        node_clients,
        simulator,
        TOKEN,
        call("friendList", {}),
        call("profileCategory", {}),
        call("profileAuth", {"plusid": "@newshop", "phonenumber": "01055556666"}),
    )
    assert unquote(token["urlencode"]) == token["token"]
    with simulator.state.lock:
        live = simulator.state.tokens["aligo_kakao"]
        assert token["token"] in live
    assert [(c["senderKey"], c["uuid"]) for c in channels["list"]] == [
        (SENDER_KEY, DEMO.aligo_plus_id)
    ]
    assert categories["data"] == CATEGORIES
    assert auth["code"] == 0

    category = categories["data"]["thirdBusinessType"][-1]["code"]
    _, added, listed = aligoapi(
        node_clients,
        simulator,
        TOKEN,
        call(
            "profileAdd",
            {
                "plusid": "@newshop",
                "authnum": DEMO.aligo_channel_auth_number,
                "phonenumber": "01055556666",
                "categorycode": category,
            },
        ),
        call("friendList", {"plusid": "@newshop"}),
    )
    with simulator.state.lock:
        stored = dict(simulator.state.channels["aligo_kakao"]["@newshop"])
    assert added["data"] == stored and stored["catCode"] == category
    assert listed["list"] == [stored]


# -- Kakao: templates ---------------------------------------------------------------------------
def stored_template(simulator, code: str) -> dict[str, Any]:
    return next(t for t in simulator.control.templates("aligo_kakao") if t["templtCode"] == code)


def test_template_calls(node_clients, simulator):
    button = {"name": "바로가기", "linkType": "WL", "linkMo": "https://example.com"}
    _, added, other = aligoapi(
        node_clients,
        simulator,
        TOKEN,
        call(
            "templateAdd",
            {
                "senderkey": SENDER_KEY,
                "tpl_name": "가입 환영",
                "tpl_content": "#{name}님 가입을 환영합니다.",
                "tpl_button": json.dumps({"button": [button]}, ensure_ascii=False),
            },
        ),
        call("templateAdd", {"senderkey": SENDER_KEY, "tpl_name": "임시", "tpl_content": "본문"}),
    )
    code = added["data"]["templtCode"]
    assert added["data"] == stored_template(simulator, code)
    assert added["data"]["buttons"] == [button] and added["data"]["inspStatus"] == "REG"

    _, modified, requested, deleted, one = aligoapi(
        node_clients,
        simulator,
        TOKEN,
        call(
            "templateModify",
            {
                "senderkey": SENDER_KEY,
                "tpl_code": code,
                "tpl_name": "가입 환영",
                "tpl_content": "#{name}님 환영합니다.",
            },
        ),
        call("templateRequest", {"senderkey": SENDER_KEY, "tpl_code": code}),
        call("templateDel", {"senderkey": SENDER_KEY, "tpl_code": other["data"]["templtCode"]}),
        call("templateList", {"senderkey": SENDER_KEY, "tpl_code": code}),
    )
    assert modified["data"]["templtContent"] == "#{name}님 환영합니다."
    assert requested["code"] == 0 and deleted["code"] == 0
    assert one["list"] == [stored_template(simulator, code)]
    assert one["list"][0]["inspStatus"] == "REQ"

    simulator.control.reject_template("aligo_kakao", code, "문구를 확인해 주세요.")
    _, listed = aligoapi(
        node_clients, simulator, TOKEN, call("templateList", {"senderkey": SENDER_KEY})
    )
    assert listed["list"] == simulator.control.templates("aligo_kakao")
    rejected = next(t for t in listed["list"] if t["templtCode"] == code)
    assert rejected["inspStatus"] == "REJ"
    assert rejected["comments"][0]["cmtContent"] == "문구를 확인해 주세요."


# -- Kakao: sends, history, sendable counts, cancel ----------------------------------------------
def test_alimtalk_friendtalk_history_and_cancel(node_clients, simulator):
    when = tomorrow()
    alimtalk = {
        "senderkey": SENDER_KEY,
        "tpl_code": TEMPLATE,
        "sender": SENDER,
        "receiver_1": TO,
        "subject_1": "알림톡",
        "message_1": OTP_TEXT,
    }
    _, now, later, friend, remain, history = aligoapi(
        node_clients,
        simulator,
        TOKEN,
        call(
            "alimtalkSend",
            {**alimtalk, "receiver_2": TO2, "subject_2": "알림톡", "message_2": OTP_TEXT},
        ),
        call("alimtalkSend", {**alimtalk, "senddate": when.strftime("%Y%m%d%H%M%S")}),
        call(
            "friendTalkSend",
            {
                "senderkey": SENDER_KEY,
                "sender": SENDER,
                "receiver_1": TO,
                "subject_1": "친구톡",
                "message_1": "이번 주 할인 안내",
                "button_1": json.dumps({"button": [{"name": "열기", "linkType": "WL"}]}),
            },
            files={"image": IMAGE},
        ),
        call("kakaoRemain", {}),
        call("historyList", {"page": "1", "limit": "50"}),
    )
    stored = by_id(simulator.control.messages("aligo_kakao"), "mid")
    assert (now["info"]["type"], now["info"]["scnt"], now["info"]["fcnt"]) == ("AT", 2, 0)
    assert {m["receiver"] for m in stored[str(now["info"]["mid"])]} == {TO, TO2}
    assert stored[str(later["info"]["mid"])][0]["reserve_date"] == when.strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    assert friend["info"]["type"] == "FT"
    assert stored[str(friend["info"]["mid"])][0]["image"] == "photo.jpg"
    point = simulator.control.balances()["aligo"]
    assert friend["info"]["current"] == point
    assert remain["list"]["ALT_CNT"] == int(point // 13)
    assert remain["list"]["SMS_CNT"] == int(point // 20)

    mids = [str(a["info"]["mid"]) for a in (friend, later, now)]
    assert [row["mid"] for row in history["list"]] == mids
    assert history["totalCount"] == "3"
    held = history["list"][1]
    assert (held["reserve_date"], held["reserve_state"], held["mbody"]) == (
        when.strftime("%Y-%m-%d %H:%M:%S"),
        "예약대기중",
        OTP_TEXT,
    )
    assert history["list"][2]["msg_count"] == "2"

    _, detail, cancelled, again, after = aligoapi(
        node_clients,
        simulator,
        TOKEN,
        call("historyDetail", {"mid": now["info"]["mid"], "page": "1", "limit": "50"}),
        call("kakaoCancel", {"mid": later["info"]["mid"]}),
        call("kakaoCancel", {"mid": later["info"]["mid"]}, expect="error"),
        call("historyList", {}),
    )
    assert sorted((r["msgid"], r["phone"]) for r in detail["list"]) == sorted(
        (str(m["msgid"]), m["receiver"]) for m in stored[str(now["info"]["mid"])]
    )
    assert {(r["rslt"], r["tpl_code"], r["senderKey"]) for r in detail["list"]} == {
        ("0", TEMPLATE, SENDER_KEY)
    }
    assert cancelled["code"] == 0 and again["code"] == 509
    assert simulator.control.balances()["aligo"] == point + 13  # refunded
    assert after["list"][1]["reserve_state"] == "예약취소"


# -- Kakao: refusals -----------------------------------------------------------------------------
def test_kakao_refusals_wrong_key_and_missing_unknown_or_expired_token(node_clients, simulator):
    (wrong_key,) = aligoapi(node_clients, simulator, {**TOKEN, "expect": "error"}, key="nope")
    assert wrong_key["code"] == -99 and "token" not in wrong_key

    missing, unknown, _, expired = aligoapi(
        node_clients,
        simulator,
        call("friendList", {}, token="none", expect="error"),
        call("friendList", {}, token="not-a-token", expect="error"),
        call("token", {"time": "1", "type": "s"}),
        {"call": "sleep", "ms": 1500},
        call("friendList", {}, expect="error"),
    )
    assert [missing["code"], unknown["code"], expired["code"]] == [-99, -99, -99]
    assert len({missing["message"], unknown["message"], expired["message"]}) == 3
    assert "list" not in expired
