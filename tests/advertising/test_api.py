"""POST /api/v1/messages with "ad": true: every advertising rule, on SQLite and PostgreSQL.

Each refusal is checked at the SOLAPI simulator: nothing refused reaches the vendor.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.messaging.advertising import KST
from kmsg_console.opt_outs.models import OptOutSource
from kmsg_console.opt_outs.services import add_opt_out
from kmsg_console.orm import utcnow
from kmsg_console.sending.models import MessageLog
from tests.advertising.conftest import AD_TEXT, sent_to_solapi


def _log(app, message_id: str) -> MessageLog:
    with app.app_context():
        log = db.session.scalar(sa.select(MessageLog).where(MessageLog.public_id == message_id))
        db.session.expunge(log)
        return log


def _refused(response, code: str, field: str):
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == code
    assert [issue["field"] for issue in error["details"]] == [field]
    assert error["message_id"]
    return error


def test_an_advertising_sms_with_every_part_is_sent_and_logged_as_ad(app, api, solapi):
    response = api.post({"to": "010-1234-5678", "ad": True, "text": AD_TEXT})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] in {"PENDING", "SENT"} and body["ad"] is True
    assert _log(app, body["id"]).is_ad is True
    [stored] = sent_to_solapi(solapi)
    assert stored["text"] == AD_TEXT


def test_a_transactional_message_is_not_logged_as_ad(app, api, solapi):
    body = api.post({"to": "01012345678", "text": "주문이 접수되었습니다."}).get_json()
    assert body["ad"] is False and _log(app, body["id"]).is_ad is False


@pytest.mark.parametrize(
    "text, missing",
    [
        ("겨울 세일", ["(광고) label", "sender's name", "free opt-out line"]),
        ("(광고)\n겨울 세일\n무료거부 080-123-4567", ["sender's name"]),
        ("(광고) 케이샵 겨울 세일", ["free opt-out line"]),
        ("[광고] 케이샵 겨울 세일 무료수신거부 080-123-4567", ["(광고) label", "sender's name"]),
        ("(광고) 케이샵 겨울 세일 무료수신거부 010-1234-5678", ["free opt-out line"]),
        ("(광고) 케이샵 겨울 세일 수신거부 080-123-4567", ["free opt-out line"]),
    ],
)
def test_an_advertising_text_missing_a_part_is_refused_naming_each(app, api, solapi, text, missing):
    error = _refused(api.post({"to": "01012345678", "ad": True, "text": text}), "ad_rules", "text")
    for part in missing:
        assert part in error["message"]
    for part in {"(광고) label", "sender's name", "free opt-out line"} - set(missing):
        assert part not in error["message"]
    assert solapi.control.requests("solapi") == []
    log = _log(app, error["message_id"])
    assert (log.status, log.error_code, log.is_ad, log.attempt_count) == (
        "FAILED",
        "ad_rules",
        True,
        0,
    )


def test_the_openapi_document_describes_ad_and_the_refused_message_id(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert schemas["SendMessageRequest"]["properties"]["ad"]["type"] == "boolean"
    assert "message_id" in schemas["Error"]["properties"]["error"]["properties"]
    assert (
        "ad_quiet_hours"
        in document["paths"]["/messages"]["post"]["responses"]["422"]["description"]
    )


def test_the_refused_message_can_be_read_by_its_id(api):
    error = api.post({"to": "01012345678", "ad": True, "text": "세일"}).get_json()["error"]
    message = api.get(error["message_id"]).get_json()
    assert message["status"] == "FAILED" and message["error"]["code"] == "ad_rules"
    assert message["attempts"] == [] and message["ad"] is True


def test_the_same_text_without_ad_is_not_checked(api, solapi):
    assert api.post({"to": "01012345678", "text": "세일"}).status_code == 201
    assert api.post({"to": "01012345678", "ad": False, "text": "세일"}).status_code == 201


def test_ad_must_be_a_boolean(app, api):
    response = api.post({"to": "01012345678", "ad": "yes", "text": AD_TEXT})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_request"


def _kst(hms: str, day: int = 8) -> datetime:
    return datetime.fromisoformat(f"2026-12-{day:02d}T{hms}+09:00")


@pytest.mark.parametrize(
    "moment, allowed",
    [("20:59:59", True), ("21:00:00", False), ("07:59:59", False), ("08:00:00", True)],
)
def test_quiet_hours_of_text_messages(app, api, solapi, clock, moment, allowed):
    clock(_kst(moment))
    response = api.post({"to": "01012345678", "ad": True, "text": AD_TEXT})
    if allowed:
        assert response.status_code == 201, response.get_json()
        assert len(sent_to_solapi(solapi)) == 1
    else:
        error = _refused(response, "ad_quiet_hours", "scheduled_at")
        assert "21:00–08:00 KST" in error["message"] and "now is" in error["message"]
        assert solapi.control.requests("solapi") == []
        assert _log(app, error["message_id"]).error_code == "ad_quiet_hours"


@pytest.mark.parametrize(
    "moment, allowed",
    [("19:59:59", True), ("20:00:00", False), ("07:59:59", False), ("08:00:00", True)],
)
def test_quiet_hours_of_friendtalk_start_at_eight(app, api, solapi, clock, moment, allowed):
    clock(_kst(moment))
    body = {"to": "01012345678", "type": "FRIENDTALK", "ad": True, "text": AD_TEXT}
    response = api.post(body)
    if allowed:
        assert response.status_code == 201, response.get_json()
        [stored] = sent_to_solapi(solapi)
        assert stored["kakaoOptions"]["adFlag"] is True
    else:
        _refused(response, "ad_quiet_hours", "scheduled_at")
        assert solapi.control.requests("solapi") == []


def test_a_transactional_friendtalk_carries_no_ad_flag(api, solapi):
    assert api.post({"to": "01012345678", "type": "FRIENDTALK", "text": "안내"}).status_code == 201
    [stored] = sent_to_solapi(solapi)
    assert stored["kakaoOptions"]["adFlag"] is False
    request = solapi.control.requests("solapi")[-1]
    assert "adFlag" not in request["body"]["messages"][0]["kakaoOptions"]


def _tomorrow_kst(hms: str) -> str:
    day = (utcnow().astimezone(KST) + timedelta(days=1)).date()
    return f"{day.isoformat()}T{hms}+09:00"


@pytest.mark.parametrize(
    "at, allowed",
    [("20:59:59", True), ("21:00:00", False), ("07:59:59", False), ("08:00:00", True)],
)
def test_a_scheduled_advertisement_must_fall_in_the_allowed_hours(api, solapi, clock, at, allowed):
    clock(_kst("23:30:00"))  # night now: scheduling into the day is the way out
    body = {"to": "01012345678", "ad": True, "text": AD_TEXT, "scheduled_at": _tomorrow_kst(at)}
    response = api.post(body)
    if allowed:
        assert response.status_code == 201, response.get_json()
    else:
        error = _refused(response, "ad_quiet_hours", "scheduled_at")
        assert "scheduled_at falls" in error["message"]
        assert solapi.control.requests("solapi") == []


@pytest.mark.parametrize("stored", ["010-1234-5678", "+82 10-1234-5678", "01012345678"])
@pytest.mark.parametrize("sent", ["+82 10-1234-5678", "01012345678", "010 1234 5678"])
def test_an_opted_out_number_is_refused_across_spellings(app, api, solapi, stored, sent):
    with app.test_request_context():
        add_opt_out(stored, source=OptOutSource.CONSOLE, actor_label="test")
        db.session.commit()
    error = _refused(
        api.post({"to": sent, "ad": True, "text": AD_TEXT}), "recipient_opted_out", "to"
    )
    assert "all advertising" in error["message"]
    assert solapi.control.requests("solapi") == []
    assert _log(app, error["message_id"]).error_code == "recipient_opted_out"


def test_an_opt_out_of_one_080_line_refuses_only_advertising_naming_it(app, api, solapi):
    with app.test_request_context():
        add_opt_out("01012345678", "080-123-4567", source=OptOutSource.CONSOLE, actor_label="t")
        db.session.commit()
    error = _refused(
        api.post({"to": "01012345678", "ad": True, "text": AD_TEXT}), "recipient_opted_out", "to"
    )
    assert "080-123-4567" in error["message"]
    other_line = "(광고) 다른샵\n세일\n무료거부 080-999-0000"
    assert api.post({"to": "01012345678", "ad": True, "text": other_line}).status_code == 201
    assert len(sent_to_solapi(solapi)) == 1


def test_transactional_messages_reach_an_opted_out_number(app, api, solapi, clock):
    clock(_kst("23:00:00"))  # quiet hours do not apply to them either
    with app.test_request_context():
        add_opt_out("01012345678", source=OptOutSource.CONSOLE, actor_label="test")
        db.session.commit()
    assert api.post({"to": "01012345678", "text": "주문이 접수되었습니다."}).status_code == 201
    assert len(sent_to_solapi(solapi)) == 1


def test_ad_is_part_of_the_idempotency_fingerprint(api, solapi):
    headers = {"Idempotency-Key": "k-1"}
    plain = {"to": "01012345678", "text": AD_TEXT}
    assert api.post(plain, headers=headers).status_code == 201
    conflict = api.post({**plain, "ad": True}, headers=headers)
    assert conflict.status_code == 409
    assert conflict.get_json()["error"]["code"] == "idempotency_conflict"
    # "ad": false is the default: the same request as leaving it out.
    assert api.post({**plain, "ad": False}, headers=headers).status_code == 200
    assert len(sent_to_solapi(solapi)) == 1
