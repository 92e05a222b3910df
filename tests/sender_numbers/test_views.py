"""``/sender-numbers``: everyone signed in reads, only admins change, every change audited."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.sender_numbers import services
from kmsg_console.sender_numbers.models import SenderNumber


def _add(console, **fields):
    data = {f"new-{name}": value for name, value in fields.items()}
    return console.post("/sender-numbers", data=data)


def _sender(app, number: str) -> SenderNumber | None:
    with app.app_context():
        sender = services.find(number)
        if sender is not None:
            sender.providers  # noqa: B018
            db.session.expunge_all()
        return sender


def _events(app, target_id: str) -> list[AuditEvent]:
    with app.app_context():
        events = list(
            db.session.scalars(
                sa.select(AuditEvent)
                .where(AuditEvent.target_id == target_id)
                .order_by(AuditEvent.id)
            )
        )
        db.session.expunge_all()
        return events


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_viewers_and_operators_read_but_cannot_change(app, console, sandbox, role):
    console.login(role)
    page = console.client.get("/sender-numbers")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "02-1234-5678" in html and "Verified" in html and "Default sender of sandbox" in html
    assert 'id="add-sender-number"' not in html and "Sync from provider" not in html
    sender_id = _sender(app, "0212345678").id
    assert console.client.get(f"/sender-numbers/{sender_id}").status_code == 200
    assert _add(console, number="02-3456-7890", category="business").status_code == 403
    for path in (f"/sender-numbers/{sender_id}", f"/sender-numbers/{sender_id}/delete"):
        assert console.post(path, data={"label": "x", "category": "business"}).status_code == 403
    response = console.post(f"/sender-numbers/{sender_id}/status", data={"action": "blocked"})
    assert response.status_code == 403
    assert console.post("/sender-numbers/sync", data={"provider": "sandbox"}).status_code == 403
    assert _sender(app, "0212345678").status == "verified"


def test_an_admin_registers_verifies_and_the_audit_log_reads_it(app, console, sandbox):
    console.login(Role.ADMIN, email="boss@example.com")
    response = _add(
        console,
        number="02-3456-7890",
        label="Support",
        category="non_profit",
        providers=["sandbox"],
    )
    assert response.status_code == 302
    sender = _sender(app, "0234567890")
    assert (sender.status, sender.label, sender.category) == ("pending", "Support", "non_profit")
    assert sender.provider_codes == ["sandbox"]
    html = console.client.get("/sender-numbers").get_data(as_text=True)
    assert "Pending" in html and "Non-profit" in html
    response = console.post(f"/sender-numbers/{sender.id}/status", data={"action": "verified"})
    assert response.status_code == 302
    sender = _sender(app, "0234567890")
    assert sender.status == "verified" and sender.verified_by == "boss@example.com"
    assert [e.action for e in _events(app, "02-3456-7890")] == [
        "sender_number.add",
        "sender_number.verify",
    ]
    audit = console.client.get("/audit-log").get_data(as_text=True)
    assert "Sender number registered" in audit and "Sender number verified" in audit
    assert re.search(r'"audit-before">Pending</span> → <span class="audit-after">Verified<', audit)


def test_invalid_input_is_shown_on_its_field(app, console, sandbox):
    console.login(Role.ADMIN)
    response = _add(console, number="010-1234-5678", category="business")
    assert response.status_code == 422
    assert "is in a range that does not exist" in response.get_data(as_text=True)
    response = _add(console, number="", category="business")
    assert response.status_code == 422
    response = _add(console, number="02-3456-7890", category="nope")
    assert response.status_code == 422
    assert _sender(app, "0234567890") is None


def test_an_admin_edits_rejects_and_blocks_with_a_reason(app, console, sandbox):
    console.login(Role.ADMIN)
    _add(console, number="02-3456-7890", category="business")
    sender = _sender(app, "0234567890")
    response = console.post(
        f"/sender-numbers/{sender.id}",
        data={"label": "Shop", "category": "personal", "providers": ["sandbox"]},
    )
    assert response.status_code == 302
    sender = _sender(app, "0234567890")
    assert (sender.label, sender.category, sender.provider_codes) == (
        "Shop",
        "personal",
        ["sandbox"],
    )
    console.post(f"/sender-numbers/{sender.id}/status", data={"action": "rejected", "note": "docs"})
    assert _sender(app, "0234567890").status == "rejected"
    console.post(f"/sender-numbers/{sender.id}/status", data={"action": "blocked", "note": "spam"})
    sender = _sender(app, "0234567890")
    assert (sender.status, sender.status_note) == ("blocked", "spam")
    html = console.client.get("/sender-numbers").get_data(as_text=True)
    assert "Blocked" in html and "spam" in html
    assert (
        console.post(f"/sender-numbers/{sender.id}/status", data={"action": "x"}).status_code == 422
    )


def test_deleting_a_providers_default_sender_is_refused_with_the_reason(app, console, sandbox):
    console.login(Role.ADMIN)
    sender = _sender(app, "0212345678")
    response = console.post(f"/sender-numbers/{sender.id}/delete", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "cannot be deleted: sandbox uses it as its default sender" in html
    assert _sender(app, "0212345678") is not None
    response = console.post(
        f"/sender-numbers/{sender.id}", data={"label": "", "category": "business"}
    )
    assert response.status_code == 422
    assert "uses this number as its default sender" in response.get_data(as_text=True)
    assert _sender(app, "0212345678").provider_codes == ["sandbox"]


def test_an_admin_deletes_a_number_no_provider_defaults_to(app, console, sandbox):
    console.login(Role.ADMIN)
    _add(console, number="02-3456-7890", category="business", providers=["sandbox"])
    sender = _sender(app, "0234567890")
    response = console.post(f"/sender-numbers/{sender.id}/delete")
    assert response.status_code == 302
    assert _sender(app, "0234567890") is None
    assert [e.action for e in _events(app, "02-3456-7890")][-1] == "sender_number.delete"


def test_the_page_says_which_vendors_have_no_list_api(app, console, sandbox):
    console.login(Role.ADMIN)
    html = console.client.get("/sender-numbers").get_data(as_text=True)
    assert 'id="no-sync-api"' in html and "Sandbox" in html
    assert "No provider here has a vendor that lists its sender numbers" in html
