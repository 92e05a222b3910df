"""SOLAPI's Node SDK (npm ``solapi`` 6.0.1) reading the simulator's block lists (수신 거부).

``getBlockGroups`` and ``getBlockNumbers`` are made by the SDK itself
(``scripts/solapi_node_calls.js``); the SDK decodes both answers with its own response schemas
(``getBlockGroupsResponseSchema``, ``getBlockNumbersResponseSchema``), so an answer lacking a
field it requires fails here. The query strings the SDK built are compared with what the
simulator filtered on, and the console's adapter reads the same lists the SDK reads.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kmsg_console.providers.adapters.solapi import SolapiAdapter
from tests.conformance import clients
from tests.conformance.solapi_setup import client_env

SCRIPT = "solapi_node_calls.js"


def call(method: str, *args: Any) -> dict[str, Any]:
    return {"call": method, "args": list(args)}


def sdk(node_clients, simulator, *calls: dict[str, Any]) -> list[Any]:
    env = client_env(simulator)
    results = clients.run_node(node_clients, SCRIPT, **env, CALLS=json.dumps(list(calls)))
    for result in results:
        assert "error" not in result, result["error"]
    return [result["value"] for result in results]


def sent_queries(simulator, path: str) -> list[dict[str, str]]:
    return [r["query"] for r in simulator.control.requests("solapi", path) if r["method"] == "GET"]


@pytest.fixture
def blocks(simulator):
    control = simulator.control
    line = control.add_block_group(name="080-123-4567 광고", sender_numbers=["0212345678"])
    every = control.add_block_group(name="전체 차단", use_all=True, status="INACTIVE")
    control.add_block_number("01011112222", [line["blockGroupId"]], memo="전화 거부")
    control.add_block_number("01033334444", [line["blockGroupId"], every["blockGroupId"]])
    control.add_block_number("01055556666", [every["blockGroupId"]], memo="웹 거부")
    return line["blockGroupId"], every["blockGroupId"]


def stored(simulator) -> dict[str, list[dict[str, Any]]]:
    with simulator.state.lock:
        return {
            "groups": copy.deepcopy(list(simulator.state.block_groups.values())),
            "numbers": copy.deepcopy(list(simulator.state.block_numbers.values())),
        }


def test_the_sdk_reads_both_lists_whole(node_clients, simulator, blocks):
    groups, numbers = sdk(node_clients, simulator, call("getBlockGroups"), call("getBlockNumbers"))
    held = stored(simulator)
    assert groups["blockGroups"] == held["groups"]
    assert numbers["blockNumbers"] == held["numbers"]
    for answer in (groups, numbers):
        assert (answer["limit"], answer.get("startKey"), answer.get("nextKey")) == (20, None, None)


def test_the_sdk_filters_groups(node_clients, simulator, blocks):
    line, every = blocks
    queries = [
        ({"status": "INACTIVE"}, "status", [every]),
        ({"useAll": True}, "useAll", [every]),
        ({"name": "080"}, "name[like]", [line]),
        ({"senderNumber": "0212345678"}, "senderNumber", [line]),
        ({"blockGroupId": every}, "blockGroupId", [every]),
    ]
    answers = sdk(node_clients, simulator, *(call("getBlockGroups", q) for q, _, _ in queries))
    sent = sent_queries(simulator, "/iam/v1/block/groups")
    for (query, wire_key, expected), answer, params in zip(queries, answers, sent, strict=True):
        assert wire_key in params, (query, params)
        assert [g["blockGroupId"] for g in answer["blockGroups"]] == expected, (query, params)


def test_the_sdk_filters_and_pages_numbers(node_clients, simulator, blocks):
    line, _ = blocks
    queries = [
        ({"blockGroupId": line}, "blockGroupId", ["01011112222", "01033334444"]),
        ({"phoneNumber": "01055556666"}, "phoneNumber", ["01055556666"]),
        ({"memo": "거부"}, "memo[like]", ["01011112222", "01055556666"]),
        ({"limit": 2}, "limit", ["01011112222", "01033334444"]),
    ]
    answers = sdk(node_clients, simulator, *(call("getBlockNumbers", q) for q, _, _ in queries))
    sent = sent_queries(simulator, "/iam/v1/block/numbers")
    for (query, wire_key, expected), answer, params in zip(queries, answers, sent, strict=True):
        assert wire_key in params, (query, params)
        assert [n["phoneNumber"] for n in answer["blockNumbers"]] == expected, (query, params)
    next_key = answers[-1]["nextKey"]
    assert next_key
    [rest] = sdk(
        node_clients, simulator, call("getBlockNumbers", {"startKey": next_key, "limit": 2})
    )
    assert [n["phoneNumber"] for n in rest["blockNumbers"]] == ["01055556666"]
    assert rest.get("nextKey") is None


def test_the_adapter_reads_what_the_sdk_reads(node_clients, simulator, blocks):
    groups, numbers = sdk(node_clients, simulator, call("getBlockGroups"), call("getBlockNumbers"))
    adapter = SolapiAdapter("solapi", client_env_config(simulator))
    read_groups = adapter.list_block_groups().value
    read_numbers = adapter.list_blocked_numbers().value
    assert [g.id for g in read_groups] == [g["blockGroupId"] for g in groups["blockGroups"]]
    assert [(n.phone, list(n.group_ids)) for n in read_numbers] == [
        (n["phoneNumber"], n["blockGroupIds"]) for n in numbers["blockNumbers"]
    ]
    # Same paths as the SDK; the adapter asks for SOLAPI's largest page.
    adapter_queries = sent_queries(simulator, "/iam/v1/block/numbers")[1:]
    assert adapter_queries == [{"limit": "500"}]


def client_env_config(simulator) -> dict[str, Any]:
    env = client_env(simulator)
    return {
        "api_key": env["SOLAPI_API_KEY"],
        "api_secret": env["SOLAPI_API_SECRET"],
        "base_url": env["SOLAPI_BASE_URL"],
    }
