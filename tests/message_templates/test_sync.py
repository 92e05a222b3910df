"""Status sync: per template, per provider (with import), everything (worker/CLI), history."""

from __future__ import annotations

import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.message_templates import services, sync
from kmsg_console.message_templates.models import MessageTemplate, MessageTemplateEvent
from kmsg_console.providers.models import Provider
from tests.message_templates.conftest import make_template


def _by_code(code: str, provider: Provider) -> MessageTemplate:
    return db.session.scalar(
        sa.select(MessageTemplate).where(
            MessageTemplate.vendor_code == code, MessageTemplate.provider_id == provider.id
        )
    )


def test_provider_sync_imports_vendor_templates_and_follows_reviews(
    ctx, providers, simulator, actor
):
    mine = make_template(providers["aligo"], actor)
    services.register_template(mine, actor=actor)
    services.request_inspection(mine, actor=actor)
    db.session.commit()
    simulator.control.reject_template("aligo_kakao", mine.vendor_code, "이미지 권리 확인 필요")
    summary = sync.sync_provider(providers["aligo"], actor=actor)
    db.session.commit()
    assert (summary.checked, summary.changed, summary.imported, summary.errors) == (1, 1, 1, [])
    assert mine.status == "rejected" and mine.review_comments == ["이미지 권리 확인 필요"]
    seeded = _by_code("KMSG_OTP_001", providers["aligo"])
    assert seeded.status == "approved" and seeded.variables == ["service", "code"]
    assert seeded.events[0].kind == "imported"
    again = sync.sync_provider(providers["aligo"], actor=actor)
    assert (again.changed, again.imported) == (0, 0)  # nothing new: nothing recorded twice


def test_a_template_deleted_at_the_vendor_is_marked_deleted(ctx, providers, simulator, actor):
    template = make_template(providers["iwinv"], actor)
    services.register_template(template, actor=actor)
    db.session.commit()
    from kmsg_console.message_templates import vendors

    vendors.gateway_for(providers["iwinv"]).delete(
        template.vendor_code
    )  # someone used the vendor console
    summary = sync.sync_provider(providers["iwinv"])
    assert summary.deleted == 1 and template.status == "deleted"
    last = db.session.scalar(
        sa.select(MessageTemplateEvent)
        .where(MessageTemplateEvent.template_id == template.id)
        .order_by(MessageTemplateEvent.id.desc())
        .limit(1)
    )
    assert (last.detail, last.from_status, last.to_status) == (
        services.NOT_AT_VENDOR,
        "inspecting",
        "deleted",
    )


def test_sync_all_continues_past_a_failing_provider(ctx, providers, simulator, actor):
    simulator.control.inject(
        "solapi", "status_5xx", path="/kakao/v2/templates", status=503, count=None
    )
    summary = sync.sync_all_templates()
    assert summary.providers == 3  # sandbox, iwinv, aligo (SOLAPI failed)
    assert summary.errors == ["solapi-main: NETWORK_SERVICE_UNAVAILABLE"]
    assert summary.imported == 2  # the seeded template at IWINV and at Aligo
    db.session.rollback()
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(MessageTemplate)) == 2
    )  # committed


def test_cli_sync_command(app, ctx, providers, simulator):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["templates", "sync"])
    assert result.exit_code == 0, result.output
    assert "4 provider(s)" in result.output and "3 imported" in result.output
    simulator.control.inject("aligo_kakao", "status_5xx", status=500, count=None)
    failed = runner.invoke(args=["templates", "sync"])
    assert failed.exit_code == 1 and "aligo-main" in failed.output


def test_sandbox_sync_reads_the_console_itself(ctx, providers, actor):
    template = make_template(providers["sandbox"], actor)
    services.register_template(template, actor=actor)
    db.session.commit()
    assert sync.sync_template(template, actor=actor) is False
    assert template.status == "registered" and template.last_synced_at is not None


def test_a_synced_review_comment_is_credited_to_kakao_not_to_the_operator(
    ctx, providers, simulator, actor
):
    template = make_template(providers["aligo"], actor)
    services.register_template(template, actor=actor)
    services.request_inspection(template, actor=actor)
    db.session.commit()
    simulator.control.reject_template("aligo_kakao", template.vendor_code, "이미지 권리 확인 필요")
    sync.sync_template(template, actor=actor)
    db.session.commit()
    by_kind = {event.kind: event.actor_label for event in template.events}
    assert by_kind["comment"] == "Kakao (Aligo)"
    assert by_kind["status"] == "tester@example.com"  # the operator did ask for the sync


def test_a_sandbox_reviewers_comment_stays_credited_to_that_operator(ctx, providers, actor):
    template = make_template(providers["sandbox"], actor)
    services.register_template(template, actor=actor)
    services.request_inspection(template, actor=actor)
    services.sandbox_review(template, False, "버튼 이름을 바꿔 주세요", actor=actor)
    db.session.commit()
    (comment,) = [event for event in template.events if event.kind == "comment"]
    assert comment.actor_label == "tester@example.com"
