"""The preview step: final text, effective type, bytes, provider chain, warnings; errors keep input."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from tests.manual_send.conftest import message_logs


def _form(**overrides):
    data = {
        "to": "+82 10-1234-5678",
        "type": "",
        "subject": "",
        "text": "[kmsg] 주문이 접수되었습니다.",
        "sender": "",
        "provider": "",
    }
    data.update(overrides)
    return data


def _hidden(html: str) -> dict[str, str]:
    fields = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html)
    return {name: html_lib.unescape(value) for name, value in fields}


def test_preview_shows_text_type_bytes_and_the_routing_chain(
    app, console, sandbox, add_sandbox, operator
):
    add_sandbox("sandbox-b", "Backup sandbox", sms_route=["sandbox-b", "sandbox"])
    response = console.post("/send/preview", data=_form())
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "010-1234-5678" in html  # the normalized recipient
    assert "[kmsg] 주문이 접수되었습니다." in html
    assert 'data-type="SMS"' in html and "decided by length" in html
    assert "29 / 90 bytes" in html  # 9 ASCII bytes + 10 Hangul × 2
    chain = re.findall(r'<li data-provider="([\w-]+)">.*?badge[^>]*>(\w+)<', html, re.S)
    assert chain == [("sandbox-b", "Primary"), ("sandbox", "Failover")]
    assert "Backup sandbox" in html
    assert message_logs(app) == []  # a preview sends nothing and logs nothing


def test_preview_carries_every_value_and_the_csrf_token(console, sandbox, operator):
    text = '첫 줄\n둘째 줄 "따옴표" <b>'
    response = console.post("/send/preview", data=_form(text=text, sender="02-1234-5678"))
    html = response.get_data(as_text=True)
    hidden = _hidden(html)
    assert hidden["to"] == "+82 10-1234-5678"
    assert hidden["text"] == text
    assert hidden["sender"] == "02-1234-5678"
    assert hidden["csrf_token"]
    assert 'action="/send"' in html
    assert 'formaction="/send/edit"' in html
    assert (
        "&lt;b&gt;" in html
        and "<b>" not in html.split('class="message-text">')[1].split("</pre>")[0]
    )


def test_long_korean_text_is_previewed_as_lms_with_the_upgrade_warning(console, sandbox, operator):
    html = console.post("/send/preview", data=_form(text="가" * 46, subject="공지")).get_data(
        as_text=True
    )
    assert 'data-type="LMS"' in html
    assert "92 / 2000 bytes" in html
    assert "The text is 92 bytes, over the 90-byte SMS limit, so it is sent as LMS." in html
    assert "공지" in html


def test_preview_warns_about_characters_outside_cp949(console, sandbox, operator):
    html = console.post("/send/preview", data=_form(text="완료 😀")).get_data(as_text=True)
    assert "may arrive as &#39;?&#39;" in html or "may arrive as '?'" in html
    assert "Characters outside EUC-KR: 😀" in html


def test_preview_of_an_sms_with_a_subject_says_it_is_ignored(console, sandbox, operator):
    html = console.post("/send/preview", data=_form(type="SMS", subject="공지")).get_data(
        as_text=True
    )
    assert "An SMS has no subject; the subject is ignored." in html


def test_explicit_provider_is_used_alone(console, sandbox, add_sandbox, operator):
    add_sandbox("sandbox-b", "Backup sandbox", sms_route=["sandbox-b", "sandbox"])
    html = console.post("/send/preview", data=_form(provider="sandbox")).get_data(as_text=True)
    assert re.findall(r'<li data-provider="([\w-]+)">', html) == ["sandbox"]
    assert "used alone, without failover" in html


def test_invalid_recipient_is_a_field_error_and_keeps_what_was_typed(console, sandbox, operator):
    response = console.post(
        "/send/preview", data=_form(to="010-12", text="보존할 본문", subject="제목")
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "010-12 is not a valid Korean phone number." in html
    assert 'value="010-12"' in html
    assert "보존할 본문</textarea>" in html
    assert 'value="제목"' in html


def test_sms_over_90_bytes_is_refused_with_the_reason(console, sandbox, operator):
    response = console.post("/send/preview", data=_form(type="SMS", text="가" * 45 + "a"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "SMS text is 91 bytes; the limit is 90. Send it as LMS." in html
    assert '<option selected value="SMS">' in html
    assert "91 / 90 bytes" in html  # the counter is rendered for the kept text


def _error_texts(html: str) -> list[str]:
    """Every error message on the page: field errors and the counter's notes."""
    return [
        " ".join(text.split())
        for text in re.findall(r'<(?:p|li) class="error[^"]*"[^>]*>([^<]+)<', html)
    ]


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"type": "LMS", "text": "a" * 2001}, "LMS text is 2001 bytes; the limit is 2000."),
        ({"type": "", "text": "가" * 1001}, "LMS text is 2002 bytes; the limit is 2000."),
        (
            {"type": "SMS", "text": "가" * 45 + "a"},
            "SMS text is 91 bytes; the limit is 90. Send it as LMS.",
        ),
        ({"type": "LMS", "text": "본문", "subject": "제" * 21}, "Subject is 42 bytes"),
    ],
)
def test_an_over_length_refusal_is_shown_once(console, sandbox, operator, overrides, message):
    response = console.post("/send/preview", data=_form(**overrides))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    errors = _error_texts(html)
    assert len(errors) == 1 and message in errors[0], errors


def test_missing_text_and_recipient_are_required(console, sandbox, operator):
    response = console.post("/send/preview", data=_form(to="", text=""))
    assert response.status_code == 422
    assert response.get_data(as_text=True).count('role="alert"') >= 2


def test_unknown_or_disabled_provider_cannot_be_chosen(console, sandbox, add_sandbox, operator):
    add_sandbox("sandbox-off", "Disabled sandbox", enabled=False)
    html = console.client.get("/send").get_data(as_text=True)
    assert 'value="sandbox"' in html and "sandbox-off" not in html
    response = console.post("/send/preview", data=_form(provider="sandbox-off"))
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)


def test_without_any_provider_the_preview_says_so(console, operator):
    response = console.post("/send/preview", data=_form())
    assert response.status_code == 422
    assert "No enabled provider can send this type of message." in response.get_data(as_text=True)


def test_edit_returns_to_the_form_with_the_values(console, sandbox, operator):
    response = console.post("/send/edit", data=_form(text="고칠 본문", type="LMS", subject="제목"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "고칠 본문</textarea>" in html
    assert '<option selected value="LMS">' in html
    assert 'value="+82 10-1234-5678"' in html
    assert 'role="alert"' not in html
