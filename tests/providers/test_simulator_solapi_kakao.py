"""SOLAPI simulator, Kakao side: channels and AlimTalk templates over plain HTTP.

What the answers must hold comes from SOLAPI's published clients (npm ``solapi`` 6.0.1 and
``com.solapi:sdk`` in Kotlin); tests/conformance runs the Node client itself against the same
endpoints. The signature is computed here from SOLAPI's rule, independently of the simulator.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

import pytest
import requests

from kmsg_console.providers.simulators.solapi_messages import ACCOUNT_ID

KEY, SECRET = "demo-api-key", "demo-api-secret"
PF_ID = "KA01PF000000000000000000DEMO"
DEMO_TEMPLATE = "KMSG_OTP_001"
OTHER_ACCOUNT = "26010199999999"


def signed() -> dict[str, str]:
    date = datetime.now(UTC).isoformat(timespec="seconds")
    salt = secrets.token_hex(16)
    signature = hmac.new(SECRET.encode(), (date + salt).encode(), hashlib.sha256).hexdigest()
    return {
        "Authorization": f"HMAC-SHA256 apiKey={KEY}, date={date}, salt={salt}, signature={signature}"
    }


def kakao(sim, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(
        method, sim.url("solapi") + "/kakao/v2" + path, headers=signed(), timeout=5, **kwargs
    )


def create_template(sim, **fields) -> dict:
    body = {"name": "주문 안내", "content": "#{name}님 주문 완료", "categoryCode": "002001"}
    body.update(fields)
    body.setdefault("channelId", PF_ID)
    response = kakao(sim, "POST", "/templates", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def listed_ids(sim, path: str, list_key: str, id_key: str, params) -> list[str]:
    response = kakao(sim, "GET", path, params=params)
    assert response.status_code == 200, response.text
    return [row[id_key] for row in response.json()[list_key]]


def template_ids(sim, params=None) -> list[str]:
    return listed_ids(sim, "/templates", "templateList", "templateId", params)


def channel_ids(sim, params=None) -> list[str]:
    return listed_ids(sim, "/channels", "channelList", "channelId", params)


# -- templates: the answer's fields ------------------------------------------------------------
def test_template_answers_spell_the_subtitle_as_the_clients_read_it(simulator):
    # The Node SDK (and the console) send emphasizeSubTitle; the Kotlin SDK sends
    # emphasizeSubtitle; both clients read emphasizeSubtitle back.
    node_spelling = create_template(
        simulator, emphasizeType="TEXT", emphasizeTitle="주문 완료", emphasizeSubTitle="안내"
    )
    kotlin_spelling = create_template(
        simulator, emphasizeType="TEXT", emphasizeTitle="주문 완료", emphasizeSubtitle="알림"
    )
    assert node_spelling["emphasizeSubtitle"] == "안내"
    assert kotlin_spelling["emphasizeSubtitle"] == "알림"
    assert "emphasizeSubTitle" not in node_spelling

    updated = kakao(
        simulator,
        "PUT",
        f"/templates/{node_spelling['templateId']}",
        json={"emphasizeSubTitle": "변경"},
    ).json()
    assert updated["emphasizeSubtitle"] == "변경"
    fetched = kakao(simulator, "GET", f"/templates/{node_spelling['templateId']}").json()
    assert fetched["emphasizeSubtitle"] == "변경" and "emphasizeSubTitle" not in fetched


def test_template_answers_say_whether_a_channel_or_a_group_owns_it(simulator):
    on_channel = create_template(simulator)
    on_group = create_template(simulator, channelId=None, channelGroupId="KA01GR0000000000000001")
    assert on_channel["assignType"] == "CHANNEL" and on_channel["accountId"] == ACCOUNT_ID
    assert on_group["assignType"] == "GROUP"
    listed = kakao(simulator, "GET", "/templates").json()["templateList"]
    assert {t["templateId"]: t["assignType"] for t in listed} == {
        DEMO_TEMPLATE: "CHANNEL",
        on_channel["templateId"]: "CHANNEL",
        on_group["templateId"]: "GROUP",
    }


def test_a_template_goes_only_to_a_linked_channel(simulator):
    response = kakao(
        simulator,
        "POST",
        "/templates",
        json={"name": "n", "content": "c", "categoryCode": "002001", "channelId": "KA01PFNOPE"},
    )
    assert response.status_code == 404 and response.json()["errorCode"] == "NotFound"


# -- templates: list queries ----------------------------------------------------------------------
@pytest.fixture
def template_set(simulator):
    """Four templates besides the seeded one, with dates, statuses and a hidden flag set apart."""
    made = {
        "shipping": create_template(simulator, name="배송 시작 안내"),
        "delivered": create_template(simulator, name="배송 완료 안내"),
        "order": create_template(simulator, name="주문 접수"),
        "group": create_template(simulator, name="그룹 안내", channelId=None, channelGroupId="G1"),
    }
    ids = {key: t["templateId"] for key, t in made.items()}
    state = simulator.state
    with state.lock:
        stored = state.templates["solapi"]
        stored[DEMO_TEMPLATE]["dateCreated"] = "2025-01-01T00:00:00.000Z"
        stored[ids["shipping"]]["dateCreated"] = "2025-06-01T00:00:00.000Z"
        stored[ids["delivered"]]["dateUpdated"] = "2025-07-01T00:00:00.000Z"
        stored[ids["delivered"]]["status"] = "APPROVED"
        stored[ids["order"]]["isHidden"] = True
        stored[ids["order"]]["status"] = "REJECTED"
    return {"demo": DEMO_TEMPLATE, **ids}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"name[like]": "배송"}, ["shipping", "delivered"]),
        ({"name[like]": "완료 안"}, ["delivered"]),
        ({"name[eq]": "주문 접수"}, ["order"]),
        ({"name": "주문 접수"}, ["order"]),
        ({"name[ne]": "주문 접수"}, ["demo", "shipping", "delivered", "group"]),
        ({"status": "APPROVED"}, ["demo", "delivered"]),
        ({"status": "REJECTED"}, ["order"]),
        ({"channelId": PF_ID}, ["demo", "shipping", "delivered", "order"]),
        ({"channelGroupId": "G1"}, ["group"]),
        ({"isHidden": "true"}, ["order"]),
        ({"isHidden": "false"}, ["demo", "shipping", "delivered", "group"]),
        ({"dateCreated[lte]": "2025-06-01T09:00:00+09:00"}, ["demo", "shipping"]),
        ({"dateCreated[lt]": "2025-06-01T00:00:00Z"}, ["demo"]),
        ({"dateCreated[gte]": "2025-06-01T00:00:00Z"}, ["shipping", "delivered", "order", "group"]),
        ({"dateCreated[gt]": "2025-06-01T00:00:00Z"}, ["delivered", "order", "group"]),
        ({"dateCreated[eq]": "2025-01-01T09:00:00+09:00"}, ["demo"]),
        ({"dateUpdated[lte]": "2025-12-31T00:00:00Z"}, ["delivered"]),
        ({"name[like]": "안내", "status": "PENDING"}, ["shipping", "group"]),
        ({"isMine": "true"}, ["demo", "shipping", "delivered", "order", "group"]),
    ],
)
def test_template_list_filters(simulator, template_set, params, expected):
    assert template_ids(simulator, params) == [template_set[key] for key in expected]


def test_template_list_pages_by_start_key(simulator, template_set):
    first = kakao(simulator, "GET", "/templates", params={"limit": 2}).json()
    assert [t["templateId"] for t in first["templateList"]] == [
        template_set["demo"],
        template_set["shipping"],
    ]
    assert first["limit"] == 2 and first["nextKey"] == template_set["delivered"]
    second = kakao(
        simulator, "GET", "/templates", params={"limit": 2, "startKey": first["nextKey"]}
    ).json()
    assert second["startKey"] == template_set["delivered"]
    assert [t["templateId"] for t in second["templateList"]] == [
        template_set["delivered"],
        template_set["order"],
    ]


@pytest.mark.parametrize(
    "params",
    [{"name[regex]": "x"}, {"dateCreated[like]": "2025"}, {"dateCreated[gte]": "yesterday"}],
)
def test_template_list_refuses_unknown_operators_and_bad_dates(simulator, params):
    response = kakao(simulator, "GET", "/templates", params=params)
    assert response.status_code == 400 and response.json()["errorCode"] == "ValidationError"


# -- templates: review rules ----------------------------------------------------------------------
def test_inspection_is_requested_explicitly_after_creation(simulator):
    # SOLAPI keeps a new template PENDING ("검수 대기") until PUT .../inspection.
    created = create_template(simulator)
    assert created["status"] == "PENDING"
    requested = kakao(simulator, "PUT", f"/templates/{created['templateId']}/inspection")
    assert requested.status_code == 200 and requested.json()["status"] == "INSPECTING"
    again = kakao(simulator, "PUT", f"/templates/{created['templateId']}/inspection")
    assert again.status_code == 400 and again.json()["errorCode"] == "InvalidTemplateStatus"


@pytest.mark.parametrize(
    ("status", "deletable"),
    [("PENDING", True), ("REJECTED", True), ("INSPECTING", False), ("APPROVED", False)],
)
def test_only_pending_or_rejected_templates_are_deleted(simulator, status, deletable):
    template_id = create_template(simulator)["templateId"]
    with simulator.state.lock:
        simulator.state.templates["solapi"][template_id]["status"] = status
    response = kakao(simulator, "DELETE", f"/templates/{template_id}")
    if deletable:
        assert response.status_code == 200 and response.json()["templateId"] == template_id
        assert kakao(simulator, "GET", f"/templates/{template_id}").status_code == 404
    else:
        assert response.status_code == 400
        assert response.json()["errorCode"] == "InvalidTemplateStatus"
        assert kakao(simulator, "GET", f"/templates/{template_id}").status_code == 200


# -- channels ---------------------------------------------------------------------------------
def test_channels_carry_their_account_and_the_accounts_they_are_shared_with(simulator):
    channels = kakao(simulator, "GET", "/channels").json()["channelList"]
    assert [c["channelId"] for c in channels] == [PF_ID]
    assert channels[0]["accountId"] == ACCOUNT_ID
    assert channels[0]["sharedAccountIds"] == []


def test_one_channel_by_id(simulator):
    found = kakao(simulator, "GET", f"/channels/{PF_ID}")
    assert found.status_code == 200
    assert found.json() == kakao(simulator, "GET", "/channels").json()["channelList"][0]
    missing = kakao(simulator, "GET", "/channels/KA01PFNOPE")
    assert missing.status_code == 404 and missing.json()["errorCode"] == "NotFound"


def test_channel_categories(simulator):
    response = kakao(simulator, "GET", "/channels/categories")
    assert response.status_code == 200
    categories = response.json()
    assert categories and all(set(c) == {"code", "name"} for c in categories)
    # Kakao's business categories are three levels deep; a channel is filed under a leaf.
    assert all(len(c["code"]) == 11 and c["name"].count(" > ") == 2 for c in categories)


def link_channel(sim, search_id="kmsgshop", phone="01055556666") -> requests.Response:
    token = kakao(
        sim, "POST", "/channels/token", json={"searchId": search_id, "phoneNumber": phone}
    )
    assert token.status_code == 200 and token.json() == {"success": True}
    category = kakao(sim, "GET", "/channels/categories").json()[-1]["code"]
    return kakao(
        sim,
        "POST",
        "/channels",
        json={
            "searchId": search_id,
            "phoneNumber": phone,
            "categoryCode": category,
            "token": sim.options.solapi_channel_token,
        },
    )


def test_linking_a_channel_with_the_token_sent_to_its_admin(simulator):
    response = link_channel(simulator)
    assert response.status_code == 200, response.text
    linked = response.json()
    assert linked["channelId"].startswith("KA01PF") and len(linked["channelId"]) == 32
    assert linked["searchId"] == "kmsgshop" and linked["phoneNumber"] == "01055556666"
    assert linked["accountId"] == ACCOUNT_ID and linked["sharedAccountIds"] == []
    assert kakao(simulator, "GET", f"/channels/{linked['channelId']}").json() == linked
    assert channel_ids(simulator) == [PF_ID, linked["channelId"]]

    template = create_template(simulator, channelId=linked["channelId"])
    assert template["channelId"] == linked["channelId"]

    removed = kakao(simulator, "DELETE", f"/channels/{linked['channelId']}")
    assert removed.status_code == 200 and removed.json() == linked
    assert channel_ids(simulator) == [PF_ID]
    gone = kakao(simulator, "DELETE", f"/channels/{linked['channelId']}")
    assert gone.status_code == 404


def test_linking_needs_a_requested_and_matching_token(simulator):
    body = {
        "searchId": "kmsgshop",
        "phoneNumber": "01055556666",
        "categoryCode": "00100010001",
        "token": simulator.options.solapi_channel_token,
    }
    never_requested = kakao(simulator, "POST", "/channels", json=body)
    assert never_requested.status_code == 400
    assert never_requested.json()["errorCode"] == "InvalidToken"

    kakao(
        simulator,
        "POST",
        "/channels/token",
        json={"searchId": "kmsgshop", "phoneNumber": "010-5555-6666"},
    )
    wrong = kakao(simulator, "POST", "/channels", json={**body, "token": "000000"})
    assert wrong.status_code == 400 and wrong.json()["errorCode"] == "InvalidToken"
    unknown_category = kakao(simulator, "POST", "/channels", json={**body, "categoryCode": "999"})
    assert unknown_category.status_code == 400
    assert unknown_category.json()["errorCode"] == "ValidationError"
    assert kakao(simulator, "POST", "/channels", json=body).status_code == 200
    # A token is good for one link only, and a channel is linked once.
    again = kakao(simulator, "POST", "/channels", json=body)
    assert again.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {"searchId": "kmsgshop"},
        {"phoneNumber": "01055556666"},
        {"searchId": "x", "phoneNumber": "12"},
    ],
)
def test_a_token_request_needs_the_search_id_and_the_admins_phone(simulator, body):
    response = kakao(simulator, "POST", "/channels/token", json=body)
    assert response.status_code == 400 and response.json()["errorCode"] == "ValidationError"


@pytest.fixture
def channel_set(simulator):
    """The demo channel, one linked here and one another account shares with this one."""
    linked = link_channel(simulator, "kmsgshop", "01055556666").json()
    state = simulator.state
    with state.lock:
        channels = state.channels["solapi"]
        channels[PF_ID]["dateCreated"] = "2025-01-01T00:00:00.000Z"
        channels["KA01PF000000000000000000SHRD"] = {
            **channels[PF_ID],
            "channelId": "KA01PF000000000000000000SHRD",
            "searchId": "partnerbrand",
            "phoneNumber": "01077778888",
            "categoryCode": "00200010001",
            "accountId": OTHER_ACCOUNT,
            "sharedAccountIds": [ACCOUNT_ID],
            "dateCreated": "2025-03-01T00:00:00.000Z",
        }
    return {"demo": PF_ID, "linked": linked["channelId"], "shared": "KA01PF000000000000000000SHRD"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["demo", "linked", "shared"]),
        ({"channelId": PF_ID}, ["demo"]),
        ({"searchId": "kmsgshop"}, ["linked"]),
        ({"searchId[like]": "brand"}, ["shared"]),
        ({"searchId[ne]": "kmsgshop"}, ["demo", "shared"]),
        ({"phoneNumber": "01077778888"}, ["shared"]),
        ({"phoneNumber[like]": "5555"}, ["linked"]),
        ({"categoryCode": "00200010001"}, ["shared"]),
        ({"isMine": "true"}, ["demo", "linked"]),
        ({"isMine": "false"}, ["demo", "linked", "shared"]),
        ({"dateCreated[lte]": "2025-03-01T00:00:00Z"}, ["demo", "shared"]),
        ({"dateCreated[gte]": "2025-02-01T00:00:00Z"}, ["linked", "shared"]),
    ],
)
def test_channel_list_filters(simulator, channel_set, params, expected):
    assert channel_ids(simulator, params) == [channel_set[key] for key in expected]


def test_channel_list_pages_by_start_key(simulator, channel_set):
    first = kakao(simulator, "GET", "/channels", params={"limit": 1}).json()
    assert first["limit"] == 1 and first["nextKey"] == channel_set["linked"]
    second = kakao(
        simulator, "GET", "/channels", params={"limit": 5, "startKey": first["nextKey"]}
    ).json()
    assert [c["channelId"] for c in second["channelList"]] == [
        channel_set["linked"],
        channel_set["shared"],
    ]
    assert second["nextKey"] is None
