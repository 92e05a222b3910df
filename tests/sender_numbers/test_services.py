"""Sender-number rules: NHN's number format, statuses, who verified, providers, defaults."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.providers import services as provider_services
from kmsg_console.sender_numbers import services
from kmsg_console.sender_numbers.models import (
    RegistrationSource,
    SenderNumber,
    SenderNumberStatus,
)


@pytest.mark.parametrize(
    "typed, digits",
    [
        ("02-1234-5678", "0212345678"),
        ("(02) 123-4567", "021234567"),
        ("031-123-4567", "0311234567"),
        ("010-2345-6789", "01023456789"),
        ("+82 10-2345-6789", "01023456789"),
        ("070-4123-5678", "07041235678"),
        ("1588-1234", "15881234"),
        ("1644-1234", "16441234"),
        ("1899-1234", "18991234"),
    ],
)
def test_numbers_nhn_accepts_are_kept_as_digits(typed, digits):
    assert services.normalize_number(typed) == digits


@pytest.mark.parametrize(
    "typed",
    [
        "010-0123-4567",  # 010-0 and 010-1 do not exist
        "010-1234-5678",
        "070-0123-4567",  # nor 070-0 and 070-1
        "070-1234-5678",
        "1234-5678",  # not a 15YY/16YY/18YY representative number
        "080-123-4567",  # a free opt-out line is not a sender
        "+1 415 555 0100",
        "02-12",
        "not a number",
    ],
)
def test_numbers_nhn_refuses_are_refused_on_the_number_field(typed):
    with pytest.raises(services.SenderNumberError) as refused:
        services.normalize_number(typed)
    assert refused.value.field == "number"


def test_display_groups_the_digits():
    assert services.display("0212345678") == "02-1234-5678"
    assert services.display("021234567") == "02-123-4567"
    assert services.display("01023456789") == "010-2345-6789"
    assert services.display("0311234567") == "031-123-4567"
    assert services.display("15881234") == "1588-1234"


def test_a_new_number_is_pending_then_verified_with_who_and_when(ctx, sandbox, actor):
    result = services.register(
        "02-3456-7890",
        providers=["sandbox"],
        label="Support",
        category="government",
        source=RegistrationSource.CONSOLE,
        actor=actor,
    )
    sender = result.sender
    assert result.created and sender.status == "pending" and sender.verified_by is None
    assert sender.number == "0234567890" and sender.category == "government"
    assert services.usable_pairs([("sandbox", "0234567890")]) == set()
    services.change_status(sender, SenderNumberStatus.VERIFIED, actor=actor)
    assert sender.status == "verified" and sender.verified_by == "admin@example.com"
    assert sender.verified_at is not None
    assert services.usable_pairs([("sandbox", "0234567890")]) == {("sandbox", "0234567890")}
    actions = list(
        db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.target_id == "02-3456-7890")
        )
    )
    assert actions == ["sender_number.add", "sender_number.verify"]


def test_a_number_is_usable_only_by_its_providers_while_verified(ctx, sandbox, actor):
    sender = services.register(
        "02-3456-7890",
        providers=["sandbox"],
        verified=True,
        source=RegistrationSource.CONSOLE,
        actor=actor,
    ).sender
    assert services.usable_pairs([("other", "0234567890")]) == set()
    for status in (SenderNumberStatus.REJECTED, SenderNumberStatus.BLOCKED):
        services.change_status(sender, status, note="spam", actor=actor)
        assert sender.status_note == "spam" and sender.verified_by == "admin@example.com"
        assert services.usable_pairs([("sandbox", "0234567890")]) == set()


def test_one_row_per_number_and_providers_are_added(ctx, sandbox, actor):
    provider_services.save_provider(
        None, vendor="sandbox", code="sandbox-b", name="B", values={}, enabled=True, actor=actor
    )
    services.register(
        "0234567890", providers=["sandbox"], source=RegistrationSource.CONSOLE, actor=actor
    )
    again = services.register(
        "02-3456-7890", providers=["sandbox-b"], source=RegistrationSource.CONSOLE, actor=actor
    )
    assert not again.created and again.sender.provider_codes == ["sandbox", "sandbox-b"]
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(SenderNumber)) == 2
    )  # + sandbox's


def test_unknown_providers_are_refused(ctx, sandbox, actor):
    with pytest.raises(services.SenderNumberError) as refused:
        services.register(
            "0234567890", providers=["ghost"], source=RegistrationSource.CONSOLE, actor=actor
        )
    assert refused.value.field == "providers" and refused.value.params["codes"] == "ghost"


def test_a_blocked_number_is_not_verified_again_by_registering_it(ctx, sandbox, actor):
    sender = services.register(
        "0234567890", providers=["sandbox"], source=RegistrationSource.CONSOLE, actor=actor
    ).sender
    services.change_status(sender, SenderNumberStatus.BLOCKED, actor=actor)
    with pytest.raises(services.SenderNumberError):
        services.register(
            "0234567890",
            providers=["sandbox"],
            verified=True,
            source=RegistrationSource.CLI,
            actor=actor,
        )
    assert sender.status == "blocked"


def test_the_sandbox_default_sender_is_registered_at_installation(ctx, sandbox):
    sender = services.find("0212345678")
    assert sender.status == "verified" and sender.verified_by == "system"
    assert sender.provider_codes == ["sandbox"]
    provider = provider_services.get_by_code("sandbox")
    assert services.default_sender(provider) == "0212345678"
    provider_services.ensure_sandbox_provider()  # idempotent
    assert len(services.all_numbers()) == 1


def test_a_provider_saved_with_a_default_sender_registers_it_as_verified(ctx, sandbox, actor):
    provider = provider_services.save_provider(
        None,
        vendor="sandbox",
        code="sandbox-b",
        name="B",
        values={"default_from": "02-3456-7890"},
        enabled=True,
        actor=actor,
    )
    sender = services.find("0234567890")
    assert sender.status == "verified" and sender.verified_by == "admin@example.com"
    assert sender.provider_codes == ["sandbox-b"]
    event = db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.action == "sender_number.add", AuditEvent.target_id == "02-3456-7890"
        )
    )
    assert event.actor_label == "admin@example.com"
    assert event.details["registered_by"] == "provider"
    assert services.providers_defaulting_to("0234567890") == [provider]


def test_a_provider_cannot_default_to_a_blocked_number(ctx, sandbox, actor):
    sender = services.register("0234567890", source=RegistrationSource.CONSOLE, actor=actor).sender
    services.change_status(sender, SenderNumberStatus.BLOCKED, actor=actor)
    with pytest.raises(provider_services.ProviderError) as refused:
        provider_services.save_provider(
            None,
            vendor="sandbox",
            code="sandbox-b",
            name="B",
            values={"default_from": "0234567890"},
            enabled=True,
            actor=actor,
        )
    assert refused.value.field == "default_from" and refused.value.code == "sender_refused"


def test_a_default_sender_cannot_be_deleted_nor_lose_its_provider(ctx, sandbox, actor):
    sender = services.find("0212345678")
    with pytest.raises(services.SenderNumberError) as refused:
        services.delete(sender, actor=actor)
    assert "sandbox" in str(refused.value) and "default sender" in str(refused.value)
    with pytest.raises(services.SenderNumberError) as refused:
        services.update(sender, label="x", category="business", providers=[], actor=actor)
    assert refused.value.field == "providers"
    assert services.find("0212345678").provider_codes == ["sandbox"]


def test_deleting_a_number_no_provider_defaults_to(ctx, sandbox, actor):
    sender = services.register(
        "0234567890", providers=["sandbox"], source=RegistrationSource.CONSOLE, actor=actor
    ).sender
    db.session.flush()
    services.delete(sender, actor=actor)
    db.session.flush()
    assert services.find("0234567890") is None
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "sender_number.delete")
    )
    assert event.target_id == "02-3456-7890" and event.details["before"]["providers"] == ["sandbox"]
