"""An AlimTalk the console rescued with its own SMS: the page, the report and the API agree.

The vendor was asked to send its own substitute SMS (SOLAPI's ``disableSms: false``), did not,
and the console sent the fallback itself. The message page says so and links it, the
"enable fallback" advice is gone, the failure report counts it as delivered by fallback (in
a row of its own, so AlimTalk failing stays visible).
"""

from __future__ import annotations

import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.send_logs import report
from kmsg_console.send_logs.services import LogFilters, list_page
from kmsg_console.sending.models import MessageLog
from tests.worker.conftest import NON_KAKAO, alimtalk, load, round_

ENABLE_FALLBACK = "enable SMS/LMS fallback for this message"
VENDOR_SENDS_IT = "This provider sends the fallback SMS itself"


def _rescued_alimtalk(app, simulator, clock) -> tuple[str, str]:
    """An AlimTalk to a non-KakaoTalk user and the SMS the console sent in its place."""
    message = alimtalk(app, to=NON_KAKAO)
    simulator.control.set_status("solapi", load(app, message).provider_message_id, "non_kakao_user")
    clock.advance(seconds=31)
    round_(app)
    parent = load(app, message)
    with app.app_context():
        child = db.session.scalar(
            sa.select(MessageLog.public_id).where(MessageLog.fallback_of_id == parent.id)
        )
    assert parent.status == "FAILED" and child is not None
    return message, child


def _failed_without_fallback(app, simulator) -> str:
    message = alimtalk(app, to=NON_KAKAO, fallback=False)
    simulator.control.set_status("solapi", load(app, message).provider_message_id, "non_kakao_user")
    return message


def test_the_page_says_the_console_sent_the_fallback_and_drops_the_advice(
    app, console, simulator, route, clock
):
    route("solapi")
    message, child = _rescued_alimtalk(app, simulator, clock)
    assert any(w["code"] == "FAILOVER_PARTIAL_PROVIDER" for w in load(app, message).warnings)
    console.login(Role.VIEWER)
    page = console.client.get(f"/send-logs/{message}").get_data(as_text=True)
    assert "so the console sent the fallback SMS itself" in page
    assert f'<a href="/send-logs/{child}"><code>{child}</code></a>' in page
    assert ENABLE_FALLBACK not in page and VENDOR_SENDS_IT not in page

    # Without a fallback request the advice is what the operator needs.
    plain = _failed_without_fallback(app, simulator)
    clock.advance(seconds=31)
    round_(app)
    page = console.client.get(f"/send-logs/{plain}").get_data(as_text=True)
    assert ENABLE_FALLBACK in page and "the console sent the fallback" not in page


def test_the_failure_report_counts_a_rescued_alimtalk_as_delivered_by_fallback(
    app, console, simulator, route, clock
):
    route("solapi")
    message, _child = _rescued_alimtalk(app, simulator, clock)
    _failed_without_fallback(app, simulator)
    clock.advance(seconds=31)
    round_(app)
    with app.test_request_context():
        result = report.failure_report("24h")
        assert result.status_counts["FAILED"] == 2  # what the rows say
        assert (result.failed, result.fallback_delivered) == (1, 1)
        rows = {(row.vendor_code, row.fallback): row.total for row in result.rows}
        assert rows == {("3104", True): 1, ("3104", False): 1}
        assert result.failure_share == 1 / 3  # the rescued AlimTalk and its SMS are not failures
        assert report.failure_chart(result).kinds == ("failed", "fallback")
        assert [(r.vendor_code, r.count) for r in result.vendor_codes] == [("3104", 1)]
        rescued = list_page(
            LogFilters(status="FAILED", fallback="delivered"), cursor=None, per_page=10
        )
        assert [log.public_id for log in rescued.items] == [message]
        failed = list_page(LogFilters(status="FAILED", fallback="none"), cursor=None, per_page=10)
        assert message not in [log.public_id for log in failed.items] and len(failed.items) == 1

    console.login(Role.VIEWER)
    page = console.client.get("/send-logs/failures").get_data(as_text=True)
    assert 'data-count="fallback">1<' in page and 'data-count="FAILED">1<' in page
    assert "Delivered by fallback" in page
    assert "fallback=delivered" in page and "fallback=none" in page
    listed = console.client.get("/send-logs?status=FAILED&fallback=delivered").get_data(
        as_text=True
    )
    assert f"message-{message}" in listed
