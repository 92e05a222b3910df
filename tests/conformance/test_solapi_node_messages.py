"""The SOLAPI simulator's messaging side driven by SOLAPI's Node SDK (npm ``solapi`` 6.0.1).

Every call is made by the SDK itself (``scripts/solapi_node_calls.js``). The SDK decodes
most answers with its own effect Schemas, so an answer lacking a field the SDK requires fails
here; ``send``, ``uploadFile`` and ``removeReservationToGroup`` it hands over undecoded, and the
script checks those against the schema the SDK publishes for their declared type. Parsed values
are then compared with what the simulator holds.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.conformance import clients, solapi_setup
from tests.conformance.solapi_setup import DEMO, JPEG, KST, MESSAGES, client_env, sms

SCRIPT = "solapi_node_calls.js"


def call(method: str, *args: Any) -> dict[str, Any]:
    return {"call": method, "args": list(args)}


@pytest.fixture
def sdk(node_clients, simulator):
    """Run SDK calls against ``server``; one ``{"value"}`` or ``{"error"}`` per call."""

    def run(*calls: dict[str, Any], server=simulator, secret: str | None = None):
        env = client_env(server)
        if secret is not None:
            env["SOLAPI_API_SECRET"] = secret
        return clients.run_node(node_clients, SCRIPT, **env, CALLS=json.dumps(list(calls)))

    return run


def value(result: dict[str, Any]) -> Any:
    assert "error" not in result, result
    return result["value"]


def stored(server) -> dict[str, dict]:
    return {m["messageId"]: m for m in server.control.messages("solapi")}


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(JPEG)
    return str(path)


# -- authentication and balance ----------------------------------------------------------------
def test_the_balance_is_the_simulators_with_its_low_balance_alert(sdk, simulator):
    simulator.control.set_balance("solapi", 12_345)
    (result,) = sdk(call("getBalance"))
    balance = value(result)
    assert (balance["balance"], balance["point"]) == (12_345, DEMO.solapi_point)
    alert = balance["lowBalanceAlert"]
    assert alert["currentBalance"] == "12345"
    assert isinstance(alert["notificationBalance"], str) and alert["enabled"] is False


def test_a_wrong_secret_is_the_sdks_client_error_with_solapis_code(sdk):
    (result,) = sdk(call("getBalance"), secret="not-the-secret")
    error = result["error"]
    assert (error["tag"], error["errorCode"], error["httpStatus"]) == (
        "ClientError",
        "SignatureDoesNotMatch",
        401,
    )


# -- sending ------------------------------------------------------------------------------------
@pytest.mark.parametrize("message_type", [t for t in MESSAGES if t != "MMS"])
def test_each_message_type_is_accepted_and_parsed(sdk, simulator, message_type):
    (result,) = sdk(call("send", MESSAGES[message_type], {"showMessageList": True}))
    _assert_one_accepted(simulator, value(result), message_type)


def test_an_mms_sends_the_image_the_sdk_uploaded(sdk, simulator, image):
    (uploaded,) = sdk(call("uploadFile", image, "MMS"))
    upload = value(uploaded)
    assert upload["type"] == "MMS" and upload["name"].endswith(".jpg")
    mms = {**MESSAGES["MMS"], "imageId": upload["fileId"]}
    (result,) = sdk(call("send", mms, {"showMessageList": True}))
    message = _assert_one_accepted(simulator, value(result), "MMS")
    assert message["imageId"] == upload["fileId"]


def _assert_one_accepted(server, response: dict[str, Any], message_type: str) -> dict:
    (message,) = stored(server).values()
    group = response["groupInfo"]
    assert message["type"] == message_type
    assert response["failedMessageList"] == []
    assert [m["messageId"] for m in response["messageList"]] == [message["messageId"]]
    assert group["groupId"] == message["groupId"]
    assert group["count"]["registeredSuccess"] == 1
    assert group["countForCharge"][message_type.lower()] == {"82": 1}
    assert group["balance"]["requested"] == DEMO.price(message_type)
    assert server.control.balances()["solapi"] == DEMO.solapi_balance - DEMO.price(message_type)
    return message


def test_an_mms_naming_an_image_never_uploaded_is_message_not_received(sdk, simulator):
    never_uploaded = {**MESSAGES["MMS"], "imageId": "ST01FZ260101000000NOTUPLOAD"}
    (result,) = sdk(call("send", never_uploaded))
    error = result["error"]
    assert error["tag"] == "MessageNotReceivedError"
    assert [m["statusCode"] for m in error["failedMessageList"]] == ["1034"]
    assert stored(simulator) == {}


def test_a_send_refused_for_every_message_is_message_not_received(sdk):
    (result,) = sdk(call("send", [sms(sender="0299998888"), sms(sender="0299998888")]))
    error = result["error"]
    assert error["tag"] == "MessageNotReceivedError"
    assert [m["statusCode"] for m in error["failedMessageList"]] == ["1062", "1062"]


# -- scheduled sends ------------------------------------------------------------------------------
def test_a_scheduled_send_is_held_and_its_reservation_removed(sdk, simulator_factory):
    server = simulator_factory(delivery_step_seconds=0)  # anything not held finishes at once
    when = (datetime.now(KST) + timedelta(hours=1)).replace(microsecond=0)
    (sent,) = sdk(call("send", MESSAGES["SMS"], {"scheduledDate": when.isoformat()}), server=server)
    group = value(sent)["groupInfo"]
    assert group["status"] == "SCHEDULED"
    assert datetime.fromisoformat(group["scheduledDate"]) == when
    (message_id,) = stored(server)
    assert stored(server)[message_id]["statusCode"] == "2000"

    removed, again = sdk(
        call("removeReservationToGroup", group["groupId"]),
        call("getGroup", group["groupId"]),
        server=server,
    )
    assert value(removed)["status"] == "PENDING" and value(removed)["scheduledDate"] is None
    assert value(again)["status"] == "PENDING"
    assert value(again)["isRefunded"] is True
    assert stored(server)[message_id]["statusCode"] == "2000"
    assert server.control.balances()["solapi"] == DEMO.solapi_balance


def test_removing_the_reservation_of_a_group_already_sent_is_refused(sdk, simulator):
    (sent,) = sdk(call("send", MESSAGES["SMS"]))
    (removed,) = sdk(call("removeReservationToGroup", value(sent)["groupInfo"]["groupId"]))
    assert removed["error"]["tag"] == "ClientError"
    assert removed["error"]["httpStatus"] == 400


def test_a_scheduled_group_reads_complete_once_its_time_has_come(sdk, simulator_factory):
    server = simulator_factory(delivery_step_seconds=0)
    when = datetime.now(KST) + timedelta(seconds=1)
    sent = solapi_setup.send_many(server, [sms()], scheduledDate=when.isoformat())
    (message_id,) = stored(server)
    assert stored(server)[message_id]["statusCode"] == "2000"
    time.sleep(max(0.0, (when - datetime.now(KST)).total_seconds()) + 0.2)
    (group,) = sdk(call("getGroup", sent["groupInfo"]["groupId"]), server=server)
    assert value(group)["status"] == "COMPLETE" and value(group)["count"]["sentSuccess"] == 1
    assert value(group)["dateSent"] and value(group)["dateCompleted"]
    assert stored(server)[message_id]["statusCode"] == "4000"


# -- reading messages, groups and statistics ---------------------------------------------------------
@pytest.fixture
def three_messages(simulator):
    return solapi_setup.three_messages(simulator)


def test_get_messages_applies_every_filter_the_sdk_sends(sdk, three_messages):
    m = three_messages
    queries = [
        {},
        {"messageId": m["sms_a"]},
        {"messageIds": [m["sms_a"], m["sms_b"]]},
        {"groupId": m["group_a"]},
        {"to": "01011112222"},
        {"from": "01000000000"},
        {"type": "LMS"},
        {"statusCode": "4000"},
        {"startDate": m["between"]},
        {"startDate": m["between"], "dateType": "UPDATED"},
        {"endDate": m["between"]},
        {"limit": 2},
    ]
    answers = [value(r) for r in sdk(*(call("getMessages", q) for q in queries))]
    assert [set(a["messageList"]) for a in answers] == [
        {m["sms_a"], m["lms_a"], m["sms_b"]},
        {m["sms_a"]},
        {m["sms_a"], m["sms_b"]},
        {m["sms_a"], m["lms_a"]},
        {m["sms_a"], m["sms_b"]},
        {m["lms_a"]},
        {m["lms_a"]},
        {m["sms_a"]},
        set(),
        {m["sms_a"]},
        {m["sms_a"], m["lms_a"], m["sms_b"]},
        {m["sms_b"], m["lms_a"]},  # newest first
    ]
    assert answers[-1]["nextKey"] == m["sms_a"]
    listed = answers[1]["messageList"][m["sms_a"]]
    assert (listed["statusCode"], listed["groupId"]) == ("4000", m["group_a"])


def test_groups_are_listed_found_read_and_paged(sdk, three_messages):
    m = three_messages
    listed, by_id, created_later, group, first_page, second_page = sdk(
        call("getGroups"),
        call("getGroups", {"groupId": m["group_a"]}),
        call("getGroups", {"startDate": m["between"]}),
        call("getGroup", m["group_a"]),
        call("getGroupMessages", m["group_a"], {"limit": 1}),
        call("getGroupMessages", m["group_a"], {"limit": 1, "startKey": m["sms_a"]}),
    )
    assert list(value(listed)["groupList"]) == [m["group_b"], m["group_a"]]
    assert list(value(by_id)["groupList"]) == [m["group_a"]]
    assert value(created_later)["groupList"] == {}
    group = value(group)
    assert group["count"]["total"] == 2 and group["count"]["sentSuccess"] == 1
    assert group["status"] == "SENDING"  # the LMS is still on its way
    assert list(value(first_page)["messageList"]) == [m["lms_a"]]
    assert value(first_page)["nextKey"] == m["sms_a"]
    assert list(value(second_page)["messageList"]) == [m["sms_a"]]
    assert value(second_page)["nextKey"] is None


def test_an_unknown_group_is_a_client_error(sdk):
    (result,) = sdk(call("getGroup", "G4V20260101000000NOSUCHGROUP000"))
    assert (result["error"]["tag"], result["error"]["httpStatus"]) == ("ClientError", 404)


def test_statistics_count_and_charge_the_stored_messages(sdk, three_messages):
    future = (datetime.now(KST) + timedelta(days=1)).isoformat()
    everything, nothing = sdk(call("getStatistics"), call("getStatistics", {"startDate": future}))
    stats = value(everything)
    spent = 2 * DEMO.price("SMS") + DEMO.price("LMS")
    assert stats["balance"] == spent
    assert (stats["total"]["total"], stats["total"]["sms"], stats["total"]["lms"]) == (3, 2, 1)
    assert (stats["successed"]["total"], stats["successed"]["sms"]) == (1, 1)
    assert stats["failed"]["total"] == 0
    (month,) = stats["monthPeriod"]
    (day,) = month["dayPeriod"]
    assert month["date"] == datetime.now(KST).strftime("%Y/%m")
    assert day["date"] == datetime.now(KST).strftime("%Y/%m/%d")
    assert day["statusCode"]["4000"] == {"sms": 1}
    assert day["statusCode"]["2000"] == {"sms": 1, "lms": 1}
    empty = value(nothing)
    assert (empty["total"]["total"], empty["balance"], empty["monthPeriod"]) == (0, 0, [])


# -- batches ----------------------------------------------------------------------------------
def test_a_batch_answer_carries_each_messages_custom_fields_as_the_sdk_declares(sdk, simulator):
    """The console matches a send-many answer to its messages by ``customFields`` (the
    accepted list has no number): the SDK's own batch send gets them back in both lists, in
    the shape its published schema declares (the script checks ``send`` against it)."""
    batch = [
        sms(to="01011112222", customFields={"kmsgMessageId": "a"}),
        sms(to="01033334444", sender="0299998888", customFields={"kmsgMessageId": "b"}),
        sms(to="01055556666", customFields={"kmsgMessageId": "c"}),
    ]
    (result,) = sdk(call("send", batch, {"showMessageList": True}))
    answer = value(result)
    assert [m["customFields"] for m in answer["messageList"]] == [
        {"kmsgMessageId": "a"},
        {"kmsgMessageId": "c"},
    ]
    assert [(m["customFields"], m["statusCode"]) for m in answer["failedMessageList"]] == [
        ({"kmsgMessageId": "b"}, "1062")
    ]
    # The accepted list names the stored messages; it holds no number to match by.
    held = stored(simulator)
    assert {m["messageId"] for m in answer["messageList"]} == set(held)
    assert all("to" not in m for m in answer["messageList"])
