"""Aligo simulators: SMS (``key``/``user_id`` in the form) and Kakao (``apikey``/``userid``, a
token from ``/akv10/token/create/``, and ``senderkey``)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import requests

SMS_AUTH = {"key": "demo-api-key", "user_id": "demo"}
ACCOUNT = {"apikey": "demo-api-key", "userid": "demo"}
KAKAO_AUTH = {**ACCOUNT, "senderkey": "demo-sender-key"}
OTP_TEXT = "[KMSG] 인증번호는 [123456]입니다. 3분 안에 입력해 주세요."
KST = timezone(timedelta(hours=9))


def sms_post(sim, path, fields):
    # Aligo clients post multipart bodies; requests does that for ``files`` tuples.
    return requests.post(
        sim.url("aligo_sms") + path, files={k: (None, v) for k, v in fields.items()}, timeout=5
    )


def new_token(sim, lifetime="30/i"):
    body = requests.post(
        f"{sim.url('aligo_kakao')}/akv10/token/create/{lifetime}/", data=ACCOUNT, timeout=5
    ).json()
    assert body["code"] == 0, body
    return body["token"]


def kakao_post(sim, path, fields, token=None, files=None):
    """A Kakao call carrying a fresh token unless ``fields`` bring their own (or none)."""
    if "token" not in fields:
        fields = {**fields, "token": token or new_token(sim)}
    fields = {k: v for k, v in fields.items() if v is not None}
    return requests.post(
        sim.url("aligo_kakao") + path,
        files={**{k: (None, v) for k, v in fields.items()}, **(files or {})},
        timeout=5,
    )


def kst(days=0, minutes=0):
    return datetime.now(KST) + timedelta(days=days, minutes=minutes)


SEND = {**SMS_AUTH, "sender": "0212345678", "receiver": "01012345678", "msg": "인증번호 123456"}
AT = {
    **KAKAO_AUTH,
    "tpl_code": "KMSG_OTP_001",
    "sender": "0212345678",
    "receiver_1": "01012345678",
    "subject_1": "알림톡",
    "message_1": OTP_TEXT,
}
FT = {
    **KAKAO_AUTH,
    "sender": "0212345678",
    "receiver_1": "01012345678",
    "subject_1": "친구톡",
    "message_1": "이번 주 할인 안내",
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


MASS = {
    **SMS_AUTH,
    "sender": "0212345678",
    "msg_type": "SMS",
    "cnt": "2",
    "rec_1": "01012345678",
    "msg_1": "김민수님 예약 확인",
    "rec_2": "01087654321",
    "msg_2": "이서연님 예약 확인",
}


def test_send_mass_sends_its_own_text_to_each_recipient(simulator):
    body = sms_post(simulator, "/send_mass/", MASS).json()
    assert body["result_code"] == "1" and body["message"] == "success"
    assert (body["success_cnt"], body["error_cnt"], body["msg_type"]) == (2, 0, "SMS")
    stored = {m["receiver"]: m["msg"] for m in simulator.control.messages("aligo_sms")}
    assert stored == {"01012345678": "김민수님 예약 확인", "01087654321": "이서연님 예약 확인"}
    assert {m["msg_id"] for m in simulator.control.messages("aligo_sms")} == {body["msg_id"]}
    assert simulator.control.balances()["aligo"] == 50_000 - 2 * 20


def test_send_mass_refusals(simulator):
    no_type = {k: v for k, v in MASS.items() if k != "msg_type"}
    missing_second = {k: v for k, v in MASS.items() if k != "rec_2"}
    too_long = {**MASS, "msg_2": "가" * 46}
    for fields in (no_type, missing_second, too_long, {**MASS, "cnt": "0"}):
        assert sms_post(simulator, "/send_mass/", fields).json()["result_code"] == "-105"
    assert sms_post(simulator, "/send_mass/", {**MASS, "key": "x"}).json()["result_code"] == "-101"
    assert simulator.control.messages("aligo_sms") == []


def test_list_and_sms_list_read_back_what_was_sent(simulator):
    first = sms_post(simulator, "/send/", {**SEND, "receiver": "01012345678,01087654321"}).json()
    second = sms_post(simulator, "/send/", {**SEND, "msg": "두 번째 안내"}).json()
    listed = sms_post(simulator, "/list/", SMS_AUTH).json()
    assert listed["result_code"] == "1" and listed["next_yn"] == "N"
    assert [row["mid"] for row in listed["list"]] == [second["msg_id"], first["msg_id"]]
    row = listed["list"][1]
    assert (row["type"], row["sender"], row["sms_count"], row["msg"]) == (
        "SMS",
        "0212345678",
        "2",
        "인증번호 123456",
    )
    assert row["reserve"] == "" and row["reg_date"]

    detail = sms_post(simulator, "/sms_list/", {**SMS_AUTH, "mid": first["msg_id"]}).json()
    assert detail["result_code"] == "1" and detail["next_yn"] == "N"
    assert {r["receiver"] for r in detail["list"]} == {"01012345678", "01087654321"}
    assert all(r["sms_state"] == "발송완료" and r["send_date"] for r in detail["list"])
    assert len({r["mdid"] for r in detail["list"]}) == 2
    assert sms_post(simulator, "/sms_list/", SMS_AUTH).json()["result_code"] == "-105"


def test_list_pages_with_next_yn(simulator):
    for n in range(31):
        sms_post(simulator, "/send/", {**SEND, "msg": f"안내 {n}"})
    first = sms_post(simulator, "/list/", {**SMS_AUTH, "page_size": "30"}).json()
    second = sms_post(simulator, "/list/", {**SMS_AUTH, "page_size": "30", "page": "2"}).json()
    assert (len(first["list"]), first["next_yn"]) == (30, "Y")
    assert (len(second["list"]), second["next_yn"]) == (1, "N")


def test_reserved_sms_is_held_until_cancelled(simulator):
    when = kst(days=1)
    reserved = {**SEND, "rdate": when.strftime("%Y%m%d"), "rtime": when.strftime("%H%M")}
    body = sms_post(simulator, "/send/", reserved).json()
    assert body["result_code"] == "1"
    row = sms_post(simulator, "/list/", SMS_AUTH).json()["list"][0]
    assert row["reserve_state"] == "예약대기중"
    assert row["reserve"] == when.strftime("%Y-%m-%d %H:%M:00")
    detail = sms_post(simulator, "/sms_list/", {**SMS_AUTH, "mid": body["msg_id"]}).json()
    assert (detail["list"][0]["sms_state"], detail["list"][0]["send_date"]) == ("예약대기중", "")
    assert simulator.control.balances()["aligo"] == 50_000 - 20

    cancelled = sms_post(simulator, "/cancel/", {**SMS_AUTH, "mid": body["msg_id"]}).json()
    assert cancelled["result_code"] == "1" and cancelled["cancel_date"]
    assert simulator.control.balances()["aligo"] == 50_000  # refunded
    assert sms_post(simulator, "/list/", SMS_AUTH).json()["list"][0]["reserve_state"] == "예약취소"
    again = sms_post(simulator, "/cancel/", {**SMS_AUTH, "mid": body["msg_id"]}).json()
    assert again["result_code"] == "-105"


def test_cancel_refuses_what_already_went_out_or_never_existed(simulator):
    sent = sms_post(simulator, "/send/", SEND).json()
    past = kst(days=-1)
    overdue = sms_post(
        simulator,
        "/send/",
        {**SEND, "rdate": past.strftime("%Y%m%d"), "rtime": past.strftime("%H%M")},
    ).json()
    for mid in (sent["msg_id"], overdue["msg_id"], "999"):
        assert sms_post(simulator, "/cancel/", {**SMS_AUTH, "mid": mid}).json()["result_code"] == (
            "-105"
        )
    detail = sms_post(simulator, "/sms_list/", {**SMS_AUTH, "mid": overdue["msg_id"]}).json()
    assert detail["list"][0]["sms_state"] == "발송완료"  # its time has passed


def test_malformed_reservation_is_refused(simulator):
    body = sms_post(simulator, "/send/", {**SEND, "rdate": "2030-01-01", "rtime": "0900"}).json()
    assert body["result_code"] == "-105" and "rdate" in body["message"]


# -- Kakao: tokens ---------------------------------------------------------------------------------
def test_token_create_issues_a_token_for_the_requested_lifetime(simulator):
    created = requests.post(
        simulator.url("aligo_kakao") + "/akv10/token/create/30/i/", data=ACCOUNT, timeout=5
    ).json()
    assert created["code"] == 0 and created["message"]
    assert created["token"] and requests.utils.unquote(created["urlencode"]) == created["token"]
    for lifetime in ("30/x", "0/s", "abc/s"):
        refused = requests.post(
            f"{simulator.url('aligo_kakao')}/akv10/token/create/{lifetime}/",
            data=ACCOUNT,
            timeout=5,
        ).json()
        assert refused["code"] == -99, lifetime
    wrong_key = requests.post(
        simulator.url("aligo_kakao") + "/akv10/token/create/30/i/",
        data={**ACCOUNT, "apikey": "nope"},
        timeout=5,
    ).json()
    assert wrong_key["code"] == -99 and "token" not in wrong_key


def test_kakao_calls_are_refused_without_a_live_token(simulator):
    missing = kakao_post(simulator, "/akv10/profile/list/", {**ACCOUNT, "token": None}).json()
    unknown = kakao_post(simulator, "/akv10/profile/list/", {**ACCOUNT, "token": "bogus"}).json()
    short_lived = new_token(simulator, "1/s")
    time.sleep(1.2)
    expired = kakao_post(simulator, "/akv10/profile/list/", ACCOUNT, token=short_lived).json()
    assert [missing["code"], unknown["code"], expired["code"]] == [-99, -99, -99]
    assert len({missing["message"], unknown["message"], expired["message"]}) == 3
    assert "list" not in expired

    token = new_token(simulator)
    assert kakao_post(simulator, "/akv10/profile/list/", ACCOUNT, token=token).json()["code"] == 0
    requests.post(simulator.base_url + "/_control/tokens/aligo_kakao/expire", timeout=5)
    ended = kakao_post(simulator, "/akv10/profile/list/", ACCOUNT, token=token).json()
    assert ended["code"] == -99 and ended["message"] == expired["message"]


def test_the_url_encoded_token_is_accepted_too(simulator):
    created = requests.post(
        simulator.url("aligo_kakao") + "/akv10/token/create/1/h/", data=ACCOUNT, timeout=5
    ).json()
    listed = kakao_post(simulator, "/akv10/profile/list/", ACCOUNT, token=created["urlencode"])
    assert listed.json()["code"] == 0


# -- Kakao: channels ---------------------------------------------------------------------------------
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


def test_profile_list(simulator):
    body = kakao_post(simulator, "/akv10/profile/list/", KAKAO_AUTH).json()
    assert body["code"] == 0
    assert body["list"][0]["senderKey"] == "demo-sender-key"
    assert body["list"][0]["uuid"].startswith("@")


def test_category_tree_links_each_level_to_its_parent(simulator):
    body = kakao_post(simulator, "/akv10/category/", ACCOUNT).json()
    assert body["code"] == 0
    tree = body["data"]
    first = {c["code"] for c in tree["firstBusinessType"]}
    second = {c["code"] for c in tree["secondBusinessType"]}
    assert first and all(c["parentCode"] in first for c in tree["secondBusinessType"])
    assert all(c["parentCode"] in second for c in tree["thirdBusinessType"])
    assert all(c["name"] for level in tree.values() for c in level)


def test_channel_registration_issues_a_sender_key(simulator):
    channel = {**ACCOUNT, "plusid": "@newshop", "phonenumber": "01055556666"}
    add = {**channel, "authnum": "123456", "categorycode": "00200010001"}
    early = kakao_post(simulator, "/akv10/profile/add/", add).json()
    assert early["code"] == 509  # no auth number was requested yet
    assert kakao_post(simulator, "/akv10/profile/auth/", channel).json() == {
        "code": 0,
        "message": "정상적으로 호출하였습니다.",
    }
    wrong = kakao_post(simulator, "/akv10/profile/add/", {**add, "authnum": "000000"}).json()
    bad_category = kakao_post(simulator, "/akv10/profile/add/", {**add, "categorycode": "001"})
    assert wrong["code"] == 509 and bad_category.json()["code"] == 509

    added = kakao_post(simulator, "/akv10/profile/add/", add).json()
    assert added["code"] == 0
    sender_key = added["data"]["senderKey"]
    assert sender_key and added["data"]["uuid"] == "@newshop"
    listed = kakao_post(simulator, "/akv10/profile/list/", {**ACCOUNT, "plusid": "@newshop"})
    assert [c["senderKey"] for c in listed.json()["list"]] == [sender_key]
    again = kakao_post(simulator, "/akv10/profile/auth/", channel).json()
    assert again["code"] == 509  # already registered

    # The new channel's templates are its own.
    own = kakao_post(
        simulator,
        "/akv10/template/add/",
        {**ACCOUNT, "senderkey": sender_key, "tpl_name": "안내", "tpl_content": "본문"},
    ).json()
    assert own["code"] == 0 and own["data"]["senderKey"] == sender_key
    mine = kakao_post(simulator, "/akv10/template/list/", {**ACCOUNT, "senderkey": sender_key})
    demo = kakao_post(simulator, "/akv10/template/list/", KAKAO_AUTH).json()
    assert [t["templtCode"] for t in mine.json()["list"]] == [own["data"]["templtCode"]]
    assert own["data"]["templtCode"] not in {t["templtCode"] for t in demo["list"]}


def test_channel_auth_refusals(simulator):
    no_phone = kakao_post(simulator, "/akv10/profile/auth/", {**ACCOUNT, "plusid": "@shop"})
    bad_phone = kakao_post(
        simulator, "/akv10/profile/auth/", {**ACCOUNT, "plusid": "@shop", "phonenumber": "12"}
    )
    assert no_phone.json()["code"] == 506 and bad_phone.json()["code"] == 509


# -- Kakao: sending ------------------------------------------------------------------------------------
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


def test_friendtalk_send(simulator):
    body = kakao_post(simulator, "/akv10/friend/send/", {**FT, "advert": "Y"}).json()
    assert body["code"] == 0 and body["message"] == "성공적으로 전송요청 하였습니다."
    info = body["info"]
    assert (info["type"], info["scnt"], info["fcnt"], info["unit"]) == ("FT", 1, 0, 20.0)
    stored = simulator.control.messages("aligo_kakao")
    assert [(m["mid"], m["message"], m["advert"]) for m in stored] == [
        (info["mid"], "이번 주 할인 안내", "Y")
    ]
    assert info["current"] == 50_000 - 20


def test_friendtalk_refusals(simulator):
    too_long = kakao_post(simulator, "/akv10/friend/send/", {**FT, "message_1": "가" * 1001})
    with_image = kakao_post(
        simulator,
        "/akv10/friend/send/",
        {**FT, "message_1": "가" * 401},
        files={"image": ("a.jpg", b"\xff\xd8\xff", "image/jpeg")},
    )
    empty = kakao_post(simulator, "/akv10/friend/send/", {**FT, "message_1": " "})
    bad_sender = kakao_post(simulator, "/akv10/friend/send/", {**FT, "sender": "0299998888"})
    assert [r.json()["code"] for r in (too_long, with_image, empty, bad_sender)] == [
        509,
        509,
        506,
        508,
    ]
    assert simulator.control.messages("aligo_kakao") == []


def test_history_list_and_detail_read_back_what_was_sent(simulator):
    two = {**AT, "receiver_2": "01087654321", "message_2": OTP_TEXT.replace("123456", "654321")}
    sent = kakao_post(simulator, "/akv10/alimtalk/send/", two).json()["info"]
    friend = kakao_post(simulator, "/akv10/friend/send/", FT).json()["info"]
    history = kakao_post(simulator, "/akv10/history/list/", ACCOUNT).json()
    assert history["code"] == 0
    assert (history["currentPage"], history["totalPage"], history["totalCount"]) == ("1", "1", "2")
    assert [row["mid"] for row in history["list"]] == [str(friend["mid"]), str(sent["mid"])]
    row = history["list"][1]
    assert (row["type"], row["sender"], row["msg_count"], row["mbody"]) == (
        "AT",
        "0212345678",
        "2",
        OTP_TEXT,
    )
    assert row["reserve_date"] == "" and row["reg_date"]

    detail = kakao_post(simulator, "/akv10/history/detail/", {**ACCOUNT, "mid": sent["mid"]})
    rows = detail.json()["list"]
    assert {r["phone"] for r in rows} == {"01012345678", "01087654321"}
    assert all(r["rslt"] == "0" and r["sentdate"] and r["tpl_code"] == "KMSG_OTP_001" for r in rows)
    assert all(r["senderKey"] == "demo-sender-key" and r["msgid"] for r in rows)
    missing_mid = kakao_post(simulator, "/akv10/history/detail/", ACCOUNT).json()
    assert missing_mid["code"] == 506


def test_history_pages_and_filters_by_date(simulator):
    for _ in range(3):
        kakao_post(simulator, "/akv10/friend/send/", FT)
    token = new_token(simulator)
    page = kakao_post(
        simulator, "/akv10/history/list/", {**ACCOUNT, "limit": "2", "page": "2"}, token=token
    ).json()
    assert (len(page["list"]), page["currentPage"], page["totalPage"]) == (1, "2", "2")
    tomorrow = kst(days=1).strftime("%Y%m%d")
    later = kakao_post(
        simulator, "/akv10/history/list/", {**ACCOUNT, "startdate": tomorrow}, token=token
    )
    assert later.json()["list"] == [] and later.json()["totalCount"] == "0"


def test_heartinfo_counts_follow_the_balance(simulator):
    simulator.control.set_balance("aligo", 1_000)
    counts = kakao_post(simulator, "/akv10/heartinfo/", ACCOUNT).json()
    assert counts["code"] == 0
    assert counts["list"]["SMS_CNT"] == 50 and counts["list"]["LMS_CNT"] == 20
    assert counts["list"]["MMS_CNT"] == 5 and counts["list"]["ALT_CNT"] == int(1_000 // 13)
    assert counts["list"]["FTS_CNT"] == 50


def test_senddate_holds_an_alimtalk_until_its_time_and_cancel_refunds_it(simulator):
    when = kst(days=1)
    body = kakao_post(
        simulator, "/akv10/alimtalk/send/", {**AT, "senddate": when.strftime("%Y%m%d%H%M%S")}
    ).json()
    assert body["code"] == 0
    mid = body["info"]["mid"]
    row = kakao_post(simulator, "/akv10/history/list/", ACCOUNT).json()["list"][0]
    assert (row["reserve_date"], row["reserve_state"]) == (
        when.strftime("%Y-%m-%d %H:%M:%S"),
        "예약대기중",
    )
    held = kakao_post(simulator, "/akv10/history/detail/", {**ACCOUNT, "mid": mid}).json()
    assert (held["list"][0]["sentdate"], held["list"][0]["rslt"]) == ("", "")
    assert simulator.control.balances()["aligo"] == 50_000 - 13

    assert kakao_post(simulator, "/akv10/cancel/", {**ACCOUNT, "mid": mid}).json()["code"] == 0
    assert simulator.control.balances()["aligo"] == 50_000
    row = kakao_post(simulator, "/akv10/history/list/", ACCOUNT).json()["list"][0]
    assert row["reserve_state"] == "예약취소"
    assert kakao_post(simulator, "/akv10/cancel/", {**ACCOUNT, "mid": mid}).json()["code"] == 509


def test_senddate_in_the_past_goes_out_and_cannot_be_cancelled(simulator):
    past = kst(minutes=-5).strftime("%Y%m%d%H%M%S")
    mid = kakao_post(simulator, "/akv10/alimtalk/send/", {**AT, "senddate": past}).json()["info"][
        "mid"
    ]
    detail = kakao_post(simulator, "/akv10/history/detail/", {**ACCOUNT, "mid": mid}).json()
    assert detail["list"][0]["rslt"] == "0"
    assert kakao_post(simulator, "/akv10/cancel/", {**ACCOUNT, "mid": mid}).json()["code"] == 509
    assert kakao_post(simulator, "/akv10/cancel/", {**ACCOUNT, "mid": "1"}).json()["code"] == 509
    assert kakao_post(simulator, "/akv10/cancel/", ACCOUNT).json()["code"] == 506


def test_malformed_senddate_is_refused(simulator):
    for senddate in ("2030-01-01 09:00", "203001010900", "20301301090000"):
        body = kakao_post(simulator, "/akv10/alimtalk/send/", {**AT, "senddate": senddate}).json()
        assert body["code"] == 509 and "senddate" in body["message"], senddate
    assert simulator.control.messages("aligo_kakao") == []


# -- Kakao: templates ---------------------------------------------------------------------------------
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
