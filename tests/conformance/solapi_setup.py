"""Test data for the SOLAPI conformance suites, put into the simulator over signed HTTP.

The clients under test only read it back; building it with plain requests keeps each test to
the client calls it is about.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import requests

from kmsg_console.providers.simulators import SimulatorOptions, SimulatorServer

KST = timezone(timedelta(hours=9))
DEMO = SimulatorOptions()
TO = "01012345678"
SENDER = DEMO.sender_numbers[0]


#: One message of each type as SOLAPI's API names its fields; every client sends these.
#: An MMS is an LMS plus the ``imageId`` of an image its sender uploaded first. The AlimTalk
#: has no SMS fallback (``disableSms``), which is what the console's adapter sends by default.
MESSAGES: dict[str, dict[str, Any]] = {
    "SMS": {"to": TO, "from": SENDER, "text": "인증번호 123456", "type": "SMS"},
    "LMS": {"to": TO, "from": SENDER, "text": "장문 안내 " * 20, "subject": "안내", "type": "LMS"},
    "MMS": {"to": TO, "from": SENDER, "text": "사진 문자", "subject": "사진", "type": "MMS"},
    "ATA": {
        "to": TO,
        "from": SENDER,
        "type": "ATA",
        "kakaoOptions": {
            "pfId": DEMO.solapi_pf_id,
            "templateId": DEMO.demo_template_code,
            "variables": {"service": "KMSG", "code": "123456"},
            "disableSms": True,
        },
    },
    "CTA": {
        "to": TO,
        "from": SENDER,
        "type": "CTA",
        "text": "친구톡 안내",
        "kakaoOptions": {"pfId": DEMO.solapi_pf_id},
    },
}
#: The first bytes of a JPEG (SOI + APP0); SOLAPI names an unnamed upload after its type.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)


def client_env(server: SimulatorServer) -> dict[str, str]:
    """What every client script needs: where SOLAPI is, the demo credentials and data.

    ``TZ=Asia/Seoul`` makes the clients sign with a ``+09:00`` date, as they do in Korea.
    """
    return {
        "SOLAPI_BASE_URL": server.url("solapi"),
        "SOLAPI_API_KEY": DEMO.solapi_api_key,
        "SOLAPI_API_SECRET": DEMO.solapi_api_secret,
        "TO": TO,
        "SENDER": SENDER,
        "PF_ID": DEMO.solapi_pf_id,
        "TEMPLATE_ID": DEMO.demo_template_code,
        "TZ": "Asia/Seoul",
    }


def _headers() -> dict[str, str]:
    date = datetime.now(UTC).isoformat(timespec="milliseconds")
    salt = secrets.token_hex(16)
    signature = hmac.new(
        DEMO.solapi_api_secret.encode(), (date + salt).encode(), hashlib.sha256
    ).hexdigest()
    return {
        "Authorization": f"HMAC-SHA256 apiKey={DEMO.solapi_api_key}, date={date}, "
        f"salt={salt}, signature={signature}"
    }


def send_many(
    server: SimulatorServer, messages: list[dict[str, Any]], **request: Any
) -> dict[str, Any]:
    """One send-many request (``request`` adds fields such as ``scheduledDate``)."""
    response = requests.post(
        server.url("solapi") + "/messages/v4/send-many/detail",
        headers=_headers(),
        json={"messages": messages, "showMessageList": True, **request},
        timeout=5,
    )
    response.raise_for_status()
    return response.json()


def sms(to: str = TO, sender: str = SENDER, **fields: Any) -> dict[str, Any]:
    return {"to": to, "from": sender, "text": "인증번호 123456", "type": "SMS", **fields}


def three_messages(server: SimulatorServer) -> dict[str, str]:
    """Group A holds an SMS and an LMS, group B one SMS; then group A's SMS is delivered.

    ``between`` (ISO, Korean time) falls after every message was created and before the
    delivery changed group A's SMS. It is a whole second: the Node SDK sends dates to the
    second.
    """
    first = send_many(
        server,
        [
            sms(to="01011112222"),
            sms(to="01033334444", sender="01000000000", type="LMS", text="장문 " * 50),
        ],
    )
    second = send_many(server, [sms(to="01011112222")])
    sms_a, lms_a = (m["messageId"] for m in first["messageList"])
    (sms_b,) = (m["messageId"] for m in second["messageList"])
    between = (datetime.now(KST) + timedelta(seconds=1)).replace(microsecond=0)
    time.sleep((between - datetime.now(KST)).total_seconds() + 0.05)
    server.control.set_status("solapi", sms_a, "delivered")
    return {
        "sms_a": sms_a,
        "lms_a": lms_a,
        "sms_b": sms_b,
        "group_a": first["groupInfo"]["groupId"],
        "group_b": second["groupInfo"]["groupId"],
        "between": between.isoformat(),
    }
