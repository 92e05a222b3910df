"""The dashboard: today's and the week's outcomes, failures by code, providers, OTP, worker."""

from __future__ import annotations

import re
from datetime import timedelta

from kmsg_console import sending
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.orm import utcnow
from kmsg_console.otp import services as otp
from kmsg_console.providers import services as provider_services
from kmsg_console.throttle.services import ensure_default_policies


def _figure(html: str, section: str, name: str) -> str:
    block = re.search(rf'id="{section}".*?</section>', html, re.S).group(0)
    return re.search(rf'data-figure="{name}"[^>]*>\s*([^<]+?)\s*<', block).group(1)


def _seed_week(add_log):
    now = utcnow()
    for status in ("SENT", "DELIVERED", "DELIVERED", "FAILED", "UNKNOWN"):
        add_log(
            status=status,
            created_at=now - timedelta(minutes=1),
            error_code="NETWORK_ERROR" if status == "FAILED" else None,
        )
    for _ in range(3):
        add_log(
            status="FAILED", error_code="INSUFFICIENT_BALANCE", created_at=now - timedelta(days=3)
        )
    add_log(status="SENT", created_at=now - timedelta(days=3))
    add_log(
        status="FAILED", error_code="INVALID_REQUEST", created_at=now - timedelta(days=10)
    )  # outside


def test_figures_for_today_and_the_week(console, add_log):
    console.login(Role.VIEWER)
    _seed_week(add_log)
    html = console.client.get("/").get_data(as_text=True)
    assert _figure(html, "today", "total") == "5"
    assert _figure(html, "today", "success-rate") == "60.0%"  # 3 of 5 accepted
    assert _figure(html, "today", "failed") == "1"
    assert _figure(html, "today", "unknown") == "1"
    assert _figure(html, "week", "total") == "9"
    assert _figure(html, "week", "failed") == "4"
    assert _figure(html, "week", "success-rate") == "44.4%"


def test_failures_by_code_are_ranked_with_their_share_and_link_to_the_logs(console, add_log):
    console.login(Role.VIEWER)
    _seed_week(add_log)
    html = console.client.get("/").get_data(as_text=True)
    block = re.search(r'id="top-errors".*?</section>', html, re.S).group(0)
    codes = re.findall(r"<code>([A-Z_]+)</code>", block)
    assert codes == ["INSUFFICIENT_BALANCE", "NETWORK_ERROR"]  # the 10-day-old one is outside
    assert "33.3%" in block  # 3 of 9 messages this week
    link = re.search(r'href="([^"]*error_code=INSUFFICIENT_BALANCE[^"]*)"', block).group(1)
    assert "status=FAILED" in link and "since=" in link
    listed = console.client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert listed.count('data-status="FAILED"') >= 3


def test_the_chart_stacks_each_days_outcomes(console, add_log):
    console.login(Role.VIEWER)
    _seed_week(add_log)
    html = console.client.get("/").get_data(as_text=True)
    totals = [int(n) for n in re.findall(r'<g data-label="[^"]+" data-total="(\d+)"', html)]
    assert len(totals) == 7 and totals[-1] == 5 and sum(totals) == 9
    today = re.findall(r'<g data-label="[^"]+" data-total="5">(.*?)</g>', html, re.S)[0]
    assert [kind for kind in re.findall(r'class="seg-(\w+)"', today)] == [
        "accepted",
        "unknown",
        "failed",
    ]


def test_provider_latency_and_failures_over_the_last_day(console, add_log, add_provider):
    console.login(Role.VIEWER)
    add_provider("solapi-main", "solapi")
    now = utcnow()
    for latency in (100, 200, 300, 400):
        add_log(
            provider_code="solapi-main",
            created_at=now - timedelta(hours=1),
            attempts=[{"outcome": "accepted", "latency_ms": latency}],
        )
    add_log(
        provider_code="solapi-main",
        status="FAILED",
        created_at=now - timedelta(hours=2),
        attempts=[{"outcome": "failed", "latency_ms": 1000}],
    )
    add_log(
        provider_code="solapi-main",
        created_at=now - timedelta(days=2),  # older than 24 h
        attempts=[{"outcome": "failed", "latency_ms": 9000}],
    )
    html = console.client.get("/").get_data(as_text=True)
    row = re.search(r'<tr data-provider="solapi-main">(.*?)</tr>', html, re.S).group(1)
    cells = [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r'<td class="num">(.*?)</td>', row, re.S)
    ]
    assert cells[0] == "5"  # attempts in the last 24 hours
    assert cells[1].startswith("1") and "20.0%" in cells[1]
    assert cells[2] == "300 ms"  # median (nearest rank of 100, 200, 300, 400, 1000)
    assert cells[3] == "1000 ms"  # 95th percentile
    # The attempts link lists every message tried there, failed-over ones included.
    assert re.search(r'href="/send-logs\?attempted=solapi-main&amp;since=[^"]+">5</a>', row)
    # The failure count opens the messages whose attempt there failed or ended unknown.
    link = (
        re.search(r'href="([^"]+)" data-figure="not-accepted">1</a>', row)
        .group(1)
        .replace("&amp;", "&")
    )
    assert "attempted=solapi-main" in link and "attempt_outcome=not_accepted" in link
    listed = console.client.get(link).get_data(as_text=True)
    assert (
        len(re.findall(r'id="message-[0-9a-f-]{36}"', listed)) == 1
        and 'data-status="FAILED"' in listed
    )


def test_an_empty_console_says_so_and_shows_the_worker_state(console):
    console.login(Role.VIEWER)
    html = console.client.get("/").get_data(as_text=True)
    assert "No messages in the last 7 days." in html
    assert 'id="worker-health"' in html and "Not running" in html
    assert "No verifications in the last 7 days." in html
    # A viewer gets no link to pages it may not open.
    assert 'href="/otp"' not in html and 'href="/providers"' not in html


def test_operators_see_links_to_their_pages(console):
    console.login(Role.ADMIN)
    html = console.client.get("/").get_data(as_text=True)
    assert 'href="/otp"' in html and 'href="/providers"' in html


def test_otp_conversion_counts_started_and_approved(app, console):
    console.login(Role.VIEWER)
    with app.test_request_context():
        provider_services.ensure_sandbox_provider()
        otp.ensure_default_purposes()
        ensure_default_policies()
        db.session.commit()
        first = otp.start(phone="010-3333-4444", purpose_code="login").public_id
        db.session.commit()
        code = re.search(
            r"\[(\d+)\]", sending.sandbox_inbox("010-3333-4444", limit=1)[0]["text"]
        ).group(1)
        otp.start(phone="010-5555-6666", purpose_code="signup")
        db.session.commit()
        assert otp.check(first, code).status == "approved"
        db.session.commit()
    html = console.client.get("/").get_data(as_text=True)
    block = re.search(r'id="otp-conversion".*?</section>', html, re.S).group(0)
    assert "50%" in block and "1/2" in block
