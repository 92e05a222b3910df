"""SOLAPI's Node SDK (npm ``solapi`` 6.0.1) against the simulator's Kakao channels and templates.

Every Kakao channel and AlimTalk template call the SDK offers is made by the SDK itself
(``scripts/solapi_node_calls.js``). The SDK decodes most answers with its own response schemas,
so an answer lacking a field the SDK requires fails here; the answers it hands over undecoded
are checked by the script against the type the SDK declares for them. Each parsed value is then
compared with what the simulator holds, and the query strings the SDK built with what the
simulator filtered on.

SOLAPI's Python SDK (PyPI ``solapi`` 5.0.3) has no Kakao channel or template calls.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kmsg_console.providers.simulators import solapi_channels, solapi_kakao
from kmsg_console.providers.simulators.solapi_messages import ACCOUNT_ID
from tests.conformance import clients
from tests.conformance.solapi_setup import client_env

SCRIPT = "solapi_node_calls.js"
PF_ID = "KA01PF000000000000000000DEMO"
DEMO_TEMPLATE = "KMSG_OTP_001"
SHARED_CHANNEL = "KA01PF000000000000000000SHRD"
#: The fields the SDK keeps of a channel (decodeKakaoChannel drops the rest).
CHANNEL_FIELDS = (
    "channelId",
    "searchId",
    "accountId",
    "phoneNumber",
    "sharedAccountIds",
    "dateCreated",
    "dateUpdated",
)
#: The fields the SDK keeps of each template of a list (it decodes them again with
#: kakaoAlimtalkTemplateSchema, which drops the rest, e.g. accountId and categoryCode).
LISTED_TEMPLATE_FIELDS = frozenset(
    "name channelId channelGroupId content isHidden messageType emphasizeType extra ad "
    "emphasizeTitle emphasizeSubtitle securityFlag imageId assignType buttons comments "
    "commentable quickReplies header highlight item templateId code status variables "
    "dateCreated dateUpdated".split()
)


def call(method: str, *args: Any) -> dict[str, Any]:
    return {"call": method, "args": list(args)}


def sdk(node_clients, simulator, *calls: dict[str, Any]) -> list[dict[str, Any]]:
    """Run ``calls`` through the SDK; one ``{"value"}`` or ``{"error"}`` per call."""
    env = client_env(simulator)
    return clients.run_node(node_clients, SCRIPT, **env, CALLS=json.dumps(list(calls)))


def values(results: list[dict[str, Any]]) -> list[Any]:
    for result in results:
        assert "error" not in result, result["error"]
    return [result["value"] for result in results]


def errors(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for result in results:
        assert "error" in result, f"expected an error, the SDK returned {result['value']}"
    return [result["error"] for result in results]


def stored_template(simulator, template_id: str) -> dict[str, Any]:
    with simulator.state.lock:
        return copy.deepcopy(simulator.state.templates["solapi"][template_id])


def stored_channel(simulator, channel_id: str) -> dict[str, Any]:
    with simulator.state.lock:
        return copy.deepcopy(simulator.state.channels["solapi"][channel_id])


def as_sdk_channel(channel: dict[str, Any]) -> dict[str, Any]:
    return {key: channel[key] for key in CHANNEL_FIELDS if channel.get(key) is not None}


def as_listed_template(template: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in template.items() if key in LISTED_TEMPLATE_FIELDS}


def sent_queries(simulator, path: str) -> list[dict[str, str]]:
    return [r["query"] for r in simulator.control.requests("solapi", path) if r["method"] == "GET"]


# -- channels ---------------------------------------------------------------------------------
def test_channel_categories(node_clients, simulator):
    [categories] = values(sdk(node_clients, simulator, call("getKakaoChannelCategories")))
    assert categories == solapi_channels.CATEGORIES


@pytest.fixture
def shared_channel(simulator):
    """A channel another account owns and shares with the demo account, filed apart in time."""
    state = simulator.state
    with state.lock:
        channels = state.channels["solapi"]
        channels[PF_ID]["dateCreated"] = "2025-01-01T00:00:00.000Z"
        channels[SHARED_CHANNEL] = {
            **channels[PF_ID],
            "channelId": SHARED_CHANNEL,
            "searchId": "partnerbrand",
            "phoneNumber": "01077778888",
            "categoryCode": solapi_channels.CATEGORIES[1]["code"],
            "accountId": "26010199999999",
            "sharedAccountIds": [ACCOUNT_ID],
            "dateCreated": "2025-09-01T00:00:00.000Z",
        }
    return SHARED_CHANNEL


def test_channel_list_and_one_channel(node_clients, simulator, shared_channel):
    listed, one = values(
        sdk(node_clients, simulator, call("getKakaoChannels"), call("getKakaoChannel", PF_ID))
    )
    assert listed["channelList"] == [
        as_sdk_channel(stored_channel(simulator, PF_ID)),
        as_sdk_channel(stored_channel(simulator, shared_channel)),
    ]
    assert (listed["limit"], listed.get("startKey"), listed.get("nextKey")) == (20, None, None)
    assert one == as_sdk_channel(stored_channel(simulator, PF_ID))
    assert one["accountId"] == ACCOUNT_ID and one["sharedAccountIds"] == []


CHANNEL_QUERIES = [
    ({"channelId": PF_ID}, "channelId", [PF_ID]),
    ({"searchId": "partnerbrand"}, "searchId", [SHARED_CHANNEL]),
    ({"phoneNumber": "01077778888"}, "phoneNumber", [SHARED_CHANNEL]),
    ({"categoryCode": "00100010001"}, "categoryCode", [PF_ID]),
    ({"isMine": True}, "isMine", [PF_ID]),
    ({"startDate": "2025-06-01T00:00:00Z"}, "dateCreated[gte]", [SHARED_CHANNEL]),
    ({"endDate": "2025-06-01T00:00:00Z"}, "dateCreated[lte]", [PF_ID]),
    ({"limit": 1}, "limit", [PF_ID]),
    ({"limit": 1, "startKey": SHARED_CHANNEL}, "startKey", [SHARED_CHANNEL]),
]


def test_channel_list_filters_the_sdk_sends(node_clients, simulator, shared_channel):
    answers = values(
        sdk(node_clients, simulator, *(call("getKakaoChannels", q) for q, _, _ in CHANNEL_QUERIES))
    )
    sent = sent_queries(simulator, "/kakao/v2/channels")
    for (query, wire_key, expected), answer, params in zip(
        CHANNEL_QUERIES, answers, sent, strict=True
    ):
        assert wire_key in params, (query, params)
        assert [c["channelId"] for c in answer["channelList"]] == expected, (query, params)
    assert answers[-2]["nextKey"] == SHARED_CHANNEL


def test_linking_and_removing_a_channel(node_clients, simulator):
    category = solapi_channels.CATEGORIES[-1]["code"]
    admin = {"searchId": "kmsgshop", "phoneNumber": "01055556666"}
    token, created = values(
        sdk(
            node_clients,
            simulator,
            call("requestKakaoChannelToken", admin),
            call(
                "createKakaoChannel",
                {
                    **admin,
                    "categoryCode": category,
                    "token": simulator.options.solapi_channel_token,
                },
            ),
        )
    )
    assert token == {"success": True}
    linked = stored_channel(simulator, created["channelId"])
    assert created == linked
    assert (linked["searchId"], linked["phoneNumber"], linked["categoryCode"]) == (
        "kmsgshop",
        "01055556666",
        category,
    )

    one, removed, remaining = values(
        sdk(
            node_clients,
            simulator,
            call("getKakaoChannel", linked["channelId"]),
            call("removeKakaoChannel", linked["channelId"]),
            call("getKakaoChannels"),
        )
    )
    assert one == removed == as_sdk_channel(linked)
    assert [c["channelId"] for c in remaining["channelList"]] == [PF_ID]
    assert linked["channelId"] not in simulator.state.channels["solapi"]


# -- templates --------------------------------------------------------------------------------
def test_template_categories(node_clients, simulator):
    [categories] = values(sdk(node_clients, simulator, call("getKakaoAlimtalkTemplateCategories")))
    assert categories == solapi_kakao.CATEGORIES


def test_template_lifecycle(node_clients, simulator):
    draft = {
        "channelId": PF_ID,
        "name": "배송 안내",
        "content": "#{name}님, 주문하신 상품이 출발했습니다.",
        "categoryCode": solapi_kakao.CATEGORIES[-1]["code"],
        "messageType": "BA",
        "emphasizeType": "TEXT",
        "emphasizeTitle": "배송 출발",
        "emphasizeSubTitle": "배송 안내",
        "buttons": [
            {"buttonType": "WL", "buttonName": "배송 조회", "linkMo": "https://example.com/track"}
        ],
    }
    [created] = values(sdk(node_clients, simulator, call("createKakaoAlimtalkTemplate", draft)))
    template_id = created["templateId"]
    assert created == stored_template(simulator, template_id)
    for key in ("channelId", "name", "content", "categoryCode", "emphasizeTitle", "buttons"):
        assert created[key] == draft[key], key
    assert created["emphasizeSubtitle"] == "배송 안내"
    assert (created["status"], created["assignType"], created["accountId"]) == (
        "PENDING",
        "CHANNEL",
        ACCOUNT_ID,
    )
    assert created["variables"] == [{"name": "#{name}"}]

    fetched, updated = values(
        sdk(
            node_clients,
            simulator,
            call("getKakaoAlimtalkTemplate", template_id),
            call(
                "updateKakaoAlimtalkTemplate",
                template_id,
                {"content": "#{name}님, 상품이 출발했습니다.", "emphasizeSubTitle": "출발 안내"},
            ),
        )
    )
    assert fetched == created
    assert updated == stored_template(simulator, template_id)
    assert updated["emphasizeSubtitle"] == "출발 안내"
    assert updated["content"] == "#{name}님, 상품이 출발했습니다."

    simulator.control.inspect_template("solapi", template_id)  # Kakao starts the review
    renamed, cancelled = values(
        sdk(
            node_clients,
            simulator,
            call("updateKakaoAlimtalkTemplateName", template_id, "출발 안내"),
            call("cancelInspectionKakaoAlimtalkTemplate", template_id),
        )
    )
    assert (renamed["name"], renamed["status"]) == ("출발 안내", "INSPECTING")
    assert cancelled == stored_template(simulator, template_id)
    assert cancelled["status"] == "PENDING"

    simulator.control.inspect_template("solapi", template_id)
    simulator.control.reject_template("solapi", template_id, "버튼 이름이 내용과 맞지 않습니다.")
    before_removal = stored_template(simulator, template_id)
    rejected, removed, remaining = values(
        sdk(
            node_clients,
            simulator,
            call("getKakaoAlimtalkTemplate", template_id),
            call("removeKakaoAlimtalkTemplate", template_id),
            call("getKakaoAlimtalkTemplates"),
        )
    )
    assert rejected == removed == before_removal
    assert rejected["status"] == "REJECTED"
    [comment] = rejected["comments"]
    assert comment["content"] == "버튼 이름이 내용과 맞지 않습니다." and comment["isAdmin"] is True
    assert [t["templateId"] for t in remaining["templateList"]] == [DEMO_TEMPLATE]


@pytest.fixture
def templates(simulator):
    """Templates told apart by name, status, visibility, owner and creation date."""
    state = simulator.state

    def make(name: str, status: str, created: str, hidden: bool = False, **owner: Any) -> str:
        data = {"name": name, "content": f"{name} #{{name}}", "categoryCode": "004001", **owner}
        data.setdefault("channelId", PF_ID)
        template = solapi_kakao.make_template(state, data, status=status)
        template.update(dateCreated=created, isHidden=hidden)
        return template["templateId"]

    with state.lock:
        state.templates["solapi"][DEMO_TEMPLATE]["dateCreated"] = "2025-01-01T00:00:00.000Z"
        return {
            "demo": DEMO_TEMPLATE,
            "started": make("배송 시작 안내", "PENDING", "2025-03-01T00:00:00.000Z"),
            "arrived": make("배송 완료 안내", "APPROVED", "2025-09-01T00:00:00.000Z"),
            "hidden": make("주문 접수", "REJECTED", "2025-10-01T00:00:00.000Z", hidden=True),
            "grouped": make(
                "그룹 안내",
                "PENDING",
                "2025-11-01T00:00:00.000Z",
                channelId=None,
                channelGroupId="KA01GR0000000000000001",
            ),
        }


#: (what the caller asks the SDK for, a key the SDK puts on the wire for it, the templates
#: expected). Values naming a template ("@arrived") are replaced by its id.
TEMPLATE_QUERIES = [
    ({"name": "배송"}, "name[like]", ["started", "arrived"]),
    ({"name": {"like": "완료"}}, "name[like]", ["arrived"]),
    ({"name": {"eq": "주문 접수"}}, "name[eq]", ["hidden"]),
    ({"name": {"ne": "주문 접수"}}, "name[ne]", ["demo", "started", "arrived", "grouped"]),
    ({"status": "APPROVED"}, "status", ["demo", "arrived"]),
    ({"status": "PENDING"}, "status", ["started", "grouped"]),
    ({"templateId": "@hidden"}, "templateId", ["hidden"]),
    ({"channelId": PF_ID}, "channelId", ["demo", "started", "arrived", "hidden"]),
    ({"isHidden": True}, "isHidden", ["hidden"]),
    ({"isHidden": False}, "isHidden", ["demo", "started", "arrived", "grouped"]),
    ({"startDate": "2025-09-01T00:00:00Z"}, "dateCreated[gte]", ["arrived", "hidden", "grouped"]),
    ({"endDate": "2025-03-01T09:00:00+09:00"}, "dateCreated[lte]", ["demo", "started"]),
    (
        {"startDate": "2025-02-01T00:00:00Z", "endDate": "2025-09-30T00:00:00Z"},
        "dateCreated[gte]",
        ["started", "arrived"],
    ),
    ({"limit": 2}, "limit", ["demo", "started"]),
    ({"limit": 2, "startKey": "@arrived"}, "startKey", ["arrived", "hidden"]),
]


def test_template_list_filters_the_sdk_sends(node_clients, simulator, templates):
    def resolved(query: dict[str, Any]) -> dict[str, Any]:
        return {
            key: templates[value[1:]] if isinstance(value, str) and value.startswith("@") else value
            for key, value in query.items()
        }

    answers = values(
        sdk(
            node_clients,
            simulator,
            *(call("getKakaoAlimtalkTemplates", resolved(q)) for q, _, _ in TEMPLATE_QUERIES),
        )
    )
    sent = sent_queries(simulator, "/kakao/v2/templates")
    for (query, wire_key, expected), answer, params in zip(
        TEMPLATE_QUERIES, answers, sent, strict=True
    ):
        assert wire_key in params, (query, params)
        listed = answer["templateList"]
        ids = [t["templateId"] for t in listed]
        assert ids == [templates[k] for k in expected], (query, params)
        assert listed == [as_listed_template(stored_template(simulator, i)) for i in ids]
        if query == {"limit": 2}:
            assert answer["nextKey"] == templates["arrived"]


# -- errors -----------------------------------------------------------------------------------
def test_error_answers_reach_the_caller_as_the_sdks_client_error(node_clients, simulator):
    unknown_template, unknown_channel, approved_removal, not_inspecting, bad_token, no_channel = (
        errors(
            sdk(
                node_clients,
                simulator,
                call("getKakaoAlimtalkTemplate", "KA01TP000000000000000000NOPE"),
                call("getKakaoChannel", "KA01PF000000000000000000NOPE"),
                call("removeKakaoAlimtalkTemplate", DEMO_TEMPLATE),
                call("cancelInspectionKakaoAlimtalkTemplate", DEMO_TEMPLATE),
                call(
                    "createKakaoChannel",
                    {
                        "searchId": "kmsgshop",
                        "phoneNumber": "01055556666",
                        "categoryCode": solapi_channels.CATEGORIES[0]["code"],
                        "token": "000000",
                    },
                ),
                call(
                    "createKakaoAlimtalkTemplate",
                    {
                        "channelId": "KA01PF000000000000000000NOPE",
                        "name": "n",
                        "content": "c",
                        "categoryCode": solapi_kakao.CATEGORIES[0]["code"],
                    },
                ),
            )
        )
    )
    assert unknown_template["isClientError"] and unknown_template["tag"] == "ClientError"
    assert (unknown_template["errorCode"], unknown_template["httpStatus"]) == ("NotFound", 404)
    assert "KA01TP000000000000000000NOPE" in unknown_template["errorMessage"]
    assert (unknown_channel["errorCode"], unknown_channel["httpStatus"]) == ("NotFound", 404)
    assert (approved_removal["errorCode"], approved_removal["httpStatus"]) == (
        "InvalidTemplateStatus",
        400,
    )
    assert (not_inspecting["errorCode"], not_inspecting["httpStatus"]) == (
        "InvalidTemplateStatus",
        400,
    )
    assert (bad_token["errorCode"], bad_token["httpStatus"]) == ("InvalidToken", 400)
    assert (no_channel["errorCode"], no_channel["httpStatus"]) == ("NotFound", 404)
    for error in (unknown_channel, approved_removal, not_inspecting, bad_token, no_channel):
        assert error["isClientError"] and error["errorMessage"]
