"""The send engine's batch path (``send_batch``): messages whose first provider has a batch
endpoint (SOLAPI send-many) travel in one request, each with its own row, attempts and
events; a failover-eligible batch failure sends each on alone; rules refuse one message, not
the batch. On SQLite and PostgreSQL, against the simulators over HTTP."""

from __future__ import annotations

import sqlalchemy as sa

from kmsg_console.extensions import db
from kmsg_console.providers import services as provider_services
from kmsg_console.sending import BatchItem, SendRequest, send, send_batch
from kmsg_console.sending.models import MessageAttempt, MessageLog, MessageSource

SENDER = "0212345678"
SEND_PATH = "/messages/v4/send-many/detail"


def _providers(app, simulator) -> None:
    """SOLAPI first, IWINV SMS second, for SMS."""
    with app.test_request_context():
        provider_services.save_provider(
            None,
            vendor="solapi",
            code="solapi",
            name="SOLAPI",
            values={
                "api_key": "demo-api-key",
                "api_secret": "demo-api-secret",
                "default_from": SENDER,
                "base_url": simulator.url("solapi"),
            },
            enabled=True,
            actor=None,
        )
        provider_services.save_provider(
            None,
            vendor="iwinv",
            code="iwinv",
            name="IWINV",
            values={
                "sms_api_key": "demo-sms-key",
                "sms_auth_key": "demo-sms-auth",
                "sender_number": SENDER,
                "sms_base_url": simulator.url("iwinv_sms"),
                "alimtalk_base_url": simulator.url("iwinv_alimtalk"),
            },
            enabled=True,
            actor=None,
        )
        provider_services.save_routes({"SMS": ["solapi", "iwinv"]}, actor=None)
        db.session.commit()


def _items(*numbers: str, **request) -> list[BatchItem]:
    return [
        BatchItem(
            SendRequest(to=number, text="12월 점검 안내입니다.", type="SMS", **request),
            f"00000000-0000-4000-8000-{number[-12:].zfill(12)}",
        )
        for number in numbers
    ]


def _attempts(log: MessageLog) -> list[tuple[str, str, str]]:
    rows = db.session.scalars(
        sa.select(MessageAttempt)
        .where(MessageAttempt.message_id == log.id)
        .order_by(MessageAttempt.number)
    )
    return [(a.provider_code, a.trigger, a.outcome) for a in rows]


def test_a_batch_is_one_request_and_each_message_its_own_row(app, simulator):
    _providers(app, simulator)
    numbers = ["01020000001", "01020000002", "01020000003"]
    with app.test_request_context():
        results = send_batch(_items(*numbers), source=MessageSource.CAMPAIGN)
        (request,) = simulator.control.requests("solapi", SEND_PATH)
        assert [m["to"] for m in request["body"]["messages"]] == numbers
        stored = {m["to"]: m["messageId"] for m in simulator.control.messages("solapi")}
        db.session.expire_all()
        for number, result in zip(numbers, results, strict=True):
            log = db.session.get(MessageLog, result.log.id)
            assert (log.status, log.provider_message_id) == ("SENT", stored[number])
            assert log.public_id.endswith(number[-8:])
            assert _attempts(log) == [("solapi", "initial", "accepted")]
            assert [e.kind for e in log.events] == ["accepted", "status"]


def test_a_batch_failure_that_proves_nothing_left_fails_each_over_alone(app, simulator):
    _providers(app, simulator)
    simulator.control.inject("solapi", "status_5xx", path=SEND_PATH, status=503, count=1)
    numbers = ["01020000011", "01020000012"]
    with app.test_request_context():
        results = send_batch(_items(*numbers), source=MessageSource.CAMPAIGN)
        db.session.expire_all()
        for result in results:
            log = db.session.get(MessageLog, result.log.id)
            assert (log.status, log.provider_code) == ("SENT", "iwinv")
            assert _attempts(log) == [
                ("solapi", "initial", "failed"),
                ("iwinv", "failover", "accepted"),
            ]
    assert simulator.control.messages("solapi") == []
    received = [r["body"] for r in simulator.control.requests("iwinv_sms")]
    assert len(received) == 2  # one request each: IWINV has no batch endpoint


def test_a_rule_refuses_one_message_and_the_others_go(app, simulator):
    _providers(app, simulator)
    items = _items("01020000021", "01020000022")
    unregistered = BatchItem(
        SendRequest(to="01020000023", text="안내", type="SMS", from_="0299998888"),
        "00000000-0000-4000-8000-000000000023",
    )
    with app.test_request_context():
        first, refused, second = send_batch(
            [items[0], unregistered, items[1]], source=MessageSource.CAMPAIGN
        )
        assert refused.log is None and refused.refused.code == "sender_not_registered"
        assert refused.refused.log.status == "FAILED"
        assert first.log.status == second.log.status == "SENT"
    (request,) = simulator.control.requests("solapi", SEND_PATH)
    assert len(request["body"]["messages"]) == 2


def test_a_message_id_already_written_is_not_sent_again(app, simulator):
    _providers(app, simulator)
    [earlier, fresh] = _items("01020000031", "01020000032")
    with app.test_request_context():
        send(earlier.request, source=MessageSource.CAMPAIGN, message_id=earlier.message_id)
        results = send_batch([earlier, fresh], source=MessageSource.CAMPAIGN)
        assert results[0].already_written and results[0].log is None
        assert results[1].log.status == "SENT"
        count = sa.select(sa.func.count()).select_from(MessageLog)
        assert db.session.scalar(count) == 2
    assert sorted(m["to"] for m in simulator.control.messages("solapi")) == [
        "01020000031",
        "01020000032",
    ]
