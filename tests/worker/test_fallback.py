"""AlimTalk → SMS/LMS fallback: once, only for non-Kakao users, linked in the log."""

from __future__ import annotations

import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.providers import services as provider_services
from kmsg_console.sending.models import MessageLog
from kmsg_console.worker import fallback, settings
from tests.worker.conftest import NON_KAKAO, alimtalk, load, round_


def _sms_sends(simulator):
    return [
        r
        for r in simulator.control.requests("solapi", "/messages/v4/send-many/detail")
        if r["body"]["messages"][0]["type"] in ("SMS", "LMS")
    ]


def _children(app, parent_id: int) -> list[MessageLog]:
    with app.app_context():
        rows = list(
            db.session.scalars(sa.select(MessageLog).where(MessageLog.fallback_of_id == parent_id))
        )
        db.session.expunge_all()
        return rows


def test_non_kakao_user_gets_one_linked_sms_fallback(app, simulator, route, clock):
    route("solapi")
    message = alimtalk(app, to=NON_KAKAO)
    parent = load(app, message)
    simulator.control.set_status("solapi", parent.provider_message_id, "non_kakao_user")
    clock.advance(seconds=31)
    counts = round_(app)
    assert counts["failed"] == 1 and counts["fallback_sent"] == 1
    parent = load(app, message)
    assert (parent.status, parent.vendor_code, parent.fallback_state) == ("FAILED", "3104", "sent")
    [child] = _children(app, parent.id)
    assert child.type == "SMS" and child.status == "SENT" and child.to_hash == parent.to_hash
    [sms] = _sms_sends(simulator)
    assert sms["body"]["messages"][0]["text"] == "[kmsg] 카카오톡 대신 문자로 보냅니다."
    kinds = [e.detail for e in parent.events if e.kind == "fallback"]
    assert kinds[0].startswith("recipient cannot get Kakao") and "claimed" in kinds[1]
    # Nothing fires twice: more rounds, a second claim, a repeated report.
    clock.advance(hours=1)
    round_(app)
    with app.app_context():
        assert fallback.claim(parent.id) is False
        db.session.execute(
            sa.update(MessageLog).where(MessageLog.id == parent.id).values(fallback_state="due")
        )
        db.session.commit()
    round_(app)  # even a forced "due" cannot create a second fallback: the unique index refuses it
    assert len(_children(app, parent.id)) == 1 and len(_sms_sends(simulator)) == 1
    with app.app_context():
        links = fallback.linked(db.session.get(MessageLog, child.id))
        assert links["original"].public_id == message


def test_lms_channel_and_title_are_used(app, simulator, route, clock):
    route("solapi")
    from tests.worker.conftest import TEMPLATE, send

    message = send(
        app,
        to=NON_KAKAO,
        type="ALIMTALK",
        template_code=TEMPLATE,
        variables={"service": "kmsg", "code": "1"},
        failover={"enabled": True, "channel": "lms", "content": "대체 문자", "title": "안내"},
    )
    simulator.control.set_status(
        "solapi", load(app, message).provider_message_id, statusCode="3107"
    )
    clock.advance(seconds=31)
    round_(app)
    [child] = _children(app, load(app, message).id)
    assert (child.type, child.subject) == ("LMS", "안내")


def test_other_failures_and_disabled_rules_send_nothing(app, simulator, route, clock, console):
    route("solapi")
    plain_failure = alimtalk(app, to=NON_KAKAO)
    no_request = alimtalk(app, to=NON_KAKAO, fallback=False)
    simulator.control.set_status(
        "solapi", load(app, plain_failure).provider_message_id, statusCode="3059"
    )
    simulator.control.set_status(
        "solapi", load(app, no_request).provider_message_id, "non_kakao_user"
    )
    with app.app_context():
        provider = provider_services.get_by_code("solapi")
        settings.save_settings(
            provider, fallback_enabled=False, codes=["3104"], texts=[], tolerance=300, actor=None
        )
        db.session.commit()
    disabled = alimtalk(app, to=NON_KAKAO)
    simulator.control.set_status(
        "solapi", load(app, disabled).provider_message_id, "non_kakao_user"
    )
    clock.advance(seconds=31)
    round_(app)
    assert load(app, plain_failure).fallback_state is None
    assert load(app, no_request).fallback_state is None
    assert load(app, disabled).fallback_state == "skipped"
    assert _sms_sends(simulator) == []


def test_iwinv_fallback_unless_iwinv_already_resent(app, simulator, route, clock):
    route("iwinv")
    resent = alimtalk(app, to=NON_KAKAO)
    not_resent = alimtalk(app, to=NON_KAKAO)
    simulator.control.set_status(
        "iwinv_alimtalk",
        load(app, resent).provider_message_id,
        "non_kakao_user",
        resendStatus="OK",
        resendStatusName="대체발송 성공",
    )
    simulator.control.set_status(
        "iwinv_alimtalk",
        load(app, not_resent).provider_message_id,
        "non_kakao_user",
        resendStatus="",
        resendStatusName="",
    )
    clock.advance(seconds=31)
    round_(app)
    assert load(app, resent).fallback_state == "skipped"
    assert load(app, not_resent).fallback_state == "sent"
    assert len(_children(app, load(app, not_resent).id)) == 1
    assert len(simulator.control.requests("iwinv_sms", "/api/v2/send/")) == 1


def test_rules_match_codes_and_all_parts_of_a_text():
    rules = settings.FallbackRules(True, ("3104",), ("카카오&미사용",))
    assert fallback.is_non_kakao_user(rules, "3104", None)
    assert fallback.is_non_kakao_user(rules, "K104", "카카오톡 미사용자")
    assert not fallback.is_non_kakao_user(rules, "K105", "카카오톡 차단")
    assert not fallback.is_non_kakao_user(rules, None, "미사용")
