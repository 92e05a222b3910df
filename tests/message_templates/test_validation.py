"""Each validation rule, with the field it lands on and a message an operator understands."""

from __future__ import annotations

import pytest

from kmsg_console.message_templates.validation import errors, hints, link_is_valid, validate
from tests.message_templates.conftest import template_data

WL = {
    "row": "0",
    "type": "WL",
    "name": "주문 보기",
    "link_mobile": "https://shop.example.com/o/#{order}",
}


def _messages(issues, field=None):
    return [i.message % dict(i.params) for i in issues if field is None or i.field == field]


def test_a_valid_template_has_no_errors():
    assert (
        errors(validate(template_data(provider_vendor="solapi", sender_profile="pf", buttons=[WL])))
        == []
    )


@pytest.mark.parametrize(
    "overrides, field, text",
    [
        ({"name": ""}, "name", "Enter a name."),
        ({"name": "x" * 101}, "name", "At most 100 characters."),
        (
            {"name": "알림톡 주문 접수 안내 메시지입니다", "provider_vendor": "iwinv"},
            "name",
            "IWINV allows template names of at most 15 characters.",
        ),
        ({"content": "  "}, "content", "Enter the message text."),
        (
            {"content": "가" * 1001},
            "content",
            "AlimTalk text is 1001 characters; the limit is 1000.",
        ),
        ({"content": "#{} 안녕하세요"}, "content", "A variable needs a name between #{ and }."),
        ({"content": "안녕 #{name 님"}, "content", "A variable is not closed with }."),
        (
            {"content": "#{user.name}님", "provider_vendor": "solapi", "sender_profile": "pf"},
            "content",
            "SOLAPI does not accept a '.' in variable names: user.name",
        ),
        (
            {"content": "#{a<b>}"},
            "content",
            "Variable names use letters, digits, spaces, - and _ only (at most 30): a<b>",
        ),
        (
            {"provider_vendor": None},
            "provider",
            "Choose the provider that registers this AlimTalk template.",
        ),
        (
            {"provider_vendor": "aligo"},
            "sender_profile",
            "Enter the Kakao channel's sender profile (pfId or senderKey).",
        ),
        (
            {"provider_vendor": "solapi", "sender_profile": "pf", "category_code": None},
            "category_code",
            "SOLAPI needs Kakao's category code, e.g. 001002 for sign-in and authentication.",
        ),
        (
            {"category_code": "abc"},
            "category_code",
            "A Kakao category code is digits only, e.g. 001002.",
        ),
        ({"plus_id": "myshop"}, "plus_id", "A channel id starts with @, e.g. @myshop."),
        (
            {"message_type": "EX"},
            "extra_info",
            "Extra-information and mixed templates need the extra information text.",
        ),
        ({"emphasis_type": "TEXT"}, "emphasis_title", "An emphasized title needs the title text."),
        (
            {"message_type": "AD", "provider_vendor": "iwinv"},
            "message_type",
            "IWINV registers basic templates only through its API.",
        ),
        (
            {
                "emphasis_type": "TEXT",
                "emphasis_title": "12:00",
                "provider_vendor": "aligo",
                "sender_profile": "k",
            },
            "emphasis_type",
            "Aligo registers templates without emphasis only through its API.",
        ),
        (
            {"category": "AUTHENTICATION", "content": "[#{brand}] 로그인 안내"},
            "content",
            "An authentication template carries the code in a variable, e.g. #{code} or #{인증번호}.",
        ),
    ],
)
def test_each_rule_blocks_with_a_field_message(overrides, field, text):
    issues = errors(validate(template_data(**{"provider_vendor": "sandbox", **overrides})))
    assert text in _messages(issues, field), _messages(issues)


