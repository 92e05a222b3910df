"""Dispatch through the send engine to the SOLAPI simulator: exactly once, pause, resume,
cancel, restart after a crash, the ``campaign.completed`` event. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from kmsg_console.campaigns import dispatch, services
from kmsg_console.campaigns.models import Campaign, CampaignRecipient
from kmsg_console.events.models import OutboxEvent
from kmsg_console.extensions import db
from kmsg_console.opt_outs.models import OptOutSource
from kmsg_console.opt_outs.services import add_opt_out
from kmsg_console.orm import utcnow
from kmsg_console.sending import send
from kmsg_console.sending.models import MessageLog, MessageSource
from tests.campaigns.conftest import (
    AD_TEXT,
    make_campaign,
    numbers,
    run_until_done,
    simulator_numbers,
)


def _lines(phones: list[str]) -> list[str]:
    return ["phone,이름", *[f"{p},고객{i}" for i, p in enumerate(phones)]]


def _states(campaign) -> dict[int, str]:
    return dict(
        db.session.execute(
            sa.select(CampaignRecipient.row_number, CampaignRecipient.state).where(
                CampaignRecipient.campaign_id == campaign.id
            )
        ).all()
    )


def _logs_per_recipient(campaign) -> list[int]:
    """How many send-log rows each recipient's number has for this campaign."""
    counts = dict(
        db.session.execute(
            sa.select(MessageLog.to_hash, sa.func.count())
            .where(MessageLog.campaign_id == campaign.id)
            .group_by(MessageLog.to_hash)
        ).all()
    )
    hashes = db.session.scalars(
        sa.select(CampaignRecipient.phone_hash).where(
            CampaignRecipient.campaign_id == campaign.id,
            CampaignRecipient.state != "skipped",
        )
    ).all()
    return [counts.get(h, 0) for h in hashes]


def test_a_campaign_is_sent_once_to_each_number_and_completes(app, solapi, clock):
    phones = numbers(12)
    with app.test_request_context():
        campaign = make_campaign(_lines(phones + [phones[0]]), rate=200)
        assert campaign.status == "running"
        run_until_done()
        db.session.refresh(campaign)
        assert campaign.status == "completed"
        progress = services.progress(campaign)
        assert (progress.sent, progress.skipped, progress.pending) == (12, 1, 0)
        assert simulator_numbers(solapi) == {p: 1 for p in phones}
        logs = db.session.scalars(sa.select(MessageLog)).all()
        assert {(log.source, log.campaign_id) for log in logs} == {
            (MessageSource.CAMPAIGN.value, campaign.id)
        }
        linked = db.session.scalars(sa.select(CampaignRecipient.message_log_id)).all()
        assert sorted(x for x in linked if x) == sorted(log.id for log in logs)
        event = db.session.scalar(
            sa.select(OutboxEvent).where(OutboxEvent.type == "campaign.completed")
        )
        assert event.data["campaign_id"] == campaign.public_id
        assert (event.data["sent"], event.data["skipped"]) == (12, 1)
        assert "0105" not in str(event.data)


def test_the_rate_spaces_the_sends(app, solapi, clock, monkeypatch):
    # Dispatch's clock moves only when it sleeps: the waits are the rate's spacing alone,
    # whatever the sends cost on this machine.
    started = dispatch.utcnow()
    now = [started]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += timedelta(seconds=seconds)

    monkeypatch.setattr(dispatch, "sleep", sleep)
    monkeypatch.setattr(dispatch, "utcnow", lambda: now[0])
    # One lane, so the one clock is read in slot order (PostgreSQL's lanes split the same slots).
    monkeypatch.setattr(dispatch, "SEND_LANES", 1)
    with app.test_request_context():
        campaign = make_campaign(_lines(numbers(10)), rate=2)
        dispatch.run_round()
        # Ten messages at 2/s: the first goes at once, each next one 0.5 s after the last.
        assert waits == [pytest.approx(0.5)] * 9
        db.session.refresh(campaign)
        # The next round's first slot follows the tenth message's: 5 s after the first.
        assert campaign.next_send_at - started == timedelta(seconds=5)


def test_a_refused_recipient_fails_with_the_rule_code(app, solapi, clock):
    phones = numbers(3)
    with app.test_request_context():
        campaign = make_campaign(_lines(phones), text=AD_TEXT, ad=True, rate=100)
        add_opt_out(phones[1], source=OptOutSource.CONSOLE, actor_label="t")
        db.session.commit()
        run_until_done()
        rows = db.session.execute(
            sa.select(CampaignRecipient.state, CampaignRecipient.reason).order_by(
                CampaignRecipient.row_number
            )
        ).all()
        assert rows == [("sent", None), ("failed", "recipient_opted_out"), ("sent", None)]
        assert phones[1] not in simulator_numbers(solapi)
        assert services.progress(campaign).failed == 1


