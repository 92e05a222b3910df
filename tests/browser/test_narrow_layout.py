"""On a phone-sized screen every console page fits the viewport; wide tables scroll in place."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from kmsg_console import sending
from kmsg_console.api_keys.services import issue_key
from kmsg_console.events import delivery
from kmsg_console.events import services as event_services
from kmsg_console.extensions import db
from kmsg_console.kakao_channels import services as profile_services
from kmsg_console.message_templates import services as template_services
from kmsg_console.message_templates.models import MessageTemplate
from kmsg_console.message_templates.validation import TemplateData
from kmsg_console.operators.models import Role
from kmsg_console.operators.services import create_operator
from kmsg_console.orm import utcnow
from kmsg_console.otp import services as otp
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.sandbox import sandbox_clear, script_sandbox
from kmsg_console.providers.models import Provider
from kmsg_console.sender_numbers.models import SenderNumber
from kmsg_console.sending.models import MessageLog, MessageSource
from kmsg_console.throttle import services as throttle_services
from kmsg_console.throttle.models import (
    EntryMatch,
    EventOutcome,
    ListKind,
    ThrottleEvent,
    ThrottlePolicy,
)
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

ADMIN = "operations.admin.with.a.long.address@example.com"
PHONE_WIDTH = {"width": 390, "height": 844}


def _seed(app) -> dict[str, str]:
    """Enough rows that every list has long, wide content to lay out."""
    sandbox_clear()
    with app.test_request_context():
        admin = create_operator(ADMIN, PASSWORD, Role.ADMIN)
        for n in range(3):
            create_operator(f"operator{n}.night-shift@example.com", PASSWORD, Role.OPERATOR)
        provider_services.ensure_sandbox_provider()
        db.session.add(
            Provider(
                code="iwinv-main",
                name="IWINV 메인 발송 계정",
                vendor="iwinv",
                enabled=False,
                settings={},
                secrets={},
            )
        )
        otp.ensure_default_purposes()
        throttle_services.ensure_default_policies()
        db.session.commit()

        script_sandbox(
            "sandbox",
            ["ok", "fail:INSUFFICIENT_BALANCE", "ok", "fail:NETWORK_ERROR", "fail:PROVIDER_ERROR"],
        )
        for n in range(6):
            sending.send(
                sending.SendRequest(
                    to=f"010-1234-56{n:02d}",
                    text=f"[샵] 주문 {n}번이 접수되었습니다. 배송이 시작되면 다시 알려 드립니다.",
                ),
                source=MessageSource.API,
            )
        # Spread over the last day, so failures fill hours across the report's hourly table.
        logs = db.session.scalars(sa.select(MessageLog)).all()
        for hours, log in zip(range(1, 24, 4), logs, strict=True):
            log.created_at = utcnow() - timedelta(hours=hours)
        db.session.commit()

        provider = db.session.scalar(sa.select(Provider).where(Provider.code == "sandbox"))
        for name, kind in (
            ("가입 환영 안내", "ALIMTALK"),
            ("주문 접수 알림", "ALIMTALK"),
            ("SMS 인증", "SMS"),
        ):
            content = (
                "[KMSG] 인증번호 #{code}" if kind == "SMS" else "#{name}님, 가입을 환영합니다."
            )
            template = template_services.create_template(
                TemplateData(kind=kind, name=name, content=content),
                provider if kind == "ALIMTALK" else None,
                actor=admin,
            )
            if kind == "ALIMTALK":
                template_services.register_template(template, actor=admin)
        db.session.commit()

        verification = otp.start(phone="010-5555-6666", purpose_code="login", operator=admin)
        otp.start(phone="010-5555-7777", purpose_code="signup")

        policy = db.session.scalars(sa.select(ThrottlePolicy).order_by(ThrottlePolicy.id)).first()
        throttle_services.add_list_entry(
            ListKind.BLOCK, EntryMatch.NUMBER, "010-9999-8888", "반복 요청으로 차단", actor=admin
        )
        for n in range(5):
            db.session.add(
                ThrottleEvent(
                    policy_id=policy.id,
                    policy_name=policy.name,
                    action="otp_start",
                    outcome=EventOutcome.BLOCKED,
                    key_kind="phone",
                    key_hash=uuid.uuid4().hex,
                    key_masked=f"010-****-{n:04d}",
                    max_requests=5,
                    window_seconds=3600,
                    retry_after_seconds=1800,
                )
            )
        issue_key("주문 서버 (운영)", ["send", "otp"], actor=admin)
        iwinv = db.session.scalar(sa.select(Provider).where(Provider.code == "iwinv-main"))
        profile = profile_services.add_profile(
            iwinv,
            "KA01PF2612071400000000000000LONGKEY",
            plus_id="@kmsg-night-shift-store",
            name="KMSG 야간 배송 알림 채널",
            status="dormant",
            actor=admin,
        )
        db.session.commit()
        template = db.session.scalars(sa.select(MessageTemplate)).first()
        message = db.session.scalars(sa.select(MessageLog)).first()
        app.config["WEBHOOK_ALLOW_PRIVATE"] = True  # no DNS here for the example host
        endpoint = event_services.create_endpoint(
            "https://hooks.example.com/kmsg-events",
            ["message.sent", "verification.started"],
            description="주문 서버",
            actor=admin,
        ).endpoint
        db.session.commit()
        delivery.fan_out(utcnow())  # pending deliveries for the log (no worker posts them)
        return {
            "endpoint": endpoint.public_id,
            "policy": str(policy.id),
            "template": str(template.id),
            "message": message.public_id,
            "verification": verification.public_id,
            "provider": str(provider.id),
            "profile": str(profile.id),
            "sender": str(db.session.scalar(sa.select(SenderNumber.id))),
        }


def _pages(ids: dict[str, str]) -> list[tuple[str, bool]]:
    """Every console page an admin opens, and whether it lists seeded rows in a table."""
    return [
        ("/", True),
        ("/send-logs", True),
        ("/send-logs/failures", True),
        (f"/send-logs/{ids['message']}", True),
        ("/send", False),
        ("/otp", True),
        (f"/otp/verifications/{ids['verification']}", False),
        ("/otp/purposes", True),
        ("/templates", True),
        (f"/templates/{ids['template']}", True),
        ("/throttle-policies", True),
        (f"/throttle-policies/{ids['policy']}", True),
        ("/throttle-policies/lists", True),
        ("/throttle-policies/test", False),
        ("/kakao-channels", True),
        (f"/kakao-channels/{ids['profile']}", False),
        ("/providers", True),
        (f"/providers/{ids['provider']}/delivery", False),
        ("/sender-numbers", True),
        (f"/sender-numbers/{ids['sender']}", False),
        ("/api-keys", True),
        ("/webhook-endpoints", True),
        (f"/webhook-endpoints/{ids['endpoint']}", True),
        ("/operators", True),
        ("/audit-log", True),
        ("/settings/retention", True),
        ("/settings/alerts", True),
        ("/account", False),
    ]


def test_every_page_fits_a_phone_screen(live_console, chromium_browser):
    ids = _seed(live_console.app)
    context = chromium_browser.new_context(locale="ko-KR", viewport=PHONE_WIDTH)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        sign_in(page, live_console, ADMIN)
        too_wide = {}
        for n, (path, has_rows) in enumerate(_pages(ids)):
            response = page.goto(live_console.url(path))
            assert response.status == 200, path
            page.wait_for_load_state("networkidle")
            if has_rows:
                assert page.locator("table tbody tr").count() > 0, path
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > page.evaluate("window.innerWidth"):
                too_wide[path] = width
            screenshot(page, f"narrow_{n:02d}_{path.strip('/').split('/')[0] or 'dashboard'}")
        assert too_wide == {}
        assert errors == []  # CSP refusals among them
    finally:
        context.close()


#: Scrolls the hourly table's container to its end and measures its last column and the first
#: row's name there.
HOURLY_TABLE_END = """() => {
  const table = document.querySelector("table.heatmap");
  const box = table.parentElement;
  box.scrollLeft = box.scrollWidth;
  const last = table.querySelector("thead th:last-child").getBoundingClientRect();
  const name = table.querySelector("tbody tr th").getBoundingClientRect();
  const frame = box.getBoundingClientRect();
  return {
    overflowX: getComputedStyle(box).overflowX,
    lastLeft: last.left, lastRight: last.right,
    nameLeft: name.left, nameRight: name.right,
    boxLeft: frame.left, boxRight: frame.right,
    viewport: window.innerWidth,
    pageWidth: document.documentElement.scrollWidth,
  };
}"""


def test_failure_reports_hourly_table_scrolls_to_its_last_hour_with_row_names(live_console, page):
    _seed(live_console.app)
    sign_in(page, live_console, ADMIN)
    page.goto(live_console.url("/send-logs/failures"))
    end = page.evaluate(HOURLY_TABLE_END)
    screenshot(page, "failure_report_1366")
    assert end["overflowX"] in ("auto", "scroll")
    assert end["boxRight"] <= end["viewport"]
    assert end["boxLeft"] <= end["lastLeft"] and end["lastRight"] <= end["boxRight"] + 1, end
    # Scrolled to the last hour, a row still says which error it counts.
    assert abs(end["nameLeft"] - end["boxLeft"]) <= 1 and end["nameRight"] < end["lastLeft"], end
    assert end["pageWidth"] <= end["viewport"]
    assert page.js_errors == []
