"""The audit log shows stored statuses, error codes and the install's seeded names in the
operator's language, as the pages they come from do."""

from __future__ import annotations

import pytest

from kmsg_console.audit.presentation import detail_lines
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.throttle import services as throttle


@pytest.fixture
def korean(app):
    with app.test_request_context(headers={"Accept-Language": "ko"}):
        yield app


def _lines(action, details) -> list[str]:
    return [str(line) for line in detail_lines(action, details)]


def test_message_statuses_and_error_codes_by_their_labels(korean):
    assert _lines(
        "message.retry", {"before": {"status": "FAILED", "error_code": "INSUFFICIENT_BALANCE"}}
    ) == ["상태: 실패", "오류 코드: 잔액 부족"]
    assert _lines("template.register", {"status": "approved"}) == ["상태: 승인됨"]


def test_seeded_policy_and_purpose_names_in_korean_until_renamed(korean):
    created = _lines(
        "throttle.create",
        {"after": {"name": "Global daily cap", "description": "10 per hour per client IP."}},
    )
    assert created == ["이름: 전체 일일 한도", "설명: 클라이언트 IP당 1시간에 10회."]
    renamed = _lines(
        "throttle.update", {"before": {"name": "OTP starts per IP"}, "after": {"name": "IP 제한"}}
    )
    assert renamed == ["이름: IP별 OTP 시작 → IP 제한"]
    assert _lines(
        "otp.purpose_update",
        {"diff": {"before": {"name": "Login"}, "after": {"name": "로그인 인증"}}},
    ) == ["이름: 로그인 → 로그인 인증"]
    # A template that happens to share a seeded name is the operator's text.
    assert _lines("template.create", {"name": "Login"}) == ["이름: Login"]


def test_the_audit_page_shows_the_seeded_policies_in_korean(app, console):
    with app.test_request_context():
        throttle.ensure_default_policies()
        db.session.commit()
    console.login(Role.ADMIN)
    page = console.client.get("/audit-log", headers={"Accept-Language": "ko"}).get_data(
        as_text=True
    )
    assert "전체 일일 한도" in page and "Global daily cap" not in page