def test_a_worker_killed_mid_batch_neither_skips_nor_repeats(app, solapi, clock):
    """The crash: a worker claimed a batch, sent two recipients and recorded them, sent a
    third (its message row and the vendor's answer are written) and died before recording it;
    the rest of the batch stays claimed with no message. A later round takes over."""
    phones = numbers(8)
    with app.test_request_context():
        campaign = make_campaign(_lines(phones), rate=100)
        batch = dispatch.claim(campaign, 8)
        assert len(batch) == 8
        common = services.common_variables(campaign)
        dispatch.send_group(campaign, common, batch[:2])
        send(
            dispatch._request(campaign, common, batch[2]),
            source=MessageSource.CAMPAIGN,
            message_id=batch[2].message_public_id,
            campaign_id=campaign.id,
        )
        db.session.commit()
        # A fresh claim is not taken over...
        assert dispatch.run_round()["sent"] == 0
        # ...a stale one is: the third takes its message's status, the rest are sent.
        run_until_done(stale_after=timedelta(0))
        assert set(_states(campaign).values()) == {"sent"}
        assert _logs_per_recipient(campaign) == [1] * 8
        assert simulator_numbers(solapi) == {p: 1 for p in phones}


def test_a_second_send_of_a_claimed_recipient_is_refused_by_the_database(app, solapi, clock):
    """Two workers holding the same stale claim: the message id is unique, one send wins."""
    with app.test_request_context():
        campaign = make_campaign(_lines(numbers(1)), rate=100)
        [item] = dispatch.claim(campaign, 1)
        common = services.common_variables(campaign)
        dispatch.send_group(campaign, common, [item])
        db.session.execute(sa.update(CampaignRecipient).values(state="claimed"))
        db.session.commit()
        assert dispatch.send_group(campaign, common, [item]) == ["sent"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MessageLog)) == 1
        assert len(solapi.control.messages("solapi")) == 1


def test_pause_resume_and_cancel_midway(app, solapi, clock):
    phones = numbers(10)
    with app.test_request_context():
        campaign = make_campaign(_lines(phones), rate=100)
        dispatch.run_round(max_batch=3)
        assert services.pause(campaign, actor=None)
        db.session.commit()
        assert dispatch.run_round()["sent"] == 0
        assert services.progress(campaign).sent == 3
        assert services.resume(campaign, actor=None)
        db.session.commit()
        dispatch.run_round(max_batch=3)
        assert services.cancel(campaign, actor=None) == 4
        db.session.commit()
        assert dispatch.run_round()["sent"] == 0
        progress = services.progress(campaign)
        assert (progress.sent, progress.cancelled, progress.pending) == (6, 4, 0)
        assert len(simulator_numbers(solapi)) == 6
        assert services.cancel(campaign, actor=None) is None  # finished already
        assert db.session.get(Campaign, campaign.id).status == "cancelled"


def test_a_worker_sees_a_cancel_while_holding_claims(app, solapi, clock, monkeypatch):
    """Groups of two in one sending lane (each lane of a PostgreSQL worker looks before each
    of its groups): the first group leaves, the cancel comes, the other four are cancelled."""
    monkeypatch.setattr(dispatch, "MAX_GROUP", 2)
    monkeypatch.setattr(dispatch, "SEND_LANES", 1)
    with app.test_request_context():
        campaign = make_campaign(_lines(numbers(6)), rate=100)
        real_send_group = dispatch.send_group

        def send_then_cancel(*args):
            states = real_send_group(*args)
            services.cancel(db.session.get(Campaign, campaign.id), actor=None)
            db.session.commit()
            return states

        monkeypatch.setattr(dispatch, "send_group", send_then_cancel)
        dispatch.run_round()
        progress = services.progress(campaign)
        assert (progress.sent, progress.cancelled, progress.pending) == (2, 4, 0)


def test_a_scheduled_campaign_starts_when_due_or_is_cancelled_before(app, solapi, clock):
    with app.test_request_context():
        later = utcnow() + timedelta(hours=1)
        first = make_campaign(_lines(numbers(2)), rate=100, scheduled_at=later)
        second = make_campaign(_lines(numbers(2, start=10)), rate=100, scheduled_at=later)
        assert first.status == "scheduled"
        assert dispatch.run_round() == {"started": 0, "sent": 0, "completed": 0}
        assert services.cancel(second, actor=None) == 2
        db.session.execute(sa.update(Campaign).values(scheduled_at=utcnow()))
        db.session.commit()
        run_until_done()
        assert db.session.get(Campaign, first.id).status == "completed"
        assert services.progress(second).cancelled == 2
        assert len(simulator_numbers(solapi)) == 2


def test_an_unknown_outcome_is_marked_and_never_resent(app, solapi, clock, monkeypatch):
    """The vendor takes the first group's request and the connection drops before its
    answer: each message of that group is unknown, never sent again; the next group goes."""
    monkeypatch.setattr(dispatch, "MAX_GROUP", 2)
    monkeypatch.setattr(dispatch, "SEND_LANES", 1)  # the groups in order: the first is cut off
    phones = numbers(3)
    with app.test_request_context():
        campaign = make_campaign(_lines(phones), rate=100)
        solapi.control.inject("solapi", "reset", process=True, count=1)
        run_until_done()
        run_until_done(stale_after=timedelta(0))
        states = _states(campaign)
        assert [states[row] for row in sorted(states)] == ["unknown", "unknown", "sent"]
        assert services.progress(campaign).unknown == 2
        assert db.session.get(Campaign, campaign.id).status == "completed"
        assert _logs_per_recipient(campaign) == [1, 1, 1]
        assert simulator_numbers(solapi) == {p: 1 for p in phones}
