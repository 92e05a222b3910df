"""The console's SOLAPI adapter puts on the wire what SOLAPI's own clients send for the same message.

Each message goes out three times, through the adapter, SOLAPI's Python SDK (5.0.3) and its Node
SDK (6.0.1), and the simulator records the three requests. Every field on which the two SDKs agree
must be in the adapter's message object with the same value, and the adapter may send no field
that neither SDK sends. Values that differ legitimately between senders are left out: the
``imageId`` (each sender uploads its own copy of the image, so each gets its own file id).

Fields only one SDK adds are not required of the adapter: the Python SDK's defaults
``country: "82"`` (SOLAPI's own default) and ``autoTypeDetect: true`` (moot when ``type`` is set).
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from kmsg_console.messaging.types import KakaoOptions, MediaImage, Message, MessageType
from kmsg_console.providers.adapters.config import Timeouts
from kmsg_console.providers.adapters.solapi import SolapiAdapter
from tests.conformance import clients
from tests.conformance.solapi_setup import DEMO, JPEG, KST, MESSAGES, SENDER, TO, client_env

SEND_PATH = "/messages/v4/send-many/detail"
UPLOAD_PATH = "/storage/v1/files"
#: Values each sender gets for itself.
OWN_VALUES = frozenset({"imageId"})


def adapter_message(message_type: str) -> Message:
    """The console's form of ``MESSAGES[message_type]``."""
    fields = MESSAGES[message_type]
    common: dict[str, Any] = {"to": TO, "from_": SENDER}
    if message_type == "ATA":
        kakao = fields["kakaoOptions"]
        return Message(
            type=MessageType.ALIMTALK,
            template_id=kakao["templateId"],
            template_content=DEMO.demo_template_content,
            variables=kakao["variables"],
            kakao=KakaoOptions(profile_id=kakao["pfId"]),
            **common,
        )
    return Message(
        type=MessageType(message_type),
        text=fields["text"],
        subject=fields.get("subject"),
        image=MediaImage(JPEG, "photo.jpg") if message_type == "MMS" else None,
        **common,
    )


@pytest.fixture
def send_three_ways(simulator, python_sdk, node_clients, tmp_path):
    """Send one message type through the adapter, the Python SDK and the Node SDK, in order."""
    image = tmp_path / "photo.jpg"
    image.write_bytes(JPEG)
    env = client_env(simulator)

    def send(message_type: str) -> None:
        adapter = SolapiAdapter(
            "solapi-wire",
            {
                "api_key": DEMO.solapi_api_key,
                "api_secret": DEMO.solapi_api_secret,
                "base_url": simulator.url("solapi"),
            },
            timeouts=Timeouts(2, 5),
        )
        try:
            assert adapter.send(adapter_message(message_type)).ok
        finally:
            adapter.close()
        message = MESSAGES[message_type]
        python_env = {**env, "MESSAGE": json.dumps(message)}
        if message_type == "MMS":
            python_env["IMAGE_PATH"] = str(image)
        clients.run_python(python_sdk, "solapi_python_send.py", **python_env)
        if message_type == "MMS":
            (uploaded,) = _node(
                node_clients, env, {"call": "uploadFile", "args": [str(image), "MMS", "photo.jpg"]}
            )
            message = {**message, "imageId": uploaded["value"]["fileId"]}
        (sent,) = _node(node_clients, env, {"call": "send", "args": [message]})
        assert "value" in sent, sent

    return send


def _node(node_clients, env: dict[str, str], *calls: dict[str, Any]) -> list[dict[str, Any]]:
    return clients.run_node(
        node_clients, "solapi_node_calls.js", **env, CALLS=json.dumps(list(calls))
    )


def recorded(simulator, path: str) -> list[dict[str, Any]]:
    bodies = [r["body"] for r in simulator.control.requests("solapi", path)]
    assert len(bodies) == 3, "one request each from the adapter, the Python SDK and the Node SDK"
    return bodies


def agreed(python: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """The fields both SDKs send with the same value (nested objects field by field)."""
    same: dict[str, Any] = {}
    for key in python.keys() & node.keys():
        if isinstance(python[key], dict) and isinstance(node[key], dict):
            same[key] = agreed(python[key], node[key])
        elif python[key] == node[key]:
            same[key] = python[key]
    return same


def assert_matches_the_sdks(adapter: Any, python: Any, node: Any, where: str = "message") -> None:
    for key, value in agreed(python, node).items():
        if key in OWN_VALUES:
            continue
        assert key in adapter, f"{where}.{key}: both SDKs send it, the adapter does not"
        if isinstance(value, dict):
            assert_matches_the_sdks(adapter[key], python[key], node[key], f"{where}.{key}")
        else:
            assert adapter[key] == value, f"{where}.{key}: adapter {adapter[key]!r}, SDKs {value!r}"
    extra = set(adapter) - set(python) - set(node)
    assert not extra, f"{where}: the adapter sends {sorted(extra)}, which neither SDK sends"


@pytest.mark.parametrize("message_type", ["SMS", "LMS", "MMS", "ATA"])
def test_the_adapters_message_is_the_one_solapis_clients_send(
    simulator, send_three_ways, message_type
):
    send_three_ways(message_type)
    adapter, python, node = recorded(simulator, SEND_PATH)
    (adapter_message_object,) = adapter["messages"]
    (python_message,) = python["messages"]
    (node_message,) = node["messages"]
    assert_matches_the_sdks(adapter_message_object, python_message, node_message)
    assert {key: adapter_message_object.get(key) for key in ("to", "from", "type")} == {
        "to": TO,
        "from": SENDER,
        "type": message_type,
    }
    extra = set(adapter) - set(python) - set(node)
    assert not extra, f"request: the adapter sends {sorted(extra)}, which neither SDK sends"
    accepted = simulator.control.messages("solapi")
    assert len(accepted) == 3 and {m["type"] for m in accepted} == {message_type}


def test_the_adapters_upload_is_the_one_solapis_clients_send(simulator, send_three_ways):
    send_three_ways("MMS")
    adapter, python, node = recorded(simulator, UPLOAD_PATH)
    assert_matches_the_sdks(adapter, python, node, "upload")
    assert base64.b64decode(adapter["file"]) == JPEG
    assert [m["imageId"][:6] for m in simulator.control.messages("solapi")] == ["ST01FZ"] * 3


def test_a_scheduled_send_names_the_same_moment_as_solapis_clients(
    simulator, python_sdk, node_clients
):
    # A whole second: the Node SDK writes its dates to the second.
    when = (datetime.now(KST) + timedelta(hours=1)).replace(microsecond=0)
    adapter = SolapiAdapter(
        "solapi-wire",
        {
            "api_key": DEMO.solapi_api_key,
            "api_secret": DEMO.solapi_api_secret,
            "base_url": simulator.url("solapi"),
        },
        timeouts=Timeouts(2, 5),
    )
    try:
        assert adapter.send(replace(adapter_message("SMS"), scheduled_at=when)).ok
    finally:
        adapter.close()
    env = client_env(simulator)
    clients.run_python(
        python_sdk,
        "solapi_python_schedule.py",
        **env,
        ACTION="schedule",
        SCHEDULED_DATE=when.isoformat(),
    )
    _node(
        node_clients,
        env,
        {"call": "send", "args": [MESSAGES["SMS"], {"scheduledDate": when.isoformat()}]},
    )
    dates = [
        datetime.fromisoformat(body["scheduledDate"]) for body in recorded(simulator, SEND_PATH)
    ]
    assert dates == [when] * 3
