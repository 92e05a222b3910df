"""Importing SOLAPI's block lists (수신 거부) into the opt-out list, through the simulator."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.opt_outs import sync
from kmsg_console.opt_outs.models import OptOut
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters import solapi_blocks
from kmsg_console.providers.models import Provider
from tests.manual_send.conftest import flashes


@pytest.fixture
def solapi(app, simulator):
    with app.test_request_context():
        provider_services.save_provider(
            None,
            vendor="solapi",
            code="solapi",
            name="SOLAPI",
            enabled=True,
            actor=None,
            values={
                "api_key": "demo-api-key",
                "api_secret": "demo-api-secret",
                "default_from": "0212345678",
                "base_url": simulator.url("solapi"),
            },
        )
        db.session.commit()
    return simulator


def _seed(simulator):
    control = simulator.control
    line = control.add_block_group(name="080-123-4567 광고 수신거부", sender_numbers=["0212345678"])
    every = control.add_block_group(name="전체", use_all=True)
    off = control.add_block_group(name="예전 080-999-8888", status="INACTIVE")
    control.add_block_number("010-1111-2222", [line["blockGroupId"]])
    control.add_block_number("01033334444", [every["blockGroupId"]])
    control.add_block_number("01055556666", [off["blockGroupId"]])
    control.add_block_number("01077778888", [line["blockGroupId"], every["blockGroupId"]])
    control.add_block_number("0212345678", [every["blockGroupId"]], memo="not a mobile")


def _entries(app):
    with app.app_context():
        rows = db.session.scalars(sa.select(OptOut).order_by(OptOut.id)).all()
        return [(row.phone_masked, row.scope, row.source) for row in rows]


def _sync(app):
    with app.test_request_context():
        provider = db.session.scalar(sa.select(Provider).where(Provider.code == "solapi"))
        report = sync.sync_provider(provider, actor_label="ops@example.com")
        db.session.commit()
        return report


def test_block_numbers_become_vendor_opt_outs_scoped_by_their_groups(app, solapi, monkeypatch):
    _seed(solapi)
    monkeypatch.setattr(solapi_blocks, "PAGE_LIMIT", 2)  # every list takes several pages
    report = _sync(app)
    assert (report.listed, report.added, report.present, report.invalid, report.skipped) == (
        5,
        4,
        0,
        1,
        1,
    )
    assert sorted(_entries(app)) == [
        ("010-****-2222", "0801234567", "vendor"),
        ("010-****-4444", "global", "vendor"),
        ("010-****-8888", "0801234567", "vendor"),
        ("010-****-8888", "global", "vendor"),
    ]
    numbers = solapi.control.requests("solapi", path="/iam/v1/block/numbers")
    assert [r["query"].get("startKey") is None for r in numbers] == [True, False, False]
    assert {r["query"]["limit"] for r in numbers} == {"2"}
    assert len(solapi.control.requests("solapi", path="/iam/v1/block/groups")) == 2


def test_a_second_sync_adds_nothing(app, solapi):
    _seed(solapi)
    _sync(app)
    report = _sync(app)
    assert (report.added, report.present) == (0, 4)
    assert len(_entries(app)) == 4


def test_the_sync_is_audited_with_counts_only(app, solapi):
    _seed(solapi)
    _sync(app)
    with app.app_context():
        [event] = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "opt_out.sync")
        ).all()
        assert event.actor_label == "ops@example.com" and event.target_id == "solapi"
        assert event.details == {
            "provider": "solapi",
            "added": 4,
            "already_present": 0,
            "invalid_rows": 1,
            "skipped": 1,
        }


@pytest.mark.parametrize(
    "name, senders, use_all, scope",
    [
        ("수신거부 080-123-4567", [], False, "0801234567"),
        ("080 1234 5678", [], False, "08012345678"),
        ("any", ["0801234567"], False, "0801234567"),
        ("080-123-4567", [], True, "global"),
        ("광고 수신거부", ["0212345678"], False, "global"),
        ("02-080-1234", [], False, "global"),
    ],
)
def test_a_group_scope_is_its_080_line(name, senders, use_all, scope):
    group = solapi_blocks.BlockGroup("g", name, True, use_all, tuple(senders))
    assert sync.group_scope(group) == scope


def test_an_unreadable_list_adds_nothing(app, solapi):
    _seed(solapi)
    solapi.control.inject("solapi", "status_5xx", path="/iam/v1/block/numbers", count=None)
    with pytest.raises(sync.SyncFailed):
        _sync(app)
    assert _entries(app) == []


# -- the console --------------------------------------------------------------------------


def test_an_operator_syncs_from_the_opt_out_page(app, console, solapi):
    _seed(solapi)
    console.login(Role.OPERATOR)
    page = console.client.get("/opt-outs").get_data(as_text=True)
    assert 'id="sync-opt-outs"' in page and "SOLAPI (solapi)" in page
    response = console.post("/opt-outs/sync", data={"provider": "solapi"})
    assert response.status_code == 303
    assert flashes(console.client) == [
        (
            "success",
            "SOLAPI: 5 blocked numbers read, 4 added, 0 already on the list, "
            "1 not mobile numbers, 1 only in inactive groups.",
        )
    ]
    listing = console.client.get("/opt-outs").get_data(as_text=True)
    assert "Provider sync" in listing and "010-****-8888" in listing
    assert "01077778888" not in listing


def test_a_vendor_failure_is_said_and_nothing_is_added(app, console, solapi):
    _seed(solapi)
    solapi.control.inject("solapi", "status_5xx", path="/iam/v1/block/groups")
    console.login(Role.OPERATOR)
    assert console.post("/opt-outs/sync", data={"provider": "solapi"}).status_code == 303
    [(kind, text)] = flashes(console.client)
    assert kind == "error" and text.startswith("The provider's block list could not be read")
    assert _entries(app) == []


def test_an_unknown_provider_is_a_form_error(app, console, solapi):
    console.login(Role.OPERATOR)
    response = console.post("/opt-outs/sync", data={"provider": "sandbox"})
    assert response.status_code == 422 and b"Not a valid choice" in response.data


def test_viewers_cannot_sync_and_without_a_block_list_provider_there_is_no_form(app, console):
    console.login(Role.VIEWER)
    assert console.post("/opt-outs/sync", data={"provider": "solapi"}).status_code == 403
    assert b'id="sync-opt-outs"' not in console.client.get("/opt-outs").data


def test_the_cli_syncs_every_provider_with_a_block_list(app, solapi):
    _seed(solapi)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["opt-outs", "sync"])
    assert result.exit_code == 0, result.output
    assert "solapi: 5 read, 4 added, 0 already listed" in result.output
    assert len(_entries(app)) == 4
    unknown = runner.invoke(args=["opt-outs", "sync", "--provider", "nope"])
    assert unknown.exit_code != 0 and "no enabled provider 'nope'" in unknown.output
    solapi.control.inject("solapi", "status_5xx", path="/iam/v1/block/groups")
    failed = runner.invoke(args=["opt-outs", "sync", "--provider", "solapi"])
    assert failed.exit_code == 1 and "solapi: not read" in failed.output
