"""SOLAPI simulator: the block lists (``/iam/v1/block/groups`` and ``/numbers``) over plain
HTTP, as SOLAPI's Node SDK 6.0.1 reads them (tests/conformance runs the SDK itself)."""

from __future__ import annotations

import pytest
import requests

from kmsg_console.providers.simulators.client import ControlError
from kmsg_console.providers.simulators.solapi_ids import ACCOUNT_ID
from tests.providers.test_simulator_solapi_kakao import signed


def block(sim, path: str, params=None, headers=None) -> requests.Response:
    return requests.get(
        sim.url("solapi") + "/iam/v1/block" + path,
        params=params,
        headers=signed() if headers is None else headers,
        timeout=5,
    )


@pytest.fixture
def seeded(simulator):
    control = simulator.control
    line = control.add_block_group(name="080-123-4567 광고", sender_numbers=["02-1234-5678"])
    every = control.add_block_group(name="전체", use_all=True, status="INACTIVE")
    control.add_block_number("010-1111-2222", [line["blockGroupId"]], memo="전화 거부")
    control.add_block_number("01033334444", [line["blockGroupId"], every["blockGroupId"]])
    control.add_block_number("01055556666", [every["blockGroupId"]], memo="웹 거부")
    return simulator, line, every


def test_both_lists_need_the_hmac_signature(seeded):
    sim, _, _ = seeded
    for path in ("/groups", "/numbers"):
        response = block(sim, path, headers={})
        assert response.status_code == 401


def test_groups_have_the_sdk_shape_and_filters(seeded):
    sim, line, every = seeded
    body = block(sim, "/groups").json()
    assert body["limit"] == 20 and body["startKey"] is None and body["nextKey"] is None
    first = body["blockGroups"][0]
    assert set(first) == {
        "blockGroupId",
        "accountId",
        "status",
        "name",
        "useAll",
        "senderNumbers",
        "dateCreated",
        "dateUpdated",
    }
    assert first["accountId"] == ACCOUNT_ID and first["senderNumbers"] == ["0212345678"]

    def ids(params):
        return [g["blockGroupId"] for g in block(sim, "/groups", params).json()["blockGroups"]]

    assert ids({"status": "INACTIVE"}) == [every["blockGroupId"]]
    assert ids({"useAll": "true"}) == [every["blockGroupId"]]
    assert ids({"name[like]": "080"}) == [line["blockGroupId"]]
    assert ids({"senderNumber": "0212345678"}) == [line["blockGroupId"]]
    assert ids({"blockGroupId": every["blockGroupId"]}) == [every["blockGroupId"]]


def test_numbers_filter_and_page(seeded):
    sim, line, every = seeded

    def phones(params):
        return [n["phoneNumber"] for n in block(sim, "/numbers", params).json()["blockNumbers"]]

    assert phones({}) == ["01011112222", "01033334444", "01055556666"]
    assert phones({"blockGroupId": line["blockGroupId"]}) == ["01011112222", "01033334444"]
    assert phones({"phoneNumber": "01055556666"}) == ["01055556666"]
    assert phones({"memo[like]": "거부"}) == ["01011112222", "01055556666"]
    first = block(sim, "/numbers", {"limit": 2}).json()
    assert [n["phoneNumber"] for n in first["blockNumbers"]] == ["01011112222", "01033334444"]
    assert first["nextKey"]
    rest = block(sim, "/numbers", {"limit": 2, "startKey": first["nextKey"]}).json()
    assert [n["phoneNumber"] for n in rest["blockNumbers"]] == ["01055556666"]
    assert rest["startKey"] == first["nextKey"] and rest["nextKey"] is None
    assert block(sim, "/numbers", {"limit": 9999}).json()["limit"] == 500


def test_an_unknown_operator_is_refused(seeded):
    sim, _, _ = seeded
    response = block(sim, "/numbers", {"memo[gt]": "x"})
    assert response.status_code == 400 and response.json()["errorCode"] == "ValidationError"


def test_the_control_api_refuses_unknown_groups_and_bad_status(simulator):
    with pytest.raises(ControlError, match="404"):
        simulator.control.add_block_number("01011112222", ["BG-nope"])
    with pytest.raises(ControlError, match="400"):
        simulator.control.add_block_group(status="MAYBE")
    assert simulator.control.blocks() == {"blockGroups": [], "blockNumbers": []}


def test_clear_forgets_the_block_lists(seeded):
    sim, _, _ = seeded
    sim.control.clear()
    assert block(sim, "/numbers").json()["blockNumbers"] == []
