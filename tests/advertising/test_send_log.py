"""Refused advertising in the send log: list filters, the message page, the failure report."""

from __future__ import annotations

import html as html_lib

import pytest

from kmsg_console.extensions import db
from kmsg_console.messaging.rule_codes import RuleCode
from kmsg_console.operators.models import Role
from kmsg_console.opt_outs.models import OptOutSource
from kmsg_console.opt_outs.services import add_opt_out
from kmsg_console.send_logs.explanations import RULE_EXPLANATIONS
from tests.advertising.conftest import AD_TEXT


@pytest.fixture
def opted_out(app, api, console):
    """An advertisement refused for an opted-out recipient; its message id."""
    with app.test_request_context():
        add_opt_out("010-1234-5678", source=OptOutSource.CONSOLE, actor_label="test")
        db.session.commit()
    error = api.post({"to": "+82 10-1234-5678", "ad": True, "text": AD_TEXT}).get_json()["error"]
    console.login(Role.OPERATOR)
    return error["message_id"]


def _text(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def test_every_rule_code_has_a_label_a_meaning_and_a_fix():
    assert set(RULE_EXPLANATIONS) == set(RuleCode)
    for code, rule in RULE_EXPLANATIONS.items():
        assert rule.code is code and rule.label and rule.meaning and rule.fix


def test_the_message_page_explains_the_refusal_and_links_the_fix(console, opted_out):
    page = console.client.get(f"/send-logs/{opted_out}")
    assert page.status_code == 200
    html = _text(page)
    assert "recipient_opted_out" in html and "Recipient opted out" in html
    assert "only if the recipient asked to receive advertising again" in html
    assert 'href="/opt-outs">Opt-outs</a>' in html
    assert 'id="ad-badge"' in html
    assert "No provider was called: the recipient opted out of all advertising." in html
    assert "No provider was called for this message." in html  # no attempt
    # Sent again, it would be refused again: the page says why instead of offering it.
    assert "is not sent again" in html and "/send-again" not in html


def test_the_timeline_reads_in_korean(console, opted_out):
    page = console.client.get(f"/send-logs/{opted_out}", headers={"Accept-Language": "ko"})
    html = _text(page)
    assert "수신거부" in html
    assert "No provider was called" not in html and "opted out" not in html


def test_the_list_filters_by_the_rule_code_and_by_advertising(console, api, opted_out):
    api.post({"to": "01099998888", "text": "주문 접수"})
    refused = _text(console.client.get("/send-logs?status=FAILED&error_code=recipient_opted_out"))
    assert f'id="message-{opted_out}"' in refused and "Check the filters" not in refused
    ads = _text(console.client.get("/send-logs?ad=yes"))
    assert f'id="message-{opted_out}"' in ads and ads.count('id="message-') == 1
    others = _text(console.client.get("/send-logs?ad=no"))
    assert f'id="message-{opted_out}"' not in others and others.count('id="message-') == 1


def test_the_failure_report_groups_refusals_with_their_fix(console, opted_out):
    html = _text(console.client.get("/send-logs/failures"))
    assert 'data-group="recipient_opted_out/None/solapi-main"' in html
    assert "Recipient opted out" in html and "Suggested fix" in html
    assert "error_code=recipient_opted_out" in html


def _refusal(app, api, clock, case: str) -> str:
    from datetime import datetime

    body = {"to": "01055556666", "ad": True, "text": AD_TEXT}
    if case == "ad_rules":
        body["text"] = "겨울 세일"
    elif case == "ad_quiet_hours":
        clock(datetime.fromisoformat("2026-12-08T21:00:00+09:00"))
    else:
        with app.test_request_context():
            add_opt_out("01055556666", "080-123-4567", source=OptOutSource.API, actor_label="t")
            db.session.commit()
    return api.post(body).get_json()["error"]["message_id"]


@pytest.mark.parametrize(
    "case, english, korean",
    [
        (
            "ad_rules",
            "the advertising text lacks the (광고) label at the beginning, the sender name "
            "after (광고), a free 080 opt-out line.",
            "광고 본문에 빠진 항목이 있습니다(맨 앞의 (광고) 표기, (광고) 뒤의 발신자명, 080 무료수신거부 문구).",
        ),
        (
            "ad_quiet_hours",
            "SMS advertising is not sent 21:00–08:00 Korea time without separate consent, and "
            "it was to go out now. The next allowed time is 2026-12-09 08:00.",
            "다음 전송 가능 시각은 2026-12-09 08:00입니다.",
        ),
        (
            "recipient_opted_out",
            "the recipient opted out of advertising naming the 080 line 080-123-4567.",
            "수신자가 080 번호 080-123-4567의 광고를 수신거부했습니다.",
        ),
    ],
)
def test_each_refusal_reads_in_the_timeline_in_english_and_korean(
    app, api, console, clock, case, english, korean
):
    message_id = _refusal(app, api, clock, case)
    console.login(Role.VIEWER)
    page = _text(console.client.get(f"/send-logs/{message_id}"))
    assert f"No provider was called: {english}" in page
    ko = _text(console.client.get(f"/send-logs/{message_id}", headers={"Accept-Language": "ko"}))
    assert korean in ko and "No provider was called" not in ko
