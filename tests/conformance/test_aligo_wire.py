"""The Aligo adapter's requests against aligoapi's (Aligo's own Node client) for the same message.

Both go to the simulator, which records them; each pair must use the same path, the same
field and file names, and the same values, except where noted below. aligoapi is given the
bodies its README and examples document for the message (``examples/aligo_sms.js`` and
``examples/aligo_kakao.js``), which is what a caller of Aligo's own client sends.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from kmsg_console.messaging.types import Failover, KakaoOptions, MediaImage, Message, MessageType
from kmsg_console.providers.adapters.aligo import AligoAdapter
from kmsg_console.providers.adapters.config import Timeouts
from kmsg_console.providers.simulators import SimulatorOptions
from tests.conformance import clients

SCRIPT = "aligo_node_calls.js"
DEMO = SimulatorOptions()
KST = timezone(timedelta(hours=9))
TO = "01012345678"
SENDER = DEMO.sender_numbers[0]
SENDER_KEY = DEMO.aligo_sender_key
TEMPLATE_BODY = DEMO.demo_template_content
RENDERED = "[KMSG] 인증번호는 [123456]입니다. 3분 안에 입력해 주세요."
LATER = datetime(2030, 5, 2, 8, 45, tzinfo=KST)
PHOTO = b"\xff\xd8\xff\xe0 photo bytes"
BUTTONS = ({"name": "열기", "linkType": "WL", "linkMo": "https://example.com"},)
BUTTON_1 = json.dumps({"button": list(BUTTONS)}, ensure_ascii=False)

#: Fields aligoapi sends that no Aligo API reads: it appends its own target URL (``uri``) to
#: every form it posts.
ALIGOAPI_ONLY = {"uri"}
#: Fields the adapter sends that aligoapi's callers add only when they use them: the adapter
#: always states test mode (``testmode_yn`` for SMS, ``testMode`` on the Kakao API page) and,
#: for AlimTalk, ``failover`` N, so a provider's setting is never left to Aligo's default.
ADAPTER_ONLY = {"testmode_yn", "testMode", "failover"}
#: Values that legitimately differ: each client holds its own Kakao API token.
OWN_VALUES = {"token"}


@dataclass(frozen=True)
class Case:
    vendor: str
    path: str
    message: Message
    aligoapi_call: str
    aligoapi_body: dict[str, Any]
    files: dict[str, Any] = field(default_factory=dict)

    @property
    def kakao(self) -> bool:
        return self.vendor == "aligo_kakao"


ALIMTALK = Message(
    type=MessageType.ALIMTALK,
    to=TO,
    from_=SENDER,
    template_id=DEMO.demo_template_code,
    template_content=TEMPLATE_BODY,
    variables={"service": "KMSG", "code": "123456"},
)
ALIMTALK_BODY = {
    "senderkey": SENDER_KEY,
    "tpl_code": DEMO.demo_template_code,
    "sender": SENDER,
    "receiver_1": TO,
    "subject_1": "알림톡",
    "message_1": RENDERED,
}
FRIENDTALK = Message(type=MessageType.FRIENDTALK, to=TO, from_=SENDER, text="이번 주 할인 안내")
FRIENDTALK_BODY = {
    "senderkey": SENDER_KEY,
    "sender": SENDER,
    "receiver_1": TO,
    "subject_1": "친구톡",
    "message_1": "이번 주 할인 안내",
}
PHOTO_FILE = {
    "image": {
        "filename": "photo.jpg",
        "contentType": "image/jpeg",
        "base64": base64.b64encode(PHOTO).decode(),
    }
}
IMAGE = MediaImage(PHOTO, "photo.jpg", "image/jpeg")


CASES: dict[str, Case] = {
    "sms": Case(
        "aligo_sms",
        "/send/",
        Message(type=MessageType.SMS, to=TO, from_=SENDER, text="인증번호 123456"),
        "send",
        {"sender": SENDER, "receiver": TO, "msg": "인증번호 123456", "msg_type": "SMS"},
    ),
    "lms reserved": Case(
        "aligo_sms",
        "/send/",
        Message(
            type=MessageType.LMS,
            to=TO,
            from_=SENDER,
            text="가" * 60,
            subject="공지",
            scheduled_at=LATER,
        ),
        "send",
        {
            "sender": SENDER,
            "receiver": TO,
            "msg": "가" * 60,
            "msg_type": "LMS",
            "title": "공지",
            "rdate": "20300502",
            "rtime": "0845",
        },
    ),
    "mms": Case(
        "aligo_sms",
        "/send/",
        Message(
            type=MessageType.MMS, to=TO, from_=SENDER, text="사진", subject="사진", image=IMAGE
        ),
        "send",
        {"sender": SENDER, "receiver": TO, "msg": "사진", "msg_type": "MMS", "title": "사진"},
        PHOTO_FILE,
    ),
    "alimtalk": Case(
        "aligo_kakao", "/akv10/alimtalk/send/", ALIMTALK, "alimtalkSend", ALIMTALK_BODY
    ),
    "alimtalk with fallback and buttons": Case(
        "aligo_kakao",
        "/akv10/alimtalk/send/",
        replace(
            ALIMTALK,
            failover=Failover(True, fallback_content="인증번호 123456", fallback_title="인증"),
            kakao=KakaoOptions(buttons=BUTTONS),
        ),
        "alimtalkSend",
        {
            **ALIMTALK_BODY,
            "button_1": BUTTON_1,
            "failover": "Y",
            "fsubject_1": "인증",
            "fmessage_1": "인증번호 123456",
        },
    ),
    "alimtalk reserved": Case(
        "aligo_kakao",
        "/akv10/alimtalk/send/",
        replace(ALIMTALK, scheduled_at=LATER.replace(second=30)),
        "alimtalkSend",
        {**ALIMTALK_BODY, "senddate": "20300502084530"},
    ),
    "friendtalk": Case(
        "aligo_kakao",
        "/akv10/friend/send/",
        replace(FRIENDTALK, kakao=KakaoOptions(buttons=BUTTONS, ad_flag=True)),
        "friendTalkSend",
        {**FRIENDTALK_BODY, "button_1": BUTTON_1, "advert": "Y"},
    ),
    "friendtalk with image, reserved": Case(
        "aligo_kakao",
        "/akv10/friend/send/",
        replace(FRIENDTALK, image=IMAGE, scheduled_at=LATER),
        "friendTalkSend",
        {**FRIENDTALK_BODY, "senddate": "20300502084500"},
        PHOTO_FILE,
    ),
}


@pytest.fixture
def adapter(simulator):
    made = AligoAdapter(
        "aligo-wire",
        {
            "api_key": DEMO.aligo_api_key,
            "user_id": DEMO.aligo_user_id,
            "sender_key": SENDER_KEY,
            "sms_base_url": simulator.url("aligo_sms"),
            "kakao_base_url": simulator.url("aligo_kakao"),
        },
        timeouts=Timeouts(2, 5),
    )
    yield made
    made.close()


def recorded(simulator, case: Case, send: Callable[[], Any]) -> dict[str, Any]:
    """The one request ``send`` made to the case's vendor, other than token requests."""
    before = {r["seq"] for r in simulator.control.requests(case.vendor)}
    send()
    new = [
        r
        for r in simulator.control.requests(case.vendor)
        if r["seq"] not in before and "/token/create/" not in r["path"]
    ]
    assert len(new) == 1, [r["path"] for r in new]
    assert new[0]["response_status"] == 200
    return new[0]


