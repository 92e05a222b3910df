"""The SOLAPI simulator driven by SOLAPI's own Python SDK (PyPI ``solapi`` 5.0.3).

The SDK parses every answer with pydantic models, so an answer missing a field the SDK
requires fails its call here; where the SDK reads a value without requiring it (the balance),
the test compares the value with the simulator's own state.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import pytest

from tests.conformance import clients, solapi_setup
from tests.conformance.solapi_setup import (
    DEMO,
    JPEG,
    KST,
    MESSAGES,
    SENDER,
    TO,
    client_env,
    sms,
)


@pytest.fixture
def sdk(python_sdk, simulator):
    """Run a ``solapi_python_*`` script against ``server`` (the clean session simulator)."""

    def run(script: str, server=simulator, **env: str):
        return clients.run_python(python_sdk, script, **{**client_env(server), **env})

    return run


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(JPEG)
    return str(path)


def send(sdk, message_type: str, image: str | None = None):
    """Send ``MESSAGES[message_type]`` with the SDK (uploading ``image`` first for an MMS)."""
    env = {"MESSAGE": json.dumps(MESSAGES[message_type])}
    if image:
        env["IMAGE_PATH"] = image
    return sdk("solapi_python_send.py", **env)


def stored(server) -> dict[str, dict]:
    return {m["messageId"]: m for m in server.control.messages("solapi")}


# -- authentication -----------------------------------------------------------------------
def test_the_sdks_signature_is_accepted_and_the_balance_is_the_simulators(sdk, simulator):
    # The SDK writes ``ApiKey=``/``Date=`` and a local date with offset and microseconds.
    simulator.control.set_balance("solapi", 12_345)
    balance = sdk("solapi_python_lookup.py", CALL="balance")
    assert balance == {"balance": 12_345, "point": DEMO.solapi_point}
    header = simulator.control.last_request("solapi")["headers"]["authorization"]
    assert header.startswith(f"HMAC-SHA256 ApiKey={DEMO.solapi_api_key}, Date=")
    assert "+09:00" in header


def test_a_wrong_secret_raises_the_sdks_error_with_solapis_code(sdk):
    raised = sdk("solapi_python_errors.py", CASE="bad_auth", SOLAPI_API_SECRET="not-the-secret")
    assert raised["raised"] == "Exception"
    assert raised["args"][0] == "SignatureDoesNotMatch"
    assert raised["args"][1]


# -- sending ------------------------------------------------------------------------------
@pytest.mark.parametrize("message_type", list(MESSAGES))
def test_each_message_type_is_accepted_and_parsed(sdk, simulator, image, message_type):
    result = send(sdk, message_type, image if message_type == "MMS" else None)
    response, group = result["response"], result["response"]["groupInfo"]
    (message,) = stored(simulator).values()
    assert message["type"] == message_type
    assert response["failedMessageList"] == []
    assert [m["messageId"] for m in response["messageList"]] == [message["messageId"]]
    assert response["messageList"][0]["statusCode"] == "2000"
    assert group["groupId"] == message["groupId"]
    assert group["count"]["registeredSuccess"] == 1 and group["count"]["registeredFailed"] == 0
    assert group["countForCharge"][message_type.lower()] == {"82": 1}
    price = DEMO.price(message_type)
    assert group["balance"]["requested"] == price
    assert group["accountId"] == message["accountId"]
    assert simulator.control.balances()["solapi"] == DEMO.solapi_balance - price


def test_an_uploaded_image_is_described_and_sent_by_its_file_id(sdk, simulator, image):
    result = send(sdk, "MMS", image)
    upload = result["upload"]
    (message,) = stored(simulator).values()
    assert message["imageId"] == upload["fileId"]
    assert upload["type"] == "MMS"
    assert upload["name"].endswith(".jpg") and upload["originalName"] == upload["name"]
    assert upload["url"].endswith(upload["name"])
    assert upload["accountId"] == message["accountId"]


def test_an_mms_naming_an_image_never_uploaded_is_refused(sdk, simulator):
    never_uploaded = sms(type="MMS", imageId="ST01FZ260101000000NOTUPLOADED00", subject="사진")
    raised = sdk(
        "solapi_python_errors.py", CASE="not_received", MESSAGES=json.dumps([never_uploaded])
    )
    assert raised["raised"] == "MessageNotReceivedError"
    assert [m["statusCode"] for m in raised["failed"]] == ["1034"]
    assert stored(simulator) == {}
    assert simulator.control.balances()["solapi"] == DEMO.solapi_balance


def test_a_send_refused_for_every_message_raises_message_not_received(sdk, simulator):
    unregistered = sms(sender="0299998888")
    raised = sdk(
        "solapi_python_errors.py", CASE="not_received", MESSAGES=json.dumps([unregistered])
    )
    assert raised["raised"] == "MessageNotReceivedError"
    (failed,) = raised["failed"]
    assert (failed["statusCode"], failed["to"], failed["from"]) == ("1062", TO, "0299998888")


# -- scheduled sends ----------------------------------------------------------------------------
def test_a_scheduled_send_is_held_and_a_cancelled_one_never_delivers(sdk, simulator_factory):
    server = simulator_factory(delivery_step_seconds=0)  # anything not held finishes at once
    when = (datetime.now(KST) + timedelta(hours=1)).replace(microsecond=0)
    sent = sdk(
        "solapi_python_schedule.py", server, ACTION="schedule", SCHEDULED_DATE=when.isoformat()
    )
    group = sent["groupInfo"]
    assert group["status"] == "SCHEDULED"
    assert datetime.fromisoformat(group["scheduledDate"]) == when
    (message_id,) = [m["messageId"] for m in sent["messageList"]]
    assert stored(server)[message_id]["statusCode"] == "2000"

    cancelled = sdk("solapi_python_schedule.py", server, ACTION="cancel", GROUP_ID=group["groupId"])
    assert cancelled["groupId"] == group["groupId"]
    assert cancelled["status"] == "PENDING" and cancelled["scheduledDate"] is None
    assert cancelled["balance"]["refund"] == DEMO.price("SMS")
    assert server.control.balances()["solapi"] == DEMO.solapi_balance
    again = sdk("solapi_python_lookup.py", server, CALL="group", GROUP_ID=group["groupId"])
    assert again["status"] == "PENDING"
    assert stored(server)[message_id]["statusCode"] == "2000"


def test_a_scheduled_group_reads_complete_once_its_time_has_come(sdk, simulator_factory):
    server = simulator_factory(delivery_step_seconds=0)
    when = datetime.now(KST) + timedelta(seconds=1)
    sent = solapi_setup.send_many(server, [sms()], scheduledDate=when.isoformat())
    (message_id,) = stored(server)
    assert stored(server)[message_id]["statusCode"] == "2000"
    time.sleep(max(0.0, (when - datetime.now(KST)).total_seconds()) + 0.2)
    group = sdk(
        "solapi_python_lookup.py", server, CALL="group", GROUP_ID=sent["groupInfo"]["groupId"]
    )
    assert group["status"] == "COMPLETE" and group["count"]["sentSuccess"] == 1
    assert stored(server)[message_id]["statusCode"] == "4000"


# -- reading messages and groups -------------------------------------------------------------------
@pytest.fixture
def three_messages(simulator):
    return solapi_setup.three_messages(simulator)


def test_the_message_list_applies_every_filter_the_sdk_sends(sdk, three_messages):
    m = three_messages
    queries = [
        None,
        {"message_id": m["sms_a"]},
        {"message_ids": [m["sms_a"], m["sms_b"]]},
        {"group_id": m["group_a"]},
        {"to": "01011112222"},
        {"from_": "01000000000"},
        {"type": "LMS"},
        {"status_code": "4000"},
        {"start_date": m["between"]},
        {"start_date": m["between"], "date_type": "UPDATED"},
        {"end_date": m["between"]},
    ]
    answers = sdk("solapi_python_lookup.py", CALL="messages", QUERIES=json.dumps(queries))
    found = [set(a["messageList"]) for a in answers]
    assert found == [
        {m["sms_a"], m["lms_a"], m["sms_b"]},
        {m["sms_a"]},
        {m["sms_a"], m["sms_b"]},
        {m["sms_a"], m["lms_a"]},
        {m["sms_a"], m["sms_b"]},
        {m["lms_a"]},
        {m["lms_a"]},
        {m["sms_a"]},
        set(),  # every message was created before ``between``
        {m["sms_a"]},  # only the delivered one changed after it
        {m["sms_a"], m["lms_a"], m["sms_b"]},
    ]
    listed = answers[1]["messageList"][m["sms_a"]]
    assert (listed["statusCode"], listed["to"], listed["from"]) == ("4000", "01011112222", SENDER)
    assert listed["groupId"] == m["group_a"]


def test_groups_are_listed_found_and_read_with_their_messages(sdk, three_messages):
    m = three_messages
    # No date range here: this SDK writes a group query's dates unaliased (``start_date``),
    # names SOLAPI does not document; the Node SDK's ``startDate`` is checked in its suite.
    groups, by_id = sdk(
        "solapi_python_lookup.py",
        CALL="groups",
        QUERIES=json.dumps([None, {"group_id": m["group_b"]}]),
    )
    assert set(groups["groupList"]) == {m["group_a"], m["group_b"]}
    assert set(by_id["groupList"]) == {m["group_b"]}
    group = sdk("solapi_python_lookup.py", CALL="group", GROUP_ID=m["group_a"])
    assert group["groupId"] == m["group_a"]
    assert group["count"]["total"] == 2 and group["count"]["sentSuccess"] == 1
    assert group["countForCharge"]["sms"] == {"82": 1} and group["countForCharge"]["lms"] == {
        "82": 1
    }
    messages = sdk("solapi_python_lookup.py", CALL="group_messages", GROUP_ID=m["group_a"])
    assert set(messages["messageList"]) == {m["sms_a"], m["lms_a"]}
