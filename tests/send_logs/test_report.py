"""/send-logs/failures: failed messages per error code and provider over local hours or days."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from kmsg_console.operators.models import Role
from kmsg_console.orm import utcnow
from kmsg_console.send_logs import report


def test_hourly_buckets_end_with_the_current_hour(app):
    now = datetime(2026, 11, 25, 9, 41, tzinfo=UTC)  # 18:41 in Seoul
    with app.test_request_context():
        spans = report.buckets("24h", now)
    assert len(spans) == 24
    assert (
        spans[-1].start == datetime(2026, 11, 25, 9, 0, tzinfo=UTC) and spans[-1].label == "18:00"
    )
    assert spans[0].start == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert all(a.end == b.start for a, b in zip(spans, spans[1:], strict=False))


def test_daily_buckets_follow_the_operators_calendar_across_dst(app):
    app.config["DEFAULT_TIMEZONE"] = "America/New_York"
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    with app.test_request_context():
        spans = report.buckets("7d", now)
    assert [s.label for s in spans] == [
        "03-04",
        "03-05",
        "03-06",
        "03-07",
        "03-08",
        "03-09",
        "03-10",
    ]
    assert spans[0].start == datetime(2026, 3, 4, 5, 0, tzinfo=UTC)  # midnight EST
    dst_day = spans[4]  # 2026-03-08: clocks go forward, the day has 23 hours
    assert dst_day.end - dst_day.start == timedelta(hours=23)
    assert spans[-1].start == datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # midnight EDT


@pytest.fixture
def failures(add_log, add_provider):
    """Failed messages in three hours of the last day, plus rows the grid must not count."""
    add_provider("iwinv-main", "iwinv")
    now = utcnow()
    hour = now.replace(minute=0, second=0, microsecond=0)
    for minutes in (1, 2, 3):
        add_log(
            status="FAILED",
            error_code="AUTHENTICATION_FAILED",
            vendor_code="15",
            provider_code="iwinv-main",
            created_at=hour + timedelta(minutes=minutes)
            if hour + timedelta(minutes=minutes) <= now
            else hour,
        )
    add_log(
        status="FAILED",
        error_code="AUTHENTICATION_FAILED",
        vendor_code="15",
        provider_code="iwinv-main",
        created_at=hour - timedelta(hours=2, minutes=-5),
    )
    add_log(
        status="FAILED",
        error_code="NETWORK_ERROR",
        provider_code="sandbox",
        created_at=hour - timedelta(hours=5, minutes=-1),
    )
    add_log(
        status="FAILED",
        error_code="NETWORK_ERROR",
        provider_code="sandbox",
        created_at=now - timedelta(days=3),
    )  # outside 24h
    add_log(
        status="UNKNOWN", error_code="NETWORK_TIMEOUT", provider_code="sandbox", created_at=hour
    )  # not FAILED
    add_log(status="DELIVERED", created_at=hour)
    return now


def test_report_counts_failed_messages_per_code_provider_and_hour(app, failures):
    with app.test_request_context():
        result = report.failure_report("24h", now=failures)
    grid = {(r.error_code, r.vendor_code, r.provider): r.counts for r in result.rows}
    assert set(grid) == {
        ("AUTHENTICATION_FAILED", "15", "iwinv-main"),
        ("NETWORK_ERROR", None, "sandbox"),
    }
    auth = grid[("AUTHENTICATION_FAILED", "15", "iwinv-main")]
    assert auth[-1] == 3 and auth[-3] == 1 and sum(auth) == 4
    network = grid[("NETWORK_ERROR", None, "sandbox")]
    assert network[-6] == 1 and sum(network) == 1
    assert result.rows[0].error_code == "AUTHENTICATION_FAILED"  # biggest first
    assert result.status_counts == {"FAILED": 5, "UNKNOWN": 1, "DELIVERED": 1}
    assert result.column_totals[-1] == 3
    top = result.vendor_codes[0]
    assert (top.provider, top.vendor_code, top.count) == ("iwinv-main", "15", 4)
    assert (
        top.explanation.meaning == "Request from an IP address that is not registered."
    )  # IWINV SMS code 15


def test_groups_carry_their_share_of_the_providers_traffic_and_first_and_last_seen(app, failures):
    with app.test_request_context():
        result = report.failure_report("24h", now=failures)
    auth, network = result.rows
    hour = failures.replace(minute=0, second=0, microsecond=0)
    assert (auth.provider_total, auth.share) == (4, 1.0)  # every iwinv-main message failed
    assert network.provider_total == 3 and round(network.share, 3) == 0.333  # 1 of sandbox's 3
    assert auth.first_seen == hour - timedelta(hours=2, minutes=-5)
    assert auth.last_seen <= failures and auth.last_seen >= hour
    assert network.first_seen == network.last_seen == hour - timedelta(hours=5, minutes=-1)
    assert result.total_messages == 7 and round(result.failure_share, 3) == round(5 / 7, 3)


def test_report_page_lists_groups_with_share_and_a_chart(console, failures):
    console.login(Role.VIEWER)
    text = console.client.get("/send-logs/failures?period=24h").get_data(as_text=True)
    row = re.search(
        r'<tr data-group="AUTHENTICATION_FAILED/15/iwinv-main">(.*?)</tr>', text, re.S
    ).group(1)
    assert "100.0%" in row
    link = re.search(r'href="([^"]+)"', row).group(1).replace("&amp;", "&")
    assert "vendor_code=15" in link and "provider=iwinv-main" in link
    listed = console.client.get(link).get_data(as_text=True)
    assert len(re.findall(r'id="message-', listed)) == 4
    bars = [int(n) for n in re.findall(r'<g data-label="[^"]+" data-total="(\d+)"', text)]
    assert len(bars) == 24 and sum(bars) == 5 and bars[-1] == 3


def test_report_page_links_each_cell_to_exactly_its_messages(console, failures):
    console.login(Role.VIEWER)
    response = console.client.get("/send-logs/failures?period=24h")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "whitelist" in text.lower() or "allow-list" in text  # the vendor code's suggested fix
    cells = re.findall(r'<td class="num heat-(\d)">\s*<a href="([^"]+)">(\d+)</a>', text)
    assert cells, text
    for _level, href, count in cells:
        listed = console.client.get(href.replace("&amp;", "&")).get_data(as_text=True)
        assert len(re.findall(r'id="message-', listed)) == int(count), href
    assert max(int(level) for level, _href, _count in cells) == 4


def test_report_type_filter_and_periods(console, add_log):
    add_log(
        status="FAILED",
        error_code="TEMPLATE_NOT_FOUND",
        type="ALIMTALK",
        created_at=utcnow() - timedelta(days=2),
    )
    console.login(Role.VIEWER)
    assert "TEMPLATE_NOT_FOUND" not in console.client.get("/send-logs/failures").get_data(
        as_text=True
    )  # default 24h
    week = console.client.get("/send-logs/failures?period=7d&type=ALIMTALK").get_data(as_text=True)
    assert "TEMPLATE_NOT_FOUND" in week
    assert "TEMPLATE_NOT_FOUND" not in console.client.get(
        "/send-logs/failures?period=7d&type=SMS"
    ).get_data(as_text=True)
    fragment = console.client.get(
        "/send-logs/failures?period=30d", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "<form" not in fragment and "TEMPLATE_NOT_FOUND" in fragment


def test_bad_period_is_422(console):
    console.login(Role.VIEWER)
    response = console.client.get("/send-logs/failures?period=1y")
    assert response.status_code == 422 and "Not a valid choice" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "count, maximum, level",
    [(0, 10, 0), (1, 100, 1), (25, 100, 1), (26, 100, 2), (100, 100, 4), (3, 3, 4)],
)
def test_heat_levels(count, maximum, level):
    assert report.heat_level(count, maximum) == level
