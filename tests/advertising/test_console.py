"""The send form's "Advertising" switch: the panel, the label helper, refusals on the form."""

from __future__ import annotations

import html as html_lib

import pytest
import sqlalchemy as sa

from kmsg_console.advertising import services as ad_settings
from kmsg_console.extensions import db
from kmsg_console.messaging.encoding import count_bytes
from kmsg_console.operators.models import Role
from kmsg_console.opt_outs.models import OptOutSource
from kmsg_console.opt_outs.services import add_opt_out
from kmsg_console.sending.models import MessageLog
from tests.advertising.conftest import AD_TEXT, sent_to_solapi

FORM = {"to": "010-1234-5678", "type": "", "subject": "", "sender": "", "provider": ""}


@pytest.fixture
def operator(app, console, solapi, clock):
    console.login(Role.OPERATOR)
    return console


@pytest.fixture
def settings_saved(app):
    with app.test_request_context():
        ad_settings.save("케이샵", "080-123-4567", actor=None)
        db.session.commit()


def _html(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def _logs(app) -> list[MessageLog]:
    with app.app_context():
        return list(db.session.scalars(sa.select(MessageLog)))


def test_the_label_and_footer_are_added_and_counted(app, operator, settings_saved):
    response = operator.post("/send/ad-label", data={**FORM, "ad": "y", "text": "겨울 세일 30%"})
    assert response.status_code == 200
    html = _html(response)
    text = "(광고) 케이샵\n겨울 세일 30%\n무료수신거부 080-123-4567"
    assert f"{text}</textarea>" in html
    assert f'data-bytes="{count_bytes(text).bytes}"' in html  # the longer text, counted
    assert "The text carries the (광고) label" in html


def test_a_longer_text_becomes_lms_once_the_footer_is_added(operator, settings_saved):
    body = "가" * 30  # 60 bytes: an SMS before, over 90 bytes with the label and footer
    html = _html(operator.post("/send/ad-label", data={**FORM, "ad": "y", "text": body}))
    assert 'data-type="LMS"' in html


def test_without_settings_the_form_says_who_sets_them(operator):
    response = operator.post("/send/ad-label", data={**FORM, "ad": "y", "text": "세일"})
    assert response.status_code == 422
    assert "An admin has to set the sender name" in _html(response)


def test_the_panel_shows_the_allowed_hours_and_the_quiet_hours_now(operator, clock):
    from datetime import datetime

    counted = _html(operator.htmx_post("/send/count", data={**FORM, "ad": "y", "text": "세일"}))
    assert 'id="ad-panel" class="ad-panel" hx-swap-oob="true"' in counted
    assert "Advertising may be sent 08:00–21:00 KST." in counted
    assert 'id="ad-quiet-now"' not in counted and "It is now 12:00 KST." in counted
    clock(datetime.fromisoformat("2026-12-08T21:30:00+09:00"))
    night = _html(operator.htmx_post("/send/count", data={**FORM, "ad": "y", "text": "세일"}))
    assert 'id="ad-quiet-now"' in night and "12-09 08:00" in night
    off = _html(operator.htmx_post("/send/count", data={**FORM, "text": "세일"}))
    assert "Advertising may be sent" not in off


def test_an_advertisement_is_previewed_and_sent_as_ad(app, operator, solapi):
    data = {**FORM, "ad": "y", "text": AD_TEXT}
    preview = operator.post("/send/preview", data=data)
    assert preview.status_code == 200 and 'id="preview-ad"' in _html(preview)
    assert '<input type="hidden" name="ad" value="y">' in _html(preview)
    sent = operator.post("/send", data=data)
    assert sent.status_code == 303
    [log] = _logs(app)
    assert log.is_ad and log.source == "console"
    assert len(sent_to_solapi(solapi)) == 1


def test_the_preview_refuses_an_incomplete_advertisement_on_the_text(app, operator, solapi):
    refused = operator.post("/send/preview", data={**FORM, "ad": "y", "text": "겨울 세일"})
    assert refused.status_code == 422
    html = _html(refused)
    assert "Advertising must carry the (광고) label at the beginning" in html
    assert _logs(app) == [] and solapi.control.requests("solapi") == []


def test_a_send_to_an_opted_out_number_is_refused_and_logged(app, operator, solapi):
    with app.test_request_context():
        add_opt_out("+82 10-1234-5678", source=OptOutSource.CONSOLE, actor_label="test")
        db.session.commit()
    refused = operator.post("/send", data={**FORM, "ad": "y", "text": AD_TEXT})
    assert refused.status_code == 422
    html = _html(refused)
    assert "This number opted out of advertising" in html
    [log] = _logs(app)
    assert log.error_code == "recipient_opted_out" and log.status == "FAILED"
    assert f'href="/send-logs/{log.public_id}"' in html
    assert solapi.control.requests("solapi") == []
    # Without "Advertising" the same text is a transactional message and goes out.
    assert operator.post("/send", data={**FORM, "text": AD_TEXT}).status_code == 303
    assert len(sent_to_solapi(solapi)) == 1


def test_a_send_at_night_is_refused_with_the_next_allowed_time(app, operator, clock, solapi):
    from datetime import datetime

    clock(datetime.fromisoformat("2026-12-08T07:59:59+09:00"))
    refused = operator.post("/send", data={**FORM, "ad": "y", "text": AD_TEXT})
    assert refused.status_code == 422
    assert "Advertising is not sent 21:00–08:00 KST; send it from 2026-12-08 08:00" in _html(
        refused
    )
    assert solapi.control.requests("solapi") == []


def test_an_advertisement_is_not_retried_at_night(app, operator, clock, solapi):
    from datetime import datetime

    assert operator.post("/send", data={**FORM, "ad": "y", "text": AD_TEXT}).status_code == 303
    [log] = _logs(app)
    with app.app_context():  # as if the vendor had refused it for an empty balance
        db.session.execute(
            sa.update(MessageLog).values(status="FAILED", retryable=True, error_code="X")
        )
        db.session.commit()
    clock(datetime.fromisoformat("2026-12-08T22:00:00+09:00"))
    night = operator.post(f"/send-logs/{log.public_id}/retry", follow_redirects=True)
    assert "cannot be retried now: advertising is not sent" in _html(night)
    assert len(solapi.control.requests("solapi")) == 1  # the first send only
    [again] = _logs(app)
    assert again.retryable is True  # the claim was given back
    clock(datetime.fromisoformat("2026-12-09T08:00:00+09:00"))
    day = operator.post(f"/send-logs/{log.public_id}/retry", follow_redirects=True)
    assert "Retried." in _html(day)
    assert len(sent_to_solapi(solapi)) == 2