def run_aligoapi(node_clients, simulator, case: Case) -> list[dict[str, Any]]:
    calls = [{"call": case.aligoapi_call, "body": case.aligoapi_body, "files": case.files}]
    if case.kakao:
        calls.insert(0, {"call": "token", "body": {"time": "30", "type": "i"}})
    return clients.run_node(
        node_clients,
        SCRIPT,
        ALIGO_SMS_URL=simulator.url("aligo_sms"),
        ALIGO_KAKAO_URL=simulator.url("aligo_kakao"),
        ALIGO_KEY=DEMO.aligo_api_key,
        ALIGO_USER=DEMO.aligo_user_id,
        CALLS=json.dumps([{k: v for k, v in c.items() if v} for c in calls]),
    )


@pytest.mark.parametrize("name", CASES)
def test_the_adapter_sends_what_aligoapi_sends(node_clients, simulator, adapter, name):
    case = CASES[name]
    outcomes = []
    ours = recorded(simulator, case, lambda: outcomes.append(adapter.send(case.message)))
    assert outcomes[0].ok, outcomes[0]
    # The script ends non-zero unless aligoapi's call succeeded.
    theirs = recorded(simulator, case, lambda: run_aligoapi(node_clients, simulator, case))

    assert ours["path"] == theirs["path"] == case.path
    assert set(theirs["body"]) - set(ours["body"]) == ALIGOAPI_ONLY
    assert set(ours["body"]) - set(theirs["body"]) <= ADAPTER_ONLY
    shared = (set(ours["body"]) & set(theirs["body"])) - OWN_VALUES
    assert {k: ours["body"][k] for k in shared} == {k: theirs["body"][k] for k in shared}
    assert {k: (f["filename"], f["size"]) for k, f in ours["files"].items()} == {
        k: (f["filename"], f["size"]) for k, f in theirs["files"].items()
    }
    if case.kakao:
        assert ours["body"]["token"] and theirs["body"]["token"]
    # The explicit defaults the adapter adds must say what leaving them out means.
    defaults = {"testmode_yn": "N", "testMode": "N", "failover": "N"}
    for key in set(ours["body"]) - set(theirs["body"]):
        assert ours["body"][key] == defaults[key], key
