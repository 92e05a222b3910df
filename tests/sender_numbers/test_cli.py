"""``kmsg-console sender-numbers add|list`` and ``providers add --default-from``."""

from __future__ import annotations

import json

import sqlalchemy as sa

from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.sender_numbers import services


def run(app, *args, stdin=None):
    return app.test_cli_runner().invoke(args=list(args), input=stdin)


def test_add_and_list(app, sandbox):
    result = run(app, "sender-numbers", "add", "02-3456-7890", "--provider", "sandbox")
    assert result.exit_code == 0, result.output
    assert "02-3456-7890 registered: pending, providers sandbox" in result.output
    result = run(
        app,
        "sender-numbers",
        "add",
        "1588-1234",
        "--provider",
        "sandbox",
        "--verified",
        "--label",
        "대표번호",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        sender = services.find("15881234")
        assert (sender.status, sender.verified_by, sender.label) == ("verified", "cli", "대표번호")
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.target_id == "1588-1234"))
        assert event.actor_label == "cli" and event.details["registered_by"] == "cli"
    listed = json.loads(run(app, "sender-numbers", "list", "--json").output)
    assert {row["number"]: row["status"] for row in listed} == {
        "0212345678": "verified",
        "0234567890": "pending",
        "15881234": "verified",
    }
    text = run(app, "sender-numbers", "list").output
    assert "1588-1234" in text and "대표번호" in text


def test_add_refuses_bad_input(app, sandbox):
    result = run(app, "sender-numbers", "add", "010-1234-5678", "--provider", "sandbox")
    assert result.exit_code != 0 and "range that does not exist" in result.output
    result = run(app, "sender-numbers", "add", "02-3456-7890", "--provider", "ghost")
    assert result.exit_code != 0 and "Unknown provider: ghost" in result.output
    with app.app_context():
        assert services.find("0234567890") is None


def test_providers_add_default_from_registers_it_as_verified_by_the_cli(app, simulator):
    result = run(
        app,
        "providers",
        "add",
        "solapi",
        "solapi-main",
        "--api-key",
        "demo-api-key",
        "--default-from",
        "02-3456-7890",
        "--base-url",
        simulator.url("solapi"),
        "--secrets-stdin",
        stdin="api-secret=demo-api-secret\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        sender = services.find("0234567890")
        assert (sender.status, sender.verified_by) == ("verified", "cli")
        assert sender.provider_codes == ["solapi-main"]
        actions = db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.actor_label == "cli")
            .order_by(AuditEvent.id)
        ).all()
        assert actions == ["provider.create", "sender_number.add"]
