"""SOLAPI simulator: HMAC auth, sends, message list, balance and Kakao template review.

The signature is computed here independently of the simulator code, from the vendor's
rule: lowercase hex HMAC-SHA256 keyed with the API secret over ``date + salt``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

import requests

DEMO_KEY, DEMO_SECRET = "demo-api-key", "demo-api-secret"
PF_ID = "KA01PF000000000000000000DEMO"


def solapi_headers(
    *,
    key: str = DEMO_KEY,
    secret: str = DEMO_SECRET,
    date: str | None = None,
    salt: str | None = None,
    signature: str | None = None,
) -> dict[str, str]:
    date = date or datetime.now(UTC).isoformat(timespec="seconds")
    salt = salt or secrets.token_hex(16)
    signature = (
        signature or hmac.new(secret.encode(), (date + salt).encode(), hashlib.sha256).hexdigest()
    )
    return {
        "Authorization": f"HMAC-SHA256 apiKey={key}, date={date}, salt={salt}, signature={signature}"
    }


def send_many(sim, messages, **headers_kw):
    return requests.post(
        sim.url("solapi") + "/messages/v4/send-many/detail",
        headers=solapi_headers(**headers_kw),
        json={
            "messages": messages,
            "agent": {"sdkVersion": "python/test"},
            "showMessageList": True,
        },
        timeout=5,
    )


SMS = {"to": "01012345678", "from": "0212345678", "text": "인증번호 123456", "type": "SMS"}


# -- authentication ------------------------------------------------------------------
def test_correct_signature_is_accepted(simulator):
    response = requests.get(
        simulator.url("solapi") + "/cash/v1/balance", headers=solapi_headers(), timeout=5
    )
    assert response.status_code == 200
    assert response.json()["balance"] == 100_000


def test_kst_offset_date_is_accepted(simulator):
    kst_now = datetime.now(timezone(timedelta(hours=9))).isoformat(timespec="seconds")
    assert kst_now.endswith("+09:00")
    response = requests.get(
        simulator.url("solapi") + "/cash/v1/balance",
        headers=solapi_headers(date=kst_now),
        timeout=5,
    )
    assert response.status_code == 200


def test_the_python_sdks_spelling_of_the_header_is_accepted(simulator):
    # SOLAPI's Python SDK capitalizes ApiKey/Date and signs its local time with offset and
    # microseconds; the salt is a uuid1 in hex.
    date = datetime.now(timezone(timedelta(hours=9))).isoformat()
    salt = uuid.uuid1().hex
    signature = hmac.new(DEMO_SECRET.encode(), (date + salt).encode(), hashlib.sha256).hexdigest()
    header = f"HMAC-SHA256 ApiKey={DEMO_KEY}, Date={date}, salt={salt}, signature={signature}"
    response = requests.get(
        simulator.url("solapi") + "/cash/v1/balance", headers={"Authorization": header}, timeout=5
    )
    assert response.status_code == 200, response.json()


def test_wrong_signature_is_refused(simulator):
    response = requests.get(
        simulator.url("solapi") + "/cash/v1/balance",
        headers=solapi_headers(secret="not-the-secret"),
        timeout=5,
    )
    assert response.status_code == 401
    assert response.json()["errorCode"] == "SignatureDoesNotMatch"
    assert response.json()["errorMessage"]


def test_unknown_api_key_is_refused(simulator):
    response = requests.get(
        simulator.url("solapi") + "/cash/v1/balance",
        headers=solapi_headers(key="someone-else"),
        timeout=5,
    )
    assert response.status_code == 401
    assert response.json()["errorCode"] == "InvalidAPIKey"


def test_missing_or_malformed_authorization_is_refused(simulator):
    base = simulator.url("solapi") + "/cash/v1/balance"
    assert requests.get(base, timeout=5).status_code == 401
    bearer = requests.get(base, headers={"Authorization": "Bearer abc"}, timeout=5)
    assert bearer.json()["errorCode"] == "InvalidAuthorizationHeader"


def test_skewed_date_is_refused(simulator):
    stale = (datetime.now(UTC) - timedelta(minutes=16)).isoformat(timespec="seconds")
    future = (datetime.now(UTC) + timedelta(minutes=16)).isoformat(timespec="seconds")
    for date in (stale, future):
        response = requests.get(
            simulator.url("solapi") + "/cash/v1/balance",
            headers=solapi_headers(date=date),
            timeout=5,
        )
        assert response.status_code == 403
        assert response.json()["errorCode"] == "RequestTimeTooSkewed"


def test_date_inside_window_is_accepted(simulator):
    recent = (datetime.now(UTC) - timedelta(minutes=14)).isoformat(timespec="seconds")
    response = requests.get(
        simulator.url("solapi") + "/cash/v1/balance", headers=solapi_headers(date=recent), timeout=5
    )
    assert response.status_code == 200


def test_reused_salt_is_refused(simulator):
    salt = secrets.token_hex(16)
    url = simulator.url("solapi") + "/cash/v1/balance"
    first = requests.get(url, headers=solapi_headers(salt=salt), timeout=5)
    replay = requests.get(url, headers=solapi_headers(salt=salt), timeout=5)
    assert first.status_code == 200
    assert replay.status_code == 403
    assert replay.json()["errorCode"] == "DuplicatedSignature"


def test_a_salt_is_forgotten_once_its_window_has_passed_and_not_before(simulator_factory):
    sim = simulator_factory(solapi_skew_seconds=2)
    url = sim.url("solapi") + "/cash/v1/balance"

    def call(salt: str) -> int:
        date = datetime.now(UTC).isoformat(timespec="microseconds")  # whole seconds could skew
        return requests.get(
            url, headers=solapi_headers(salt=salt, date=date), timeout=5
        ).status_code

    old, recent = secrets.token_hex(16), secrets.token_hex(16)
    assert call(old) == 200
    time.sleep(1.2)
    assert call(recent) == 200
    time.sleep(1.2)  # ``old`` is now outside the 2 s window, ``recent`` inside it
    assert call(secrets.token_hex(16)) == 200  # (the request that forgets ``old``)
    assert call(recent) == 403  # forgetting stops at the first salt still inside the window
    assert call(old) == 200


def test_failed_signature_does_not_burn_the_salt(simulator):
    salt = secrets.token_hex(16)
    url = simulator.url("solapi") + "/cash/v1/balance"
    forged = requests.get(url, headers=solapi_headers(salt=salt, secret="wrong"), timeout=5)
    genuine = requests.get(url, headers=solapi_headers(salt=salt), timeout=5)
    assert forged.status_code == 401
    assert genuine.status_code == 200


def test_refused_requests_are_recorded(simulator):
    requests.get(
        simulator.url("solapi") + "/cash/v1/balance",
        headers=solapi_headers(secret="wrong"),
        timeout=5,
    )
    recorded = simulator.control.requests("solapi")
    assert len(recorded) == 1
    assert recorded[0]["response_status"] == 401
    assert recorded[0]["headers"]["authorization"].startswith("HMAC-SHA256 apiKey=demo-api-key")


# -- sending -----------------------------------------------------------------------------
def test_send_many_detail_accepts_and_records_the_wire_request(simulator):
    response = send_many(simulator, [SMS])
    body = response.json()
    assert response.status_code == 200
    assert body["groupInfo"]["count"]["total"] == 1
    assert body["groupInfo"]["count"]["registeredSuccess"] == 1
    assert body["failedMessageList"] == []
    assert body["messageList"][0]["statusCode"] == "2000"
    assert body["messageList"][0]["messageId"].startswith("M4V")
    wire = simulator.control.last_request("solapi", "/messages/v4/send-many/detail")
    assert wire["method"] == "POST"
    assert wire["body"]["messages"] == [SMS]


def test_unregistered_sender_and_invalid_messages_go_to_failed_list(simulator):
    messages = [
        {**SMS, "from": "0299998888"},  # not a registered sender
        {**SMS, "to": "+821012345678"},  # SOLAPI wants domestic digits
        {**SMS, "text": "가" * 46},  # 92 bytes > SMS limit
        {"to": "01012345678", "text": "no sender", "type": "LMS"},
        SMS,
    ]
    body = send_many(simulator, messages).json()
    codes = [m["statusCode"] for m in body["failedMessageList"]]
    assert codes == ["1062", "1020", "1023", "1010"]
    assert body["groupInfo"]["count"]["registeredFailed"] == 4
    assert body["groupInfo"]["count"]["registeredSuccess"] == 1
    assert all(m["statusMessage"] for m in body["failedMessageList"])


def test_all_failed_group_matches_the_sdk_failure_condition(simulator):
    body = send_many(simulator, [{**SMS, "from": "0299998888"}]).json()
    count = body["groupInfo"]["count"]
    assert body["failedMessageList"] and count["total"] == count["registeredFailed"]


def test_low_balance_fails_with_1030(simulator):
    simulator.control.set_balance("solapi", 5)
    body = send_many(simulator, [SMS]).json()
    assert body["failedMessageList"][0]["statusCode"] == "1030"


def test_balance_is_charged_per_accepted_message(simulator):
    send_many(simulator, [SMS, {**SMS, "text": "가" * 100, "type": "LMS"}])
    balance = requests.get(
        simulator.url("solapi") + "/cash/v1/balance", headers=solapi_headers(), timeout=5
    ).json()
    assert balance["balance"] == 100_000 - 20 - 50


def test_v5_single_send_success_and_refusal(simulator):
    url = simulator.url("solapi") + "/messages/v4/send"
    ok = requests.post(url, headers=solapi_headers(), json={"message": SMS}, timeout=5)
    assert ok.status_code == 200
    assert ok.json()["statusCode"] == "2000" and ok.json()["messageId"]
    refused = requests.post(
        url, headers=solapi_headers(), json={"message": {**SMS, "from": "0299998888"}}, timeout=5
    )
    assert refused.status_code == 400
    assert refused.json()["errorCode"] == "FailedToAddMessage"
    assert "1062" in refused.json()["errorMessage"]


def test_alimtalk_needs_an_approved_template_and_all_variables(simulator):
    kakao = {
        "pfId": PF_ID,
        "templateId": "KMSG_OTP_001",
        "variables": {"#{service}": "KMSG", "#{code}": "1"},
    }
    ok = send_many(simulator, [{"to": "01012345678", "type": "ATA", "kakaoOptions": kakao}]).json()
    assert ok["failedMessageList"] == []
    missing_var = {**kakao, "variables": {"#{service}": "KMSG"}}
    unknown_tpl = {**kakao, "templateId": "NOPE"}
    wrong_pf = {**kakao, "pfId": "KA01PFother"}
    body = send_many(
        simulator,
        [
            {"to": "01012345678", "type": "ATA", "kakaoOptions": k}
            for k in (missing_var, unknown_tpl, wrong_pf)
        ],
    ).json()
    assert [m["statusCode"] for m in body["failedMessageList"]] == ["1010", "3105", "3101"]


# -- message list and delivery status ---------------------------------------------------------
def list_message(sim, message_id):
    response = requests.get(
        sim.url("solapi") + "/messages/v4/list",
        params={"messageId": message_id, "limit": 1},
        headers=solapi_headers(),
        timeout=5,
    )
    assert response.status_code == 200
    return response.json()["messageList"]


def test_message_list_is_keyed_by_id_and_status_is_settable(simulator):
    message_id = send_many(simulator, [SMS]).json()["messageList"][0]["messageId"]
    listed = list_message(simulator, message_id)
    assert list(listed) == [message_id]
    assert listed[message_id]["statusCode"] == "2000"  # manual progression in the fixture
    simulator.control.set_status("solapi", message_id, statusCode="3104")
    failed = list_message(simulator, message_id)[message_id]
    assert failed["statusCode"] == "3104"
    assert "미사용" in failed["statusMessage"]
    simulator.control.set_status("solapi", message_id, "delivered")
    assert list_message(simulator, message_id)[message_id]["statusCode"] == "4000"


def test_unknown_message_id_gives_an_empty_object(simulator):
    assert list_message(simulator, "M4V00000000000000NOTHERE") == {}


def test_default_progression_reaches_delivery(simulator_factory):
    sim = simulator_factory(delivery_step_seconds=0)
    message_id = send_many(sim, [SMS]).json()["messageList"][0]["messageId"]
    assert list_message(sim, message_id)[message_id]["statusCode"] == "4000"
    kakao = {
        "pfId": PF_ID,
        "templateId": "KMSG_OTP_001",
        "variables": {"service": "K", "code": "1"},
    }
    ata = send_many(sim, [{"to": "01099990000", "type": "ATA", "kakaoOptions": kakao}]).json()
    ata_id = ata["messageList"][0]["messageId"]
    assert list_message(sim, ata_id)[ata_id]["statusCode"] == "3104"  # configured non-Kakao user


def test_concurrent_sends_get_unique_ids_and_exact_charges(simulator):
    with ThreadPoolExecutor(max_workers=8) as pool:
        bodies = list(pool.map(lambda _: send_many(simulator, [SMS]).json(), range(40)))
    ids = {b["messageList"][0]["messageId"] for b in bodies}
    assert len(ids) == 40
    assert simulator.control.balances()["solapi"] == 100_000 - 40 * 20


def get(sim, path, **params):
    return requests.get(
        sim.url("solapi") + path, params=params, headers=solapi_headers(), timeout=5
    )


def upload(sim, content=b"\x89PNG\r\n\x1a\n" + bytes(32), **fields):
    return requests.post(
        sim.url("solapi") + "/storage/v1/files",
        headers=solapi_headers(),
        json={"file": base64.b64encode(content).decode(), "type": "MMS", **fields},
        timeout=5,
    )


# -- uploads -------------------------------------------------------------------------------------
def test_an_unnamed_upload_is_named_after_its_content_and_fully_described(simulator):
    body = upload(simulator).json()
    assert body["name"].endswith(".png") and len(body["name"]) == len("hTAgX.png")
    assert body["originalName"] == body["name"]
    assert body["url"].endswith("/" + body["name"])
    assert body["accountId"] and body["fileId"].startswith("ST01FZ")
    assert upload(simulator, name="photo.png").json()["name"] == "photo.png"


def test_an_upload_that_is_not_base64_is_refused(simulator):
    response = requests.post(
        simulator.url("solapi") + "/storage/v1/files",
        headers=solapi_headers(),
        json={"file": "not base64!", "type": "MMS"},
        timeout=5,
    )
    assert response.status_code == 400 and response.json()["errorCode"] == "ValidationError"


def test_an_mms_needs_an_image_that_was_uploaded(simulator):
    file_id = upload(simulator).json()["fileId"]
    mms = {**SMS, "type": "MMS", "subject": "사진"}
    body = send_many(
        simulator, [{**mms, "imageId": file_id}, {**mms, "imageId": "ST01FZNEVERUPLOADED"}]
    ).json()
    assert [m["statusCode"] for m in body["failedMessageList"]] == ["1034"]
    assert body["groupInfo"]["count"]["registeredSuccess"] == 1
    assert [m["imageId"] for m in simulator.control.messages("solapi")] == [file_id]


# -- groups and reservations ------------------------------------------------------------------------
def schedule(sim, seconds_ahead):
    when = datetime.now(UTC) + timedelta(seconds=seconds_ahead)
    return requests.post(
        sim.url("solapi") + "/messages/v4/send-many/detail",
        headers=solapi_headers(),
        json={"messages": [SMS], "scheduledDate": when.isoformat()},
        timeout=5,
    ).json()


def test_every_send_is_a_group_listed_newest_first(simulator):
    first = send_many(simulator, [SMS, SMS]).json()["groupInfo"]["groupId"]
    second = send_many(simulator, [{**SMS, "from": "0299998888"}]).json()["groupInfo"]["groupId"]
    listed = get(simulator, "/messages/v4/groups").json()
    assert list(listed["groupList"]) == [second, first]
    assert listed["groupList"][second]["status"] == "FAILED"
    assert listed["groupList"][first]["count"]["registeredSuccess"] == 2
    found = get(simulator, "/messages/v4/groups", criteria="groupId", cond="ne", value=second)
    assert list(found.json()["groupList"]) == [first]


def test_an_unknown_group_is_not_found(simulator):
    response = get(simulator, "/messages/v4/groups/G4VNOSUCHGROUP")
    assert response.status_code == 404 and response.json()["errorCode"] == "NotFound"


def test_a_scheduled_group_is_held_until_its_date_and_then_delivered(simulator_factory):
    sim = simulator_factory(delivery_step_seconds=0)
    group_id = schedule(sim, 1)["groupInfo"]["groupId"]
    assert get(sim, f"/messages/v4/groups/{group_id}").json()["status"] == "SCHEDULED"
    assert [m["statusCode"] for m in sim.control.messages("solapi")] == ["2000"]
    time.sleep(1.3)
    assert get(sim, f"/messages/v4/groups/{group_id}").json()["status"] == "COMPLETE"
    assert [m["statusCode"] for m in sim.control.messages("solapi")] == ["4000"]


def test_a_cancelled_reservation_is_refunded_and_never_delivers(simulator_factory):
    sim = simulator_factory(delivery_step_seconds=0)
    group_id = schedule(sim, 1)["groupInfo"]["groupId"]
    cancelled = requests.delete(
        sim.url("solapi") + f"/messages/v4/groups/{group_id}/schedule",
        headers=solapi_headers(),
        timeout=5,
    ).json()
    assert (cancelled["status"], cancelled["scheduledDate"]) == ("PENDING", None)
    assert cancelled["balance"]["refund"] == 20 and cancelled["isRefunded"] is True
    assert sim.control.balances()["solapi"] == 100_000
    time.sleep(1.3)
    assert [m["statusCode"] for m in sim.control.messages("solapi")] == ["2000"]


def test_only_a_scheduled_group_can_have_its_reservation_cancelled(simulator):
    group_id = send_many(simulator, [SMS]).json()["groupInfo"]["groupId"]
    response = requests.delete(
        simulator.url("solapi") + f"/messages/v4/groups/{group_id}/schedule",
        headers=solapi_headers(),
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json()["errorCode"] == "InvalidGroupStatus"


# -- message list filters ----------------------------------------------------------------------------
def test_both_message_lists_filter_on_status_ids_and_dates(simulator):
    ids = [m["messageId"] for m in send_many(simulator, [SMS, SMS, SMS]).json()["messageList"]]
    simulator.control.set_status("solapi", ids[0], "delivered")
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    for path in ("/messages/v4/list", "/messages/v4/list-old"):
        assert set(get(simulator, path, statusCode="4000").json()["messageList"]) == {ids[0]}
        repeated = get(simulator, path, messageIds=[ids[0], ids[2]]).json()
        assert set(repeated["messageList"]) == {ids[0], ids[2]}
        as_python_writes_it = get(simulator, path, messageIds=str([ids[1], ids[2]])).json()
        assert set(as_python_writes_it["messageList"]) == {ids[1], ids[2]}
        assert get(simulator, path, startDate=later).json()["messageList"] == {}
        assert len(get(simulator, path, endDate=later).json()["messageList"]) == 3


def test_a_malformed_date_filter_is_a_validation_error(simulator):
    response = get(simulator, "/messages/v4/list", startDate="yesterday")
    assert response.status_code == 400 and response.json()["errorCode"] == "ValidationError"


# -- statistics and balance --------------------------------------------------------------------------
def test_statistics_count_the_period_and_its_spending(simulator):
    ids = [m["messageId"] for m in send_many(simulator, [SMS, SMS]).json()["messageList"]]
    simulator.control.set_status("solapi", ids[0], "delivered")
    simulator.control.set_status("solapi", ids[1], "failed")
    stats = get(simulator, "/messages/v4/statistics").json()
    assert stats["balance"] == 40
    assert (stats["total"]["sms"], stats["successed"]["sms"], stats["failed"]["sms"]) == (2, 1, 1)
    assert stats["monthPeriod"][0]["dayPeriod"][0]["statusCode"] == {
        "4000": {"sms": 1},
        "3040": {"sms": 1},
    }


def test_the_balance_carries_the_low_balance_alert_the_node_sdk_reads(simulator):
    body = get(simulator, "/cash/v1/balance").json()
    alert = body["lowBalanceAlert"]
    assert alert["currentBalance"] == "100000" and isinstance(alert["notificationBalance"], str)
    assert isinstance(alert["balances"], list) and isinstance(alert["channels"], list)
    assert alert["enabled"] is False


# -- Kakao templates -------------------------------------------------------------------------------
def template_call(sim, method, path="", **kwargs):
    return requests.request(
        method,
        sim.url("solapi") + "/kakao/v2/templates" + path,
        headers=solapi_headers(),
        timeout=5,
        **kwargs,
    )


def test_template_review_lifecycle(simulator):
    created = template_call(
        simulator,
        "POST",
        json={
            "name": "주문 안내",
            "content": "#{name}님 주문이 접수되었습니다.",
            "categoryCode": "002001",
            "channelId": PF_ID,
        },
    )
    assert created.status_code == 200
    template_id = created.json()["templateId"]
    assert created.json()["status"] == "PENDING"
    assert created.json()["variables"] == [{"name": "#{name}"}]

    assert (
        template_call(simulator, "PUT", f"/{template_id}/inspection").json()["status"]
        == "INSPECTING"
    )
    assert (
        template_call(simulator, "PUT", f"/{template_id}/inspection/cancel").json()["status"]
        == "PENDING"
    )
    template_call(simulator, "PUT", f"/{template_id}/inspection")

    rejected = simulator.control.reject_template("solapi", template_id, "변수 설명이 부족합니다.")
    assert rejected["status"] == "REJECTED"
    fetched = template_call(simulator, "GET", f"/{template_id}").json()
    assert fetched["status"] == "REJECTED"
    assert fetched["comments"][0]["content"] == "변수 설명이 부족합니다."

    edited = template_call(
        simulator, "PUT", f"/{template_id}", json={"content": "#{name}님 주문 완료"}
    )
    assert edited.json()["status"] == "PENDING"
    simulator.control.approve_template("solapi", template_id)
    listed = template_call(simulator, "GET", params={"status": "APPROVED"}).json()["templateList"]
    assert template_id in [t["templateId"] for t in listed]
    locked = template_call(simulator, "PUT", f"/{template_id}", json={"content": "changed"})
    assert locked.status_code == 400


def test_cancel_inspection_requires_inspecting(simulator):
    response = template_call(simulator, "PUT", "/KMSG_OTP_001/inspection/cancel")
    assert response.status_code == 400
    assert response.json()["errorCode"] == "InvalidTemplateStatus"


def test_template_create_validates_and_delete_removes(simulator):
    missing = template_call(simulator, "POST", json={"name": "x"})
    assert missing.status_code == 400 and missing.json()["errorCode"] == "ValidationError"
    created = template_call(
        simulator,
        "POST",
        json={"name": "n", "content": "c", "categoryCode": "001001", "channelId": PF_ID},
    ).json()
    assert template_call(simulator, "DELETE", f"/{created['templateId']}").status_code == 200
    assert template_call(simulator, "GET", f"/{created['templateId']}").status_code == 404
