"""Audit events as the audit log shows them: events recorded by the features themselves."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kmsg_console.api_keys.services import issue_key
from kmsg_console.audit.models import AuditEvent
from kmsg_console.audit.presentation import action_label, detail_lines, target_label
from kmsg_console.audit.services import diff, record_audit
from kmsg_console.extensions import db
from kmsg_console.message_templates import services as templates
from kmsg_console.message_templates.validation import TemplateData
from kmsg_console.operators.models import Role
from kmsg_console.operators.services import change_role, create_operator
from kmsg_console.otp import purposes
from kmsg_console.otp import services as otp
from kmsg_console.otp.models import VerificationPurpose
from kmsg_console.providers import services as providers
from kmsg_console.throttle import services as throttle
from kmsg_console.throttle.models import EntryMatch, ListKind, ThrottlePolicy
from kmsg_console.worker import retention
from kmsg_console.worker import settings as delivery
from tests.conftest import PASSWORD


@pytest.fixture
def korean(app):
    """A Korean request, where services are called and their events read back."""
    with app.test_request_context(headers={"Accept-Language": "ko"}):
        yield app
        db.session.rollback()


def _last(action: str) -> AuditEvent:
    db.session.flush()
    return db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())
    ).first()


def _texts(event: AuditEvent) -> list[str]:
    return [str(line) for line in detail_lines(event.action, event.details)]


def test_a_template_edit_reads_as_korean_before_and_after(korean):
    template = templates.create_template(
        TemplateData(kind="SMS", name="배송 안내", content="[샵] 주문하신 상품이 출발했습니다."),
        None,
        actor=None,
    )
    db.session.flush()
    templates.update_template(
        template,
        TemplateData(kind="SMS", name="배송 안내", content="[샵] 상품이 오늘 도착합니다."),
        None,
        actor=None,
    )
    event = _last("template.update")
    assert action_label(event.action) == "템플릿 수정"
    assert target_label(event.target_type) == "템플릿"
    lines = _texts(event)
    assert "이름: 배송 안내" in lines
    assert "본문: [샵] 주문하신 상품이 출발했습니다. → [샵] 상품이 오늘 도착합니다." in lines
    assert not any("\\u" in line for line in lines)


def test_a_role_change_names_both_roles(korean):
    admin = create_operator("admin@example.com", PASSWORD, Role.ADMIN)
    viewer = create_operator("viewer@example.com", PASSWORD, Role.VIEWER)
    db.session.flush()
    change_role(viewer, Role.OPERATOR, actor=admin)
    event = _last("operator.change_role")
    assert action_label(event.action) == "운영자 역할 변경"
    assert _texts(event) == ["역할: 조회자 → 운영자"]


def test_a_throttle_window_change_and_an_unchanged_name(korean):
    throttle.ensure_default_policies()
    policy = db.session.scalars(sa.select(ThrottlePolicy).order_by(ThrottlePolicy.id)).first()
    old = [f"{w.max_requests}/{w.window_seconds}s" for w in policy.windows]
    data = throttle.PolicyData(
        name=policy.name,
        mode=policy.mode,
        key_kind=policy.key_kind,
        actions=list(policy.actions),
        windows=[
            throttle.WindowData(w.max_requests + 1, w.window_seconds, w.id) for w in policy.windows
        ],
        description=policy.description,
        purpose=policy.purpose,
        prefix=policy.prefix,
        enabled=policy.enabled,
    )
    throttle.update_policy(policy, data, actor=None)
    event = _last("throttle.update")
    new = [f"{w.max_requests}/{w.window_seconds}s" for w in policy.windows]
    assert action_label(event.action) == "발송 제한 정책 수정"
    assert _texts(event) == [f"구간: {', '.join(old)} → {', '.join(new)}"]


def test_a_blocklist_removal_lists_what_was_removed(korean):
    entry = throttle.add_list_entry(
        ListKind.BLOCK, EntryMatch.NUMBER, "010-9999-8888", "반복 요청", actor=None
    )
    db.session.flush()
    throttle.remove_list_entry(entry, actor=None)
    event = _last("throttle.blocklist_remove")
    assert action_label(event.action) == "차단 목록에서 삭제"
    lines = _texts(event)
    assert "목록: 차단 목록" in lines and "메모: 반복 요청" in lines
    assert "→" not in " ".join(lines)  # nothing changed: it was taken away
    assert "9999-8888" not in " ".join(lines)  # the number stays masked as stored


def test_an_otp_purpose_change_nested_under_diff(korean):
    otp.ensure_default_purposes()
    purpose = db.session.scalar(
        sa.select(VerificationPurpose).where(VerificationPurpose.code == "login")
    )
    settings = {name: getattr(purpose, name) for name in purposes._EDITABLE}
    settings.update(lifetime_seconds=300, brand="한국 쇼핑")
    before_brand = purpose.brand or "—"
    purposes.update_purpose(purpose, settings)
    event = _last("otp.purpose_update")
    assert action_label(event.action) == "OTP 용도 수정"
    lines = _texts(event)
    assert lines[0] == "용도: login"
    assert "유효 시간(초): 180 → 300" in lines
    assert f"브랜드: {before_brand} → 한국 쇼핑" in lines


def test_an_issued_key_shows_its_scopes_by_name(korean):
    issue_key("주문 서버", ["send", "otp"], actor=None, actor_label="system")
    event = _last("api_key.create")
    assert action_label(event.action) == "API 키 발급"
    assert _texts(event) == ["이름: 주문 서버", "권한 범위: OTP 인증 실행, 메시지 발송"]


def test_a_new_webhook_secret_is_named_never_shown(korean):
    provider = providers.ensure_sandbox_provider()
    db.session.flush()
    delivery.save_settings(
        provider,
        fallback_enabled=True,
        codes=[],
        texts=[],
        tolerance=300,
        new_secret="s3cret-value-for-webhooks",
        actor=None,
    )
    event = _last("provider.delivery_update")
    lines = _texts(event)
    assert action_label(event.action) == "전송 결과 추적 설정 변경"
    assert "웹훅 시크릿 설정됨: 아니요 → 예" in lines
    assert "교체한 인증 정보: webhook_secret" in lines
    assert "s3cret" not in " ".join(lines)


def test_a_redacted_secret_stays_redacted(korean):
    record_audit(
        "provider.update",
        target_type="provider",
        target_id="solapi-main",
        details=diff({"api_secret": "old-secret"}, {"api_secret": "new-secret"}),
        actor_label="system",
    )
    event = _last("provider.update")
    assert _texts(event) == ["api_secret: [가려짐] → [가려짐]"]


def test_retention_changes_use_the_data_class_names(korean):
    retention.save_policies({"send_logs": 30}, actor=None)
    event = _last("retention.update")
    assert action_label(event.action) == "보관 기간 변경"
    assert _texts(event) == ["발송 로그: 90 → 30"]


def test_unknown_actions_and_fields_keep_their_names(korean):
    record_audit(
        "bulk.import", details={"rows_read": 12, "source": "파일.csv"}, actor_label="system"
    )
    event = _last("bulk.import")
    assert action_label(event.action) == "bulk.import"
    assert target_label(None) == "" and target_label("batch") == "batch"
    assert _texts(event) == ["rows_read: 12", "source: 파일.csv"]


def test_english_labels(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        admin = create_operator("admin@example.com", PASSWORD, Role.ADMIN)
        viewer = create_operator("viewer@example.com", PASSWORD, Role.VIEWER)
        db.session.flush()
        change_role(viewer, Role.ADMIN, actor=admin)
        event = _last("operator.change_role")
        assert action_label(event.action) == "Operator role changed"
        assert _texts(event) == ["Role: Viewer → Admin"]
        db.session.rollback()
