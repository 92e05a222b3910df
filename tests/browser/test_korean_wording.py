"""In Korean, no console page shows a sentence of the product's own in English.

An admin signs in with a Korean browser and opens every page: each GET route of the app that
needs no argument, and the detail pages of rows seeded to cover every message status (failed,
unknown, cancelled, a fallback, a retry, an interrupted send...), a test OTP, templates,
throttle events, API keys, audit rows and one provider of each vendor. What the operator can
read (text, and the attributes a browser shows: titles, placeholders, labels, confirmations)
is searched for three English words in a row, and for raw status and error-code values.

Left out, as they are not the product's words: ``<code>`` (identifiers, vendor codes),
``<pre>`` (message texts as typed), elements marked ``translate="no"`` (a vendor's or an
adapter's own text, shown verbatim for support), e-mail addresses, web addresses, numbers and
the names in :data:`NAMES`. Everything the operator types here is Korean, so English found
is the console's.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from kmsg_console import sending
from kmsg_console.api_keys.services import issue_key
from kmsg_console.extensions import db
from kmsg_console.message_templates import services as template_services
from kmsg_console.message_templates.models import MessageTemplate
from kmsg_console.message_templates.validation import TemplateData
from kmsg_console.messaging.errors import ErrorCode
from kmsg_console.messaging.phone import mask_phone
from kmsg_console.messaging.provider import DeliveryStatus, DeliveryStatusResult
from kmsg_console.messaging.result import Ok
from kmsg_console.operators.models import Role
from kmsg_console.operators.services import create_operator
from kmsg_console.orm import utcnow
from kmsg_console.otp import services as otp
from kmsg_console.otp.models import Verification
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters import ADAPTERS
from kmsg_console.providers.adapters.sandbox import sandbox_clear, script_sandbox
from kmsg_console.providers.models import Provider
from kmsg_console.send_logs import services as log_services
from kmsg_console.sending.models import MessageAttempt, MessageLog, MessageSource, MessageStatus
from kmsg_console.throttle import services as throttle_services
from kmsg_console.throttle.core import ThrottleContext
from kmsg_console.throttle.engine import check_and_consume
from kmsg_console.throttle.models import EntryMatch, ListKind, ThrottlePolicy
from kmsg_console.worker import fallback, interrupted, outcomes
from kmsg_console.worker import settings as worker_settings
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

ADMIN = "admin@example.com"

#: Names that stay as they are in Korean: vendors, Kakao's products, message types, and
#: abbreviations Korean operators use as written.
NAMES = frozenset(
    {
        "kmsg-console",
        "English",
        "SOLAPI",
        "IWINV",
        "Aligo",
        "AlimTalk",
        "SMS",
        "LMS",
        "MMS",
        "OTP",
        "API",
        "CSV",
        "HTTP",
        "URL",
        "IP",
        "ID",
    }
)
#: Raw values of the product's enumerations, which must be shown as their labels.
RAW_VALUES = frozenset(s.value for s in MessageStatus) | frozenset(c.value for c in ErrorCode)

_SKIPPED = re.compile(
    r"[\w.+-]+@[\w-]+(\.[\w-]+)+"  # e-mail addresses
    r"|https?://\S+"  # web addresses
    r"|/[\w./-]*"  # paths
)
#: Hangul, digits and anything else that is not Latin ends a run of English words.
_BREAK = re.compile(r"[^A-Za-z\s'’.,;:!?()\"/&_-]+")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_'’-]*")

#: Every text node and shown attribute outside the parts left out, with where it is.
VISIBLE_TEXT = """() => {
  const skip = "code, pre, script, style, template, [translate=no]";
  const found = [];
  const where = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) {
      parts.unshift(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
        + (e.classList.length ? "." + [...e.classList].join(".") : ""));
    }
    return parts.join(" > ");
  };
  const walker = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest(skip) || !node.data.trim()) continue;
    found.push([where(el), node.data.trim()]);
  }
  const attrs = ["title", "placeholder", "aria-label", "alt", "data-confirm", "hx-confirm"];
  for (const el of document.querySelectorAll("*")) {
    if (el.closest(skip)) continue;
    for (const name of attrs) {
      const value = el.getAttribute(name);
      if (value && value.trim()) found.push([where(el) + "@" + name, value.trim()]);
    }
    if (el.matches("input[type=submit], input[type=button]") && el.value) {
      found.push([where(el) + "@value", el.value]);
    }
  }
  return found;
}"""


def english_runs(text: str) -> list[str]:
    """Runs of three or more English words in ``text`` (names, addresses and numbers aside)."""
    runs = []
    for chunk in _BREAK.split(_SKIPPED.sub(" 가 ", text)):
        words = [w for w in _WORD.findall(chunk) if w.strip("'’-") not in NAMES]
        if len(words) >= 3:
            runs.append(" ".join(words))
    return runs


def raw_values(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if w in RAW_VALUES]


def _provider(code: str, name: str, vendor: str) -> Provider:
    provider = Provider(code=code, name=name, vendor=vendor, enabled=False, settings={}, secrets={})
    db.session.add(provider)
    return provider


def _send(text: str, script: list[str] | None = None, **kwargs) -> MessageLog:
    if script is not None:
        script_sandbox("sandbox", script)
    request = sending.SendRequest(to=kwargs.pop("to", "010-2345-6789"), text=text, **kwargs)
    return sending.send(request, source=MessageSource.API).log


def _status(log: MessageLog, status: DeliveryStatus, code=None, text=None) -> None:
    result = DeliveryStatusResult(status, code, text, raw={"statusCode": code})
    outcomes.apply_result(log, Ok(result), utcnow(), polled=True)
    db.session.commit()


def _abandoned(text: str, outcome: str) -> MessageLog:
    """A send whose process ended with its last attempt ``outcome`` (as the engine left it)."""
    log = _send(text)
    log.status, log.next_check_at, log.tracking_note = "UNKNOWN", None, None
    log.created_at = utcnow() - timedelta(minutes=30)
    for attempt in log.attempts:
        attempt.outcome = outcome
        attempt.started_at = utcnow() - timedelta(minutes=30)
    db.session.commit()
    return log


def _solapi_refusal(provider_code: str) -> str:
    """A SOLAPI refusal of a malformed sender number (statusCode 1021), as the engine stores it."""
    keyring, public_id, now = app_keyring(), str(uuid.uuid4()), utcnow()
    log = MessageLog(
        public_id=public_id,
        created_at=now,
        status="FAILED",
        source="api",
        type="SMS",
        provider_code=provider_code,
        from_number="0212",
        to_hash=keyring.lookup_hash("01033334444", "phone"),
        to_enc=keyring.encrypt("01033334444", f"message:{public_id}:to"),
        to_masked=mask_phone("01033334444"),
        error_code="INVALID_REQUEST",
        vendor_code="1021",
        vendor_text="발신번호 형식이 올바르지 않습니다.",
        attempt_count=1,
        failed_at=now,
    )
    log.attempts.append(
        MessageAttempt(
            number=1,
            trigger="initial",
            provider_code=provider_code,
            started_at=now,
            finished_at=now,
            latency_ms=120,
            outcome="failed",
            vendor_code="1021",
            error_code="INVALID_REQUEST",
            vendor_text="발신번호 형식이 올바르지 않습니다.",
            http_status=200,
        )
    )
    db.session.add(log)
    db.session.commit()
    return public_id


def app_keyring():
    from flask import current_app

    return current_app.config["KEYRING"]


def _seed(app) -> dict:
    """Rows for every page and every state a page explains; returns detail page paths."""
    sandbox_clear()
    with app.test_request_context():
        admin = create_operator(ADMIN, PASSWORD, Role.ADMIN)
        create_operator("viewer@example.com", PASSWORD, Role.VIEWER)
        sandbox = provider_services.ensure_sandbox_provider()
        _provider("solapi-main", "솔라피 운영", "solapi")
        _provider("iwinv-main", "아이윈브이 예비", "iwinv")
        _provider("aligo-main", "알리고 예비", "aligo")
        otp.ensure_default_purposes()
        throttle_services.ensure_default_policies()
        db.session.commit()
        worker_settings.save_settings(
            sandbox, fallback_enabled=True, codes=["3104"], texts=[], tolerance=300, actor=admin
        )
        db.session.commit()

        # Templates: an SMS text and an AlimTalk taken through review to approval.
        template_services.create_template(
            TemplateData(kind="SMS", name="인증 문자", content="[케이샵] 인증번호 #{code}"),
            None,
            actor=admin,
        )
        alimtalk = template_services.create_template(
            TemplateData(
                kind="ALIMTALK",
                name="배송 출발 안내",
                content="[#{brand}] 주문하신 상품이 출발했습니다.",
                category="SHIPPING",
            ),
            sandbox,
            actor=admin,
        )
        db.session.commit()
        template_services.register_template(alimtalk, actor=admin)
        template_services.request_inspection(alimtalk, actor=admin)
        template_services.sandbox_review(alimtalk, True, "", actor=admin)
        db.session.commit()

        # Messages in every status, each written by the code that writes it in production.
        sent = _send("[케이샵] 주문이 접수되었습니다.")
        delivered = _send("[케이샵] 배송이 시작되었습니다.")
        _status(delivered, DeliveryStatus.DELIVERED, "4000", "수신 완료")
        _send("[케이샵] 내일 배송 예정입니다.", scheduled_at=utcnow() + timedelta(hours=2))
        no_balance = _send("[케이샵] 결제 완료", ["fail:INSUFFICIENT_BALANCE"])
        timed_out = _send("[케이샵] 적립금 안내", ["timeout"])
        _status(timed_out, DeliveryStatus.SENT, "3000", "이통사로 접수 완료")
        unreachable = _send("[케이샵] 쿠폰 안내", ["down"])
        cancelled = _send("[케이샵] 예약 취소")
        _status(cancelled, DeliveryStatus.CANCELLED)
        undelivered = _send("[케이샵] 반품 접수")
        _status(undelivered, DeliveryStatus.FAILED, "3040", "전송 시간 초과")
        vendor_unknown = _send("[케이샵] 교환 접수")
        _status(vendor_unknown, DeliveryStatus.UNKNOWN, None, "상태 확인 불가")
        gave_up = _send("[케이샵] 리뷰 요청")
        outcomes.give_up(gave_up, outcomes.TIMEOUT, "no final status within 24 hours")
        db.session.commit()
        unsupported = _send("[케이샵] 휴면 안내")
        outcomes.apply_result(
            unsupported, outcomes.Note(outcomes.UNSUPPORTED), utcnow(), polled=True
        )
        db.session.commit()
        retried = _send("[케이샵] 재발송 안내", ["fail:PROVIDER_ERROR"])
        log_services.retry_message(retried, operator=admin)
        db.session.commit()
        abandoned = [
            _abandoned("[케이샵] 중단 1", "in_flight"),
            _abandoned("[케이샵] 중단 2", "accepted"),
            _abandoned("[케이샵] 중단 3", "failed"),
        ]
        interrupted.settle(utcnow())
        db.session.commit()

        # An AlimTalk the recipient cannot get: the worker sends its SMS fallback.
        kakao = sending.send(
            sending.SendRequest(
                to="010-2345-6789",
                type="ALIMTALK",
                template_code=alimtalk.vendor_code,
                variables={"brand": "케이샵"},
                failover={"enabled": True, "channel": "sms", "content": "[케이샵] 상품 출발"},
            ),
            source=MessageSource.API,
        ).log
        _status(kakao, DeliveryStatus.FAILED, "3104", "카카오톡 미사용자")
        fallback.send_due()
        db.session.commit()
        solapi_refusal = _solapi_refusal("solapi-main")

        # A test OTP from the console, one wrong code; throttle blocks; lists; an API key.
        verification = otp.start(phone="010-5555-6666", purpose_code="login", operator=admin)
        otp.check(verification.public_id, "000000")
        db.session.commit()
        for _ in range(4):
            check_and_consume("otp_start", ThrottleContext(phone="01077778888", ip="10.0.0.9"))
        throttle_services.add_list_entry(
            ListKind.BLOCK, EntryMatch.PREFIX, "0107777", "스팸 대역", actor=admin
        )
        issue_key("주문 서버", ["send", "otp"], actor=admin)
        db.session.commit()

        messages = [
            sent,
            delivered,
            no_balance,
            timed_out,
            unreachable,
            cancelled,
            undelivered,
            vendor_unknown,
            gave_up,
            unsupported,
            retried,
            *abandoned,
            kakao,
        ]
        children = db.session.scalars(
            sa.select(MessageLog.public_id).where(MessageLog.fallback_of_id.is_not(None))
        ).all()
        policies = db.session.scalars(sa.select(ThrottlePolicy.id)).all()
        providers = db.session.scalars(sa.select(Provider.id)).all()
        return {
            "shots": {
                "failed": no_balance.public_id,
                "unknown": timed_out.public_id,
                "retried": retried.public_id,
                "fallback": kakao.public_id,
                "solapi_1021": solapi_refusal,
            },
            "messages": [m.public_id for m in messages] + list(children) + [solapi_refusal],
            "details": [
                f"/otp/verifications/{v}"
                for v in db.session.scalars(sa.select(Verification.public_id))
            ]
            + [f"/otp/purposes/{p.id}/edit" for p in otp_purposes()]
            + [
                path
                for t in db.session.scalars(sa.select(MessageTemplate.id))
                for path in (f"/templates/{t}", f"/templates/{t}/edit")
            ]
            # A policy's page includes its counters and events (the fragments of
            # /counters and /events, which refresh them).
            + [f"/throttle-policies/{p}{tail}" for p in policies for tail in ("", "/edit")]
            + [f"/providers/{p}{tail}" for p in providers for tail in ("/edit", "/delivery")],
        }


def otp_purposes():
    from kmsg_console.otp.models import VerificationPurpose

    return db.session.scalars(sa.select(VerificationPurpose)).all()


def _list_pages(app) -> list[str]:
    """Every GET page of the console that needs no argument (the API and probes aside)."""
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.endpoint == "static":
            continue
        if rule.rule.startswith("/api/") or rule.endpoint.startswith(("health.", "observability.")):
            continue
        if rule.rule.endswith(".csv"):
            continue
        if rule.endpoint == "providers.create":  # one form per vendor
            pages += [f"{rule.rule}?vendor={vendor}" for vendor in sorted(ADAPTERS)]
            continue
        pages.append(rule.rule)
    return sorted(pages)


def _problems(page) -> list[str]:
    problems = []
    for where, text in page.evaluate(VISIBLE_TEXT):
        for run in english_runs(text):
            problems.append(f"{where}: {run!r} in {text!r}")
        for value in raw_values(text):
            problems.append(f"{where}: raw {value} in {text!r}")
    return problems


def test_the_checker_finds_english_sentences_and_raw_values():
    assert english_runs("accepted for sending; outcome unknown") == [
        "accepted for sending outcome unknown"
    ]
    assert english_runs("SOLAPI AlimTalk SMS 발송 1021 admin@example.com") == []
    assert english_runs("Open the log") == ["Open the log"]
    assert english_runs("테스트 메시지: SENT") == [] and raw_values("테스트 메시지: SENT") == [
        "SENT"
    ]


def test_every_korean_page_is_korean(live_console, page):
    seeded = _seed(live_console.app)
    found: dict[str, list[str]] = {}

    # Argument-free GET routes include htmx fragments, which have no <head> with the console's
    # icon: Chromium then asks for /favicon.ico, which the console does not serve.
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page.goto(live_console.url("/login"))
    found["/login"] = _problems(page)
    sign_in(page, live_console, ADMIN)
    paths = [p for p in _list_pages(live_console.app) if p != "/login"]
    paths += [f"/send-logs/{m}" for m in seeded["messages"]] + seeded["details"]
    for path in paths:
        response = page.goto(live_console.url(path))
        page.wait_for_load_state("networkidle")
        found[path] = _problems(page) + ([] if response.status == 200 else [str(response.status)])
    # What a send answers: the flash of a refused console send, on the page it lands on.
    script_sandbox("sandbox", ["fail:INSUFFICIENT_BALANCE"])
    page.goto(live_console.url("/send"))
    page.fill("input[name=to]", "010-2345-6789")
    page.fill("textarea[name=text]", "[케이샵] 잔액 확인")
    page.click("form.send-form button[type=submit]")
    page.wait_for_url("**/send/preview")
    found["/send/preview"] = _problems(page)
    page.click(".send-preview button.primary")
    page.wait_for_url("**/send-logs/**")
    found["/send (refused)"] = _problems(page)
    assert page.locator(".flash-error").count() == 1
    for name, public_id in seeded["shots"].items():
        page.goto(live_console.url(f"/send-logs/{public_id}"))
        screenshot(page, f"korean_message_{name}")
    report = "\n".join(f"{path}\n  " + "\n  ".join(p) for path, p in found.items() if p)
    assert not report, report
    assert page.js_errors == []
