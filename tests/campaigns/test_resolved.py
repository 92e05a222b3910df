"""A recipient left ``unknown`` follows its message once delivery tracking learns the status:
``sent`` or ``failed`` (with the error code), and the campaign's counts with it. On SQLite
and PostgreSQL, against the SOLAPI simulator."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from kmsg_console.campaigns import dispatch, services, upload
from kmsg_console.campaigns.models import CampaignRecipient
from kmsg_console.extensions import db
from kmsg_console.messaging.provider import DeliveryStatus, DeliveryStatusResult
from kmsg_console.messaging.result import Ok
from kmsg_console.orm import utcnow
from kmsg_console.sending.models import MessageLog
from kmsg_console.worker import outcomes, tracking
from tests.campaigns.conftest import make_campaign, numbers, run_until_done


@pytest.fixture(autouse=True)
def one_message_a_request(monkeypatch):
    """Each recipient its own request, so a fault armed for N requests hits N messages."""
    monkeypatch.setattr(dispatch, "MAX_GROUP", 1)


def _lines(phones: list[str]) -> list[str]:
    return ["phone,이름", *[f"{p},고객{i}" for i, p in enumerate(phones)]]


def _recipients(campaign) -> list[CampaignRecipient]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(CampaignRecipient)
        .where(CampaignRecipient.campaign_id == campaign.id)
        .order_by(CampaignRecipient.row_number)
    ).all()


def _counts(campaign) -> tuple[int, int, int]:
    progress = services.progress(campaign)
    return progress.sent, progress.failed, progress.unknown


def _campaign_with_two_unknowns(app, solapi):
    """Three recipients; the vendor takes the first two sends and the connection drops
    before its answer, so the console has their messages UNKNOWN without the vendor's id."""
    campaign = make_campaign(_lines(numbers(3)), rate=100)
    solapi.control.inject("solapi", "reset", process=True, count=2)
    run_until_done()
    run_until_done(stale_after=timedelta(0))
    unknown = [r for r in _recipients(campaign) if r.state == "unknown"]
    assert len(unknown) == 2 and _counts(campaign) == (1, 0, 2)
    return campaign, unknown


def _vendor_ids(app, solapi) -> dict[str, str]:
    return {m["to"]: m["messageId"] for m in solapi.control.messages("solapi")}


def _give_vendor_id(app, solapi, recipient: CampaignRecipient) -> MessageLog:
    """What the lost answer would have said: the vendor's id of the message (the simulator
    stored it), with a status check due now."""
    phone = app.config["KEYRING"].decrypt(recipient.phone_enc, upload.PHONE_ENC_PURPOSE)
    log = db.session.scalar(
        sa.select(MessageLog).where(MessageLog.public_id == recipient.message_public_id)
    )
    log.provider_message_id = _vendor_ids(app, solapi)[phone]
    log.next_check_at = utcnow()
    log.tracking_note = None
    db.session.commit()
    return log


def test_polling_moves_unknown_recipients_to_sent_and_failed(app, solapi, clock):
    with app.test_request_context():
        campaign, (delivered, failed) = _campaign_with_two_unknowns(app, solapi)

        # Without the vendor's id nothing can be looked up: both stay unknown.
        tracking.run_round()
        assert [r.state for r in _recipients(campaign)].count("unknown") == 2
        assert _counts(campaign) == (1, 0, 2)

        first = _give_vendor_id(app, solapi, delivered)
        second = _give_vendor_id(app, solapi, failed)
        solapi.control.set_status("solapi", first.provider_message_id, "delivered")
        solapi.control.set_status("solapi", second.provider_message_id, statusCode="3059")
        assert tracking.run_round()["checked"] == 2

        rows = {r.id: r for r in _recipients(campaign)}
        assert (rows[delivered.id].state, rows[delivered.id].reason) == ("sent", None)
        assert (rows[failed.id].state, rows[failed.id].reason) == ("failed", "MESSAGE_SEND_FAILED")
        assert rows[failed.id].message_log_id == second.id
        assert _counts(campaign) == (2, 1, 0)
        statuses = db.session.execute(
            sa.select(MessageLog.id, MessageLog.status).where(
                MessageLog.id.in_([first.id, second.id])
            )
        ).all()
        assert dict(statuses) == {first.id: "DELIVERED", second.id: "FAILED"}


def test_a_vendor_status_of_sent_settles_the_recipient_as_sent(app, solapi, clock):
    with app.test_request_context():
        campaign, (taken, _other) = _campaign_with_two_unknowns(app, solapi)
        log = _give_vendor_id(app, solapi, taken)
        solapi.control.set_status("solapi", log.provider_message_id, statusCode="3000")
        tracking.run_round()
        db.session.refresh(log)
        assert log.status == "SENT"  # not final yet: still tracked
        rows = {r.id: r for r in _recipients(campaign)}
        assert rows[taken.id].state == "sent" and rows[taken.id].reason is None
        assert _counts(campaign) == (2, 0, 1)


def test_the_recipient_moves_in_the_messages_transaction_and_only_once(app, solapi, clock):
    delivered = Ok(DeliveryStatusResult(DeliveryStatus.DELIVERED, "4000"))
    failed = Ok(DeliveryStatusResult(DeliveryStatus.FAILED, "3059"))
    with app.test_request_context():
        campaign, (recipient, _other) = _campaign_with_two_unknowns(app, solapi)
        log = _give_vendor_id(app, solapi, recipient)

        # Rolled back with the message's status: neither is written without the other.
        assert outcomes.apply_result(log, delivered, utcnow(), polled=True) == "delivered"
        db.session.rollback()
        assert db.session.get(MessageLog, log.id).status == "UNKNOWN"
        assert _counts(campaign) == (1, 0, 2)

        log = db.session.get(MessageLog, log.id)
        assert outcomes.apply_result(log, delivered, utcnow(), polled=True) == "delivered"
        db.session.commit()
        assert _counts(campaign) == (2, 0, 1)

        # A later answer for the final message changes neither the message nor the recipient.
        log = db.session.get(MessageLog, log.id)
        assert outcomes.apply_result(log, failed, utcnow(), polled=True) == "ignored"
        db.session.commit()
        assert _counts(campaign) == (2, 0, 1)


def test_a_sent_recipient_is_not_moved_by_its_messages_later_failure(app, solapi, clock):
    """Only ``unknown`` recipients wait for tracking: a sent one keeps the state dispatch
    gave it, whatever the carrier reports later (the send log shows the message's)."""
    with app.test_request_context():
        campaign = make_campaign(_lines(numbers(1)), rate=100)
        run_until_done()
        (recipient,) = _recipients(campaign)
        log = db.session.get(MessageLog, recipient.message_log_id)
        failed = Ok(DeliveryStatusResult(DeliveryStatus.FAILED, "3059"))
        assert outcomes.apply_result(log, failed, utcnow(), polled=True) == "failed"
        db.session.commit()
        assert services.recipient_resolved(log) is False
        assert [r.state for r in _recipients(campaign)] == ["sent"]
