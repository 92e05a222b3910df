"""Sync from SOLAPI's ``GET /senderid/v1/numbers`` (the simulator over real HTTP)."""

from __future__ import annotations

import pytest

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.registry import build_adapter
from kmsg_console.sender_numbers import services


@pytest.fixture
def solapi(app, simulator, sandbox):
    with app.test_request_context():
        provider_services.save_provider(
            None,
            vendor="solapi",
            code="solapi-main",
            name="SOLAPI",
            values={
                "api_key": "demo-api-key",
                "api_secret": "demo-api-secret",
                "base_url": simulator.url("solapi"),
            },
            enabled=True,
            actor=None,
        )
        provider_services.save_routes({"SMS": ["solapi-main"]}, actor=None)
        db.session.commit()
    return simulator


def test_the_adapter_reads_the_vendor_list(simulator):
    simulator.control.set_sender_numbers(
        ["0212345678", {"phoneNumber": "0299998888", "status": "PENDING"}]
    )
    adapter = build_adapter(
        "solapi",
        "solapi-main",
        {
            "api_key": "demo-api-key",
            "api_secret": "demo-api-secret",
            "base_url": simulator.url("solapi"),
        },
    )
    outcome = adapter.list_sender_numbers()
    assert outcome.ok
    assert [(n.number, n.status, n.usable) for n in outcome.value] == [
        ("0212345678", "ACTIVE", True),
        ("0299998888", "PENDING", False),
    ]
    [request] = simulator.control.requests("solapi", path="/senderid/v1/numbers")
    assert request["method"] == "GET" and request["headers"]["authorization"].startswith(
        "HMAC-SHA256"
    )


def test_sync_imports_usable_numbers_verified_by_the_vendor_and_marks_the_dropped_ones(
    app, console, solapi
):
    solapi.control.set_sender_numbers(
        ["02-1234-5678", "1588-1234", {"phoneNumber": "0299998888", "status": "PENDING"}]
    )
    console.login(Role.ADMIN)
    html = console.client.get("/sender-numbers").get_data(as_text=True)
    assert 'value="solapi-main"' in html
    response = console.post("/sender-numbers/sync", data={"provider": "solapi-main"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="sync-report"' in html and "0299998888" not in html.split('id="sync-report"')[0]
    with app.app_context():
        rep = services.find("15881234")
        assert rep.status == "verified" and rep.verified_by == "SOLAPI"
        assert rep.provider_codes == ["solapi-main"]
        assert "solapi-main" in services.find("0212345678").provider_codes
        assert services.find("0299998888") is None
    # SOLAPI stops listing 1588-1234: the next sync marks it, and sends from it are refused
    # before SOLAPI is called.
    solapi.control.set_sender_numbers(["02-1234-5678"])
    console.post("/sender-numbers/sync", data={"provider": "solapi-main"})
    with app.app_context():
        [row] = services.find("15881234").providers
        assert row.delisted_at is not None
        assert services.usable_pairs([("solapi-main", "15881234")]) == set()
        assert services.usable_pairs([("solapi-main", "0212345678")]) == {
            ("solapi-main", "0212345678")
        }
    html = console.client.get("/sender-numbers").get_data(as_text=True)
    assert "no longer listed by the vendor" in html
    solapi.control.clear_requests()
    with app.test_request_context():
        from kmsg_console import sending
        from kmsg_console.sending.models import MessageSource

        with pytest.raises(sending.SendRefused) as refused:
            sending.send(
                sending.SendRequest(to="01023456789", text="hi", from_="15881234"),
                source=MessageSource.API,
            )
        assert refused.value.code == "sender_not_registered"
    assert solapi.control.requests("solapi") == []
    # Listed again: usable again.
    solapi.control.set_sender_numbers(["02-1234-5678", "1588-1234"])
    console.post("/sender-numbers/sync", data={"provider": "solapi-main"})
    with app.app_context():
        assert services.usable_pairs([("solapi-main", "15881234")]) == {("solapi-main", "15881234")}


def test_sync_keeps_an_admins_block(app, console, solapi):
    console.login(Role.ADMIN)
    console.post("/sender-numbers", data={"new-number": "1588-1234", "new-category": "business"})
    with app.app_context():
        sender_id = services.find("15881234").id
    console.post(f"/sender-numbers/{sender_id}/status", data={"action": "blocked", "note": "spam"})
    solapi.control.set_sender_numbers(["1588-1234"])
    response = console.post("/sender-numbers/sync", data={"provider": "solapi-main"})
    assert "rejected or blocked here" in response.get_data(as_text=True)
    with app.app_context():
        assert services.find("15881234").status == "blocked"


def test_a_vendor_without_a_list_cannot_be_synced(app, console, solapi):
    console.login(Role.ADMIN)
    response = console.post("/sender-numbers/sync", data={"provider": "sandbox"})
    assert response.status_code == 422
    assert "has no API that lists sender numbers" in response.get_data(as_text=True)


def test_a_vendor_failure_is_reported_and_changes_nothing(app, console, solapi):
    solapi.control.inject("solapi", "status_5xx", path="/senderid/v1/numbers", status=503)
    console.login(Role.ADMIN)
    response = console.post("/sender-numbers/sync", data={"provider": "solapi-main"})
    assert response.status_code == 422
    assert "The vendor did not answer the list" in response.get_data(as_text=True)


def test_the_cli_syncs(app, solapi):
    solapi.control.set_sender_numbers(["1588-1234"])
    result = app.test_cli_runner().invoke(
        args=["sender-numbers", "sync", "--provider", "solapi-main"]
    )
    assert result.exit_code == 0, result.output
    assert "1 new" in result.output
    with app.app_context():
        assert services.find("15881234").verified_by == "SOLAPI"
    result = app.test_cli_runner().invoke(args=["sender-numbers", "sync", "--provider", "sandbox"])
    assert result.exit_code != 0 and "no API that lists sender numbers" in result.output