@pytest.mark.parametrize(
    "button, field, text",
    [
        ({"type": "", "name": "x"}, "buttons-0-type", "Choose the button type."),
        ({"type": "WL", "name": ""}, "buttons-0-name", "Enter the button name."),
        (
            {"type": "WL", "name": "열다섯글자가넘는버튼이름입니다", "link_mobile": "https://a.kr"},
            "buttons-0-name",
            "A button name has at most 14 characters.",
        ),
        (
            {"type": "WL", "name": "#{name} 보기", "link_mobile": "https://a.kr"},
            "buttons-0-name",
            "A button name cannot contain variables.",
        ),
        ({"type": "WL", "name": "보기"}, "buttons-0-link_mobile", "A WL button needs this link."),
        (
            {"type": "AL", "name": "앱", "link_ios": "myapp://home"},
            "buttons-0-link_android",
            "A AL button needs this link.",
        ),
        (
            {"type": "WL", "name": "보기", "link_mobile": "shop.example.com"},
            "buttons-0-link_mobile",
            "Enter a full URL starting with http:// or https://.",
        ),
        (
            {
                "type": "WL",
                "name": "보기",
                "link_mobile": "https://a.kr",
                "link_pc": "javascript:alert(1)",
            },
            "buttons-0-link_pc",
            "Enter a full URL starting with http:// or https://.",
        ),
        (
            {"type": "DS", "name": "배송조회", "link_mobile": "https://a.kr"},
            "buttons-0-link_mobile",
            "Only web and app link buttons have links.",
        ),
        (
            {"type": "WL", "name": "보기", "link_mobile": "https://a.kr/" + "x" * 200},
            "buttons-0-link_mobile",
            "A link has at most 200 characters.",
        ),
    ],
)
def test_button_rules(button, field, text):
    issues = errors(
        validate(template_data(provider_vendor="sandbox", buttons=[{"row": "0", **button}]))
    )
    assert text in _messages(issues, field), _messages(issues)


def test_at_most_five_buttons():
    six = [{**WL, "row": str(i)} for i in range(6)]
    assert "At most 5 buttons." in _messages(
        errors(validate(template_data(provider_vendor="sandbox", buttons=six)))
    )


def test_solapi_links_are_shorter():
    long_link = {**WL, "link_mobile": "https://a.kr/" + "x" * 95}
    issues = errors(
        validate(template_data(provider_vendor="solapi", sender_profile="pf", buttons=[long_link]))
    )
    assert "A link has at most 100 characters." in _messages(issues, "buttons-0-link_mobile")


@pytest.mark.parametrize(
    "link, app, ok",
    [
        ("https://shop.example.com/orders/#{order}", False, True),
        ("http://localhost:8000/x", False, True),
        ("https://", False, False),
        ("ftp://example.com", False, False),
        ("myapp://orders/1", True, True),
        ("myapp://orders/1", False, False),
        ("https://exa mple.com", False, False),
    ],
)
def test_link_validity(link, app, ok):
    assert link_is_valid(link, app_link=app) is ok


def test_sms_and_lms_byte_limits_exclude_variables():
    long_sms = template_data(kind="SMS", content="가" * 46 + "#{name}", provider_vendor=None)
    assert "Use LMS" in _messages(errors(validate(long_sms)), "content")[0]
    assert (
        errors(
            validate(template_data(kind="LMS", content="가" * 46 + "#{name}", provider_vendor=None))
        )
        == []
    )
    too_long = template_data(kind="LMS", content="가" * 1001, provider_vendor=None)
    assert "the limit is 2000" in _messages(errors(validate(too_long)), "content")[0]


def test_category_hints_do_not_block():
    otp = template_data(
        provider_vendor="sandbox",
        category="AUTHENTICATION",
        content="인증번호 #{code}",
        buttons=[WL],
    )
    issues = validate(otp)
    assert errors(issues) == []
    assert {i.field for i in hints(issues)} == {"security_flag", "buttons"}
    promo = validate(template_data(provider_vendor="sandbox", category="PROMOTION"))
    assert "Promotion templates usually carry a button." in _messages(hints(promo))
    pay = validate(template_data(provider_vendor="sandbox", category="PAYMENT"))
    assert any("amount" in m for m in _messages(hints(pay)))
    iwinv_secure = validate(
        template_data(
            provider_vendor="iwinv",
            category="AUTHENTICATION",
            content="인증번호 #{code}",
            security_flag=True,
        )
    )
    assert any("does not carry the security flag" in m for m in _messages(hints(iwinv_secure)))
