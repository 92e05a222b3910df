"""The detail page reads a message's stored timeline, warnings and notes in the operator's
language: the rows keep the English the writers stored, old rows included."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.orm import utcnow
from kmsg_console.sending.models import MessageEvent
from kmsg_console.sending.models import MessageLog as Log

KOREAN = {"Accept-Language": "ko"}
FALLBACK_ID = "6f1c1f0e-3d1b-4c55-9a43-1e4f5b2a7c10"

#: (kind, status, detail) exactly as the send engine and the worker store them.
STORED = [
    ("accepted", "UNKNOWN", "accepted for sending; outcome unknown until a provider answers"),
    ("status", "SENT", "accepted by sandbox"),
    ("status", "FAILED", "INSUFFICIENT_BALANCE: sandbox: scripted INSUFFICIENT_BALANCE"),
    ("status", "UNKNOWN", "NETWORK_TIMEOUT: outcome unknown (read timed out)"),
    ("status", "DELIVERED", "delivered (polling, code 4000)"),
    ("status", "DELIVERED", "delivered (webhook, code -)"),
    ("status", "FAILED", "delivery failed (polling): 3104 카카오톡 미사용자"),
    ("status", "CANCELLED", "cancelled at the vendor (webhook)"),
    ("status", "SENT", "polling: vendor reports SENT (3000)"),
    ("status", "UNKNOWN", "provider has no delivery-status API"),
    ("status", "SENT", "provider has no delivery-status API; tracking stopped"),
    ("status", "UNKNOWN", "TRACKING_TIMEOUT: no final status within 24 hours"),
    ("status", "UNKNOWN", "VENDOR_REPORTED_UNKNOWN: 상태 확인 불가"),
    ("status", "UNKNOWN", "MISSING_PROVIDER_MESSAGE_ID"),
    ("status", "UNKNOWN", "AUTHENTICATION_FAILED: status query refused"),
    (
        "status",
        "UNKNOWN",
        "REQUEST_ABORTED: the sending process ended while calling sandbox; "
        "the provider may have the message, so it is not sent again",
    ),
    ("status", "SENT", "accepted by sandbox (recorded after the sending process ended)"),
    (
        "status",
        "FAILED",
        "REQUEST_ABORTED: the sending process ended before another provider was called; "
        "nothing was sent",
    ),
    (
        "status",
        "UNKNOWN",
        "REQUEST_ABORTED: the sending process ended before recording the outcome",
    ),
    ("retry", "FAILED", "retry requested by ops@example.com"),
    ("sent_again", "UNKNOWN", f"sent again as {FALLBACK_ID} by ops@example.com"),
    (
        "fallback",
        "FAILED",
        "recipient cannot get Kakao, but no fallback text was stored (OTP codes never are)",
    ),
    ("fallback", "FAILED", "FALLBACK_CONTENT_MISSING: fallback was requested without a text"),
    ("fallback", "FAILED", "the provider already sent its own substitute SMS"),
    ("fallback", "FAILED", "fallback is turned off for provider solapi-main"),
    ("fallback", "FAILED", "recipient cannot get Kakao: SMS/LMS fallback scheduled"),
    ("fallback", "FAILED", "fallback claimed; sending"),
    ("fallback", "FAILED", "a fallback message already exists"),
    ("fallback", "FAILED", "fallback refused: invalid_request: The text is empty."),
    ("fallback", "FAILED", f"fallback SMS {FALLBACK_ID}: SENT"),
]

_TIMELINE = re.compile(r'<ol class="timeline">(.*?)</ol>', re.S)
_LEFT_OUT = re.compile(r'<code>.*?</code>|<span class="muted" translate="no">.*?</span>', re.S)


def _timeline(html: str) -> list[str]:
    """The timeline's entries as the operator reads them, a vendor's own words left out."""
    items = re.findall(r"<li[^>]*>(.*?)</li>", _TIMELINE.search(html).group(1), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", _LEFT_OUT.sub(" ", i)).split()) for i in items]


@pytest.fixture
def stored_timeline(app, add_log):
    public_id = add_log(status="FAILED", error_code="INSUFFICIENT_BALANCE")
    with app.app_context():
        log = db.session.query(Log).filter_by(public_id=public_id).one()
        log.events.clear()
        start = utcnow() - timedelta(hours=1)
        for n, (kind, status, detail) in enumerate(STORED):
            log.events.append(
                MessageEvent(
                    at=start + timedelta(minutes=n), kind=kind, status=status, detail=detail
                )
            )
        db.session.commit()
    return public_id


def test_every_stored_detail_reads_as_korean(console, stored_timeline):
    console.login(Role.VIEWER)
    html = console.client.get(f"/send-logs/{stored_timeline}", headers=KOREAN).get_data(
        as_text=True
    )
    entries = _timeline(html)
    assert len(entries) == len(STORED)
    for (_kind, _status, detail), shown in zip(STORED, entries, strict=True):
        english = re.findall(r"\b[a-z]{2,}(?: [a-z]{2,}){2,}", shown)
        assert not english, (detail, shown)
        assert not re.search(
            r"\b(SENT|FAILED|UNKNOWN|INSUFFICIENT_BALANCE|NETWORK_TIMEOUT)\b", shown
        )
    assert "접수" in entries[0] and "아직 발송사를 호출하지 않았습니다" in entries[0]
    assert "잔액 부족" in entries[2]
    assert "대체 발송" in entries[-1] and "발송됨" in entries[-1]
    # What the vendor said stays as it came, apart from the translated sentence.
    assert '<span class="muted" translate="no">카카오톡 미사용자</span>' in html
    assert f'href="/send-logs/{FALLBACK_ID}"' in html


def test_the_received_entry_has_no_status_badge(console, stored_timeline):
    console.login(Role.VIEWER)
    html = console.client.get(f"/send-logs/{stored_timeline}").get_data(as_text=True)
    received = re.search(r'<li data-kind="accepted">(.*?)</li>', html, re.S).group(1)
    assert (
        "data-status" not in received and "Received; no provider has been called yet." in received
    )
    sent = re.search(r'<li data-kind="status">(.*?)</li>', html, re.S).group(1)
    assert 'data-status="SENT"' in sent and "Accepted by sandbox." in sent


def test_an_unknown_detail_is_shown_as_stored(console, add_log):
    public_id = add_log(status="SENT")  # its one event's detail is "seeded"
    console.login(Role.VIEWER)
    html = console.client.get(f"/send-logs/{public_id}", headers=KOREAN).get_data(as_text=True)
    [entry] = _timeline(html)
    assert entry.endswith("상태 변경 seeded")


def test_error_codes_warnings_and_attempt_notes_in_korean(console, add_log):
    public_id = add_log(
        status="UNKNOWN",
        error_code="REQUEST_ABORTED",
        warnings=[
            {
                "code": "AUTO_LMS_UPGRADE",
                "message": "The text is 120 bytes, over the 90-byte SMS limit, so it is sent as LMS.",
            },
            {
                "code": "SUBJECT_IGNORED",
                "message": "An SMS has no subject; the subject is ignored.",
            },
        ],
        attempts=[
            {
                "outcome": "unknown",
                "error_code": "REQUEST_ABORTED",
                "error_message": "the sending process ended during the provider call",
            }
        ],
    )
    console.login(Role.OPERATOR)
    html = console.client.get(f"/send-logs/{public_id}", headers=KOREAN).get_data(as_text=True)
    assert "<code>REQUEST_ABORTED</code> 요청 중단" in html
    assert "120바이트" in html and "over the 90-byte" not in html
    assert "SMS에는 제목이 없" in html and "has no subject" not in html
    assert "the sending process ended during the provider call" not in html
    listing = console.client.get("/send-logs", headers=KOREAN).get_data(as_text=True)
    assert '<option value="INSUFFICIENT_BALANCE">잔액 부족</option>' in listing
