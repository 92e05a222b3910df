"""The live byte counter: CP949 bytes, the SMS/LMS decision, limits and warnings."""

from __future__ import annotations

import re

import pytest

from kmsg_console.operators.models import Role


def _count(console, **form):
    response = console.htmx_post("/send/count", data=form)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _decided_type(html: str) -> str:
    return re.search(r'data-type="(\w+)"', html).group(1)


@pytest.mark.parametrize(
    ("text", "kind", "shown", "decided"),
    [
        ("", "", "0 / 90 bytes", "SMS"),
        ("a" * 90, "", "90 / 90 bytes", "SMS"),
        ("a" * 91, "", "91 / 2000 bytes", "LMS"),
        ("가" * 45, "", "90 / 90 bytes", "SMS"),  # Hangul: 2 bytes each
        ("가" * 45 + "a", "", "91 / 2000 bytes", "LMS"),
        ("똠" * 3, "", "6 / 90 bytes", "SMS"),  # CP949 extended Hangul is still 2 bytes
        ("a" * 10, "LMS", "10 / 2000 bytes", "LMS"),
        ("a" * 2000, "LMS", "2000 / 2000 bytes", "LMS"),
    ],
)
def test_counter_counts_cp949_bytes_and_decides_the_type(console, text, kind, shown, decided):
    console.login(Role.OPERATOR)
    html = _count(console, text=text, type=kind, subject="")
    assert shown in html
    assert _decided_type(html) == decided
    assert 'class="error"' not in html


def test_counter_says_when_length_switched_to_lms(console):
    console.login(Role.OPERATOR)
    assert "goes as LMS" not in _count(console, text="가" * 45, type="")
    assert "over 90 bytes, so it goes as LMS" in _count(console, text="가" * 46, type="")


def test_explicit_sms_over_90_bytes_is_flagged(console):
    console.login(Role.OPERATOR)
    html = _count(console, text="가" * 45 + "a", type="SMS")
    assert "91 / 90 bytes" in html
    assert _decided_type(html) == "SMS"
    assert "Too long for an SMS (limit 90 bytes)" in html


def test_lms_over_2000_bytes_is_flagged(console):
    console.login(Role.OPERATOR)
    html = _count(console, text="가" * 1000 + "a", type="")
    assert "2001 / 2000 bytes" in html
    assert "Too long: the LMS limit is 2000 bytes." in html


def test_emoji_and_other_non_cp949_characters_are_warned_about(console):
    console.login(Role.OPERATOR)
    html = _count(console, text="확인 😀 ✅", type="")
    assert "10 / 90 bytes" in html  # 4 + 1 + 2 + 1 + 2: unencodable characters count 2 bytes
    assert "Not in EUC-KR" in html
    assert "😀" in html and "✅" in html
    assert "Not in EUC-KR" not in _count(console, text="확인 완료", type="")


def test_browser_line_breaks_count_as_one_byte(console):
    console.login(Role.OPERATOR)
    assert "3 / 90 bytes" in _count(console, text="a\r\nb", type="")


def test_subject_bytes_are_counted_against_40(console):
    console.login(Role.OPERATOR)
    html = _count(console, text="a" * 100, subject="공지", type="")
    assert "Subject: 4 / 40 bytes" in html
    over = _count(console, text="a" * 100, subject="가" * 21, type="LMS")
    assert "Subject: 42 / 40 bytes" in over
    assert "The subject is over 40 bytes." in over


def test_subject_of_an_sms_is_said_to_be_ignored(console):
    console.login(Role.OPERATOR)
    html = _count(console, text="short", subject="공지", type="")
    assert "An SMS has no subject; the subject is ignored." in html


def test_compose_page_wires_the_counter_with_htmx(console):
    console.login(Role.OPERATOR)
    response = console.client.get("/send")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    textarea = re.search(r"<textarea[^>]*>", html).group(0)
    assert 'hx-post="/send/count"' in textarea
    assert 'hx-trigger="input changed delay:250ms"' in textarea
    assert 'hx-target="#byte-counter"' in textarea
    assert 'id="byte-counter"' in html and "0 / 90 bytes" in html  # works before any JS runs


def test_viewer_cannot_use_the_counter(console):
    console.login(Role.VIEWER)
    assert console.htmx_post("/send/count", data={"text": "a"}).status_code == 403


def test_counter_without_csrf_token_is_refused(console):
    console.login(Role.OPERATOR)
    response = console.client.post(
        "/send/count", data={"text": "a"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 400
