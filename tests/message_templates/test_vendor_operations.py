"""Register, inspect, review, edit, delete and read templates at each vendor's simulator.

``test_allowed_transitions_are_accepted_by_the_vendor`` drives a template into every
reachable review state at each simulator and performs every action the console allows
there (the vendor must accept it and the template must end where the table says), and every
action it refuses (no request may reach the vendor).
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.message_templates import services, sync
from kmsg_console.message_templates.lifecycle import Action, decide
from kmsg_console.message_templates.models import MessageTemplate, MessageTemplateEvent
from tests.message_templates.conftest import ALIGO_SENDER_KEY, SOLAPI_PF_ID, make_template

SIM = {"solapi": "solapi", "iwinv": "iwinv_alimtalk", "aligo": "aligo_kakao"}
WL = {"row": "0", "type": "WL", "name": "주문 보기", "link_mobile": "https://shop.example.com/o"}
DS = {"row": "1", "type": "DS", "name": "배송 조회"}


def _vendor_template(simulator, vendor, code):
    key = {"solapi": "templateId", "iwinv": "templateCode", "aligo": "templtCode"}[vendor]
    return next((t for t in simulator.control.templates(SIM[vendor]) if str(t[key]) == code), None)


def _requests(simulator, vendor):
    return len(simulator.control.requests(SIM[vendor]))


@pytest.mark.parametrize("vendor", ["solapi", "iwinv", "aligo"])
def test_register_sends_the_vendor_payload(ctx, providers, simulator, actor, vendor):
    template = make_template(
        providers[vendor], actor, name="주문 접수", buttons=[WL, DS], sender_profile=None
    )
    services.register_template(template, actor=actor)
    db.session.commit()
    assert (
        template.vendor_code
        and _vendor_template(simulator, vendor, template.vendor_code) is not None
    )
    sent = simulator.control.requests(SIM[vendor])[-1]["body"]
    if vendor == "solapi":
        assert sent["channelId"] == SOLAPI_PF_ID and sent["categoryCode"] == "002001"
        assert sent["messageType"] == "BA" and sent["securityFlag"] is False
        assert sent["buttons"][0] == {
            "buttonName": "주문 보기",
            "buttonType": "WL",
            "linkMo": "https://shop.example.com/o",
        }
        assert template.status == "registered" and template.vendor_status == "PENDING"
    elif vendor == "iwinv":
        assert sent["templateName"] == "주문 접수"
        assert [b["type"] for b in sent["buttons"]] == [
            "WL",
            "DB",
        ]  # IWINV spells delivery tracking DB
        assert template.status == "inspecting" and template.vendor_status == "I"
    else:
        assert sent["senderkey"] == ALIGO_SENDER_KEY
        buttons = json.loads(sent["tpl_button"])["button"]
        assert (
            buttons[0]["linkType"] == "WL" and buttons[0]["linkMo"] == "https://shop.example.com/o"
        )
        assert template.status == "registered" and template.vendor_status == "REG"
    assert template.sender_profile == {"solapi": SOLAPI_PF_ID, "aligo": ALIGO_SENDER_KEY}.get(
        vendor
    )
    kinds = [e.kind for e in template.events]
    assert kinds[0] == "registered" and kinds[-1] == "created"
    audit = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "template.register"))
    assert (
        audit.target_id == str(template.id)
        and audit.details["vendor_template"] == template.vendor_code
    )


@pytest.mark.parametrize("vendor", ["solapi", "iwinv", "aligo"])
def test_full_review_cycle_at_the_vendor(ctx, providers, simulator, actor, vendor):
    template = make_template(providers[vendor], actor)
    services.register_template(template, actor=actor)
    if vendor != "iwinv":
        services.request_inspection(template, actor=actor)
    assert template.status == "inspecting"
    db.session.commit()
    simulator.control.reject_template(SIM[vendor], template.vendor_code, "변수 설명이 필요합니다")
    assert sync.sync_template(template, actor=actor) is True
    assert template.status == "rejected" and "변수 설명이 필요합니다" in template.review_comments
    services.update_template(
        template,
        services.template_data(template, content="#{name}님, 주문번호 #{order} 접수 완료"),
        providers[vendor],
        actor=actor,
    )
    at_vendor = _vendor_template(simulator, vendor, template.vendor_code)
    assert "주문번호" in json.dumps(at_vendor, ensure_ascii=False)
    if vendor != "iwinv":
        assert template.status == "registered"
        services.request_inspection(template, actor=actor)
    assert template.status == "inspecting"
    db.session.commit()
    simulator.control.approve_template(SIM[vendor], template.vendor_code)
    sync.sync_template(template, actor=actor)
    assert template.status == "approved" and decide(template, Action.SEND).allowed
    events = db.session.scalars(
        sa.select(MessageTemplateEvent)
        .where(MessageTemplateEvent.template_id == template.id)
        .order_by(MessageTemplateEvent.id)
    ).all()
    path = [e.to_status for e in events if e.to_status]
    if vendor == "iwinv":  # IWINV reviews at registration and after every edit
        assert path == ["draft", "inspecting", "rejected", "inspecting", "approved"]
    else:
        assert path == [
            "draft",
            "registered",
            "inspecting",
            "rejected",
            "registered",
            "inspecting",
            "approved",
        ]
    assert [e.kind for e in events if e.kind == "comment"] == ["comment"]
    assert all(e.at is not None for e in template.events)


def _into(simulator, providers, actor, vendor, status):
    """A template at the vendor in ``status`` (local row synced)."""
    template = make_template(providers[vendor], actor)
    services.register_template(template, actor=actor)
    db.session.commit()
    action = {"inspecting": "inspect", "approved": "approve", "rejected": "reject"}.get(status)
    if action:
        simulator.control.review_template(
            SIM[vendor], template.vendor_code, action, "반려 사유" if action == "reject" else None
        )
    sync.sync_template(template, actor=actor)
    db.session.commit()
    assert template.status == status
    return template


#: (vendor, status) → action → status afterwards, for every allowed vendor-side action.
AFTER = {
    "edit": {"solapi": "registered", "aligo": "registered", "iwinv": "inspecting"},
    "delete": "deleted",
    "request_inspection": "inspecting",
    "sync": None,
}
STATES = [
    (v, s)
    for v in ("solapi", "aligo", "iwinv")
    for s in ("registered", "inspecting", "approved", "rejected")
    if not (v == "iwinv" and s == "registered")
]  # IWINV never leaves a template unsubmitted
OPERATIONS = {
    "edit": lambda t, a: services.update_template(
        t, services.template_data(t, content=t.content + " 감사합니다."), t.provider, actor=a
    ),
    "delete": lambda t, a: services.delete_template(t, actor=a),
    "request_inspection": lambda t, a: services.request_inspection(t, actor=a),
    "sync": lambda t, a: sync.sync_template(t, actor=a),
}


@pytest.mark.parametrize("vendor, status", STATES, ids=[f"{v}-{s}" for v, s in STATES])
@pytest.mark.parametrize("action", sorted(OPERATIONS))
def test_allowed_transitions_are_accepted_by_the_vendor(
    ctx, providers, simulator, actor, vendor, status, action
):
    template = _into(simulator, providers, actor, vendor, status)
    before = _requests(simulator, vendor)
    if not decide(template, Action(action)).allowed:
        with pytest.raises(services.TemplateError) as refused:
            OPERATIONS[action](template, actor)
        assert refused.value.message == decide(template, Action(action)).reason
        assert _requests(simulator, vendor) == before  # refused before any vendor call
        return
    OPERATIONS[action](template, actor)
    db.session.commit()
    expected = AFTER[action]
    expected = expected.get(vendor) if isinstance(expected, dict) else expected
    assert template.status == (expected or status)
    assert _requests(simulator, vendor) > before
    held = _vendor_template(simulator, vendor, template.vendor_code)
    assert (held is None) == (expected == "deleted")


def test_a_vendor_refusal_is_recorded_and_changes_nothing(ctx, providers, simulator, actor):
    template = _into(simulator, providers, actor, "aligo", "registered")
    simulator.control.inject(
        "aligo_kakao", "vendor_error", path="/akv10/template/request/", code="510"
    )
    with pytest.raises(services.TemplateError) as refused:
        services.request_inspection(template, actor=actor)
    assert refused.value.persist and "510" in refused.value.params["error"]
    db.session.commit()
    assert template.status == "registered"
    assert template.events[0].kind == "vendor_refused"
    audit = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "template.request_inspection")
    )
    assert audit.outcome == "failure"


def test_deleting_a_draft_removes_it_without_calling_anyone(ctx, providers, simulator, actor):
    template = make_template(providers["solapi"], actor)
    template_id = template.id
    services.delete_template(template, actor=actor)
    db.session.commit()
    assert db.session.get(MessageTemplate, template_id) is None
    assert simulator.control.requests("solapi") == []


def test_get_and_list_read_the_vendor(ctx, providers, simulator, actor):
    from kmsg_console.message_templates import vendors

    for vendor in ("solapi", "iwinv", "aligo"):
        gateway = vendors.gateway_for(providers[vendor])
        seeded = gateway.get("KMSG_OTP_001")
        assert seeded.status.value == "approved" and "#{code}" in seeded.content
        assert "KMSG_OTP_001" in {t.code for t in gateway.list()}
        with pytest.raises(vendors.VendorError) as missing:
            gateway.get("NOPE")
        assert missing.value.not_found
