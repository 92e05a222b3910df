"""The framework-free advertising checks: the text's parts, the label helper, quiet hours."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import pytest

from kmsg_console.messaging.advertising import (
    AdPart,
    check_text,
    opt_out_lines,
    quiet_hours,
    with_label_and_footer,
)
from kmsg_console.messaging.types import MessageType
from kmsg_console.sending.request import SendRequest

L, N, OPT = AdPart.LABEL, AdPart.SENDER_NAME, AdPart.OPT_OUT_LINE


@pytest.mark.parametrize(
    "text, missing",
    [
        ("(광고) 케이샵\n세일\n무료수신거부 080-123-4567", ()),
        ("  (광고)케이샵 세일 무료거부 0801234567", ()),
        ("(광고) 케이샵 무료 수신 거부: 080-1234-5678", ()),
        ("(광고) 케이샵 무료거부 +82 80-123-4567", ()),
        ("(광고)\n케이샵 세일 무료거부 080-123-4567", (N,)),
        ("(광고) 무료수신거부 080-123-4567", (N,)),
        ("(광고) - \n세일 무료거부 080-123-4567", (N,)),
        ("(광 고) 케이샵 무료거부 080-123-4567", (L, N)),
        ("케이샵 (광고) 무료거부 080-123-4567", (L, N)),
        ("(광고) 케이샵 거부 080-123-4567", (OPT,)),
        ("(광고) 케이샵 무료거부 080-123-45678", (OPT,)),
        ("(광고) 케이샵 무료거부 02-123-4567", (OPT,)),
        ("", (L, N, OPT)),
        (None, (L, N, OPT)),
    ],
)
def test_the_parts_of_an_advertising_text(text, missing):
    assert check_text(text).missing == missing


def test_every_080_line_named_is_found_once():
    text = "무료거부 080-123-4567 / 무료수신거부 0801234567, 무료거부 080 9999 0000"
    assert opt_out_lines(text) == ("0801234567", "08099990000")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("세일", "(광고) 케이샵\n세일\n무료수신거부 080-123-4567"),
        ("", "(광고) 케이샵\n무료수신거부 080-123-4567"),
        ("(광고)\n세일", "(광고) 케이샵\n세일\n무료수신거부 080-123-4567"),
        ("(광고) 다른샵 세일", "(광고) 다른샵 세일\n무료수신거부 080-123-4567"),
        ("(광고) 케이샵 세일\n무료거부 080-000-1111", "(광고) 케이샵 세일\n무료거부 080-000-1111"),
    ],
)
def test_the_label_and_footer_are_added_once(text, expected):
    result = with_label_and_footer(text, "케이샵", "080-123-4567")
    assert result == expected and check_text(result).ok
    assert with_label_and_footer(result, "케이샵", "080-123-4567") == result


@pytest.mark.parametrize(
    "kind, at, quiet",
    [
        (MessageType.SMS, "20:59:59", False),
        (MessageType.SMS, "21:00:00", True),
        (MessageType.LMS, "23:59:59", True),
        (MessageType.SMS, "00:00:00", True),
        (MessageType.SMS, "07:59:59", True),
        (MessageType.SMS, "08:00:00", False),
        (MessageType.FRIENDTALK, "19:59:59", False),
        (MessageType.FRIENDTALK, "20:00:00", True),
        (MessageType.FRIENDTALK, "07:59:59", True),
        (MessageType.FRIENDTALK, "08:00:00", False),
    ],
)
def test_quiet_hours_boundaries_in_korea_time(kind, at, quiet):
    moment = datetime.fromisoformat(f"2026-12-08T{at}+09:00")
    assert quiet_hours(kind).contains(moment) is quiet


def test_quiet_hours_are_read_in_korea_time_whatever_the_zone():
    window = quiet_hours(MessageType.SMS)
    assert window.contains(datetime.fromisoformat("2026-12-08T12:00:00+00:00"))  # 21:00 KST
    assert not window.contains(datetime.fromisoformat("2026-12-08T23:00:00+00:00"))  # 08:00
    assert window.allowed == "08:00–21:00" and window.quiet == "21:00–08:00"


def test_the_next_allowed_moment():
    window = quiet_hours(MessageType.SMS)
    at = datetime.fromisoformat
    assert window.next_allowed(at("2026-12-08T22:00:00+09:00")) == at("2026-12-09T08:00:00+09:00")
    assert window.next_allowed(at("2026-12-09T03:00:00+09:00")) == at("2026-12-09T08:00:00+09:00")
    assert window.next_allowed(at("2026-12-09T10:00:00+09:00")) == at("2026-12-09T10:00:00+09:00")


def test_a_request_without_ad_keeps_its_earlier_fingerprint():
    request = SendRequest(to="01012345678", text="x")
    # The fingerprint as it was computed before ``ad`` existed.
    data = {k: v for k, v in request.__dict__.items() if k != "ad"}
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    assert request.fingerprint() == hashlib.sha256(canonical.encode()).hexdigest()
    assert SendRequest(to="01012345678", text="x", ad=True).fingerprint() != request.fingerprint()
