"""Drafts not confirmed within ``DRAFT_HOURS`` cannot be confirmed, and the hourly retention
purge deletes them with their recipients, in batches, audited with its other deletions."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from kmsg_console.audit.models import AuditEvent
from kmsg_console.campaigns import services
from kmsg_console.campaigns.models import DRAFT_HOURS, Campaign, CampaignRecipient
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.orm import utcnow
from kmsg_console.worker import jobs, retention
from tests.campaigns.conftest import make_campaign, numbers


def _draft(count: int, hours_old: float, *, confirm: bool = False) -> int:
    campaign = make_campaign(
        ["phone,이름", *[f"{p},고객" for p in numbers(count)]], confirm=confirm
    )
    db.session.execute(
        sa.update(Campaign)
        .where(Campaign.id == campaign.id)
        .values(created_at=utcnow() - timedelta(hours=hours_old))
    )
    db.session.commit()
    return campaign.id


def _recipients(campaign_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(CampaignRecipient.campaign_id == campaign_id)
    )


def _exists(campaign_id: int) -> bool:
    return db.session.get(Campaign, campaign_id, populate_existing=True) is not None


def test_drafts_past_the_age_go_with_their_recipients(app, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 2)  # several batches of recipients
    with app.test_request_context():
        old = _draft(5, DRAFT_HOURS + 2)
        within_grace = _draft(2, DRAFT_HOURS + 0.05)  # 3 minutes past: not yet
        young = _draft(2, DRAFT_HOURS - 1)
        confirmed = _draft(2, DRAFT_HOURS + 2, confirm=True)

        counts = jobs.BY_NAME["retention"].run()

        assert (counts["campaign_drafts"], counts["campaign_draft_recipients"]) == (1, 5)
        assert not _exists(old) and _recipients(old) == 0
        for kept in (within_grace, young, confirmed):
            assert _exists(kept) and _recipients(kept) == 2
        audit = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "retention.purge")
        ).one()
        assert audit.details["rows"]["campaign_drafts"] == 1
        assert audit.details["rows"]["campaign_draft_recipients"] == 5
        again = retention.purge()
        assert (again["campaign_drafts"], again["campaign_draft_recipients"]) == (0, 0)


def test_a_draft_larger_than_one_run_is_finished_by_the_next(app, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 2)
    monkeypatch.setattr(retention, "MAX_BATCHES", 2)  # 4 recipients a run
    with app.test_request_context():
        draft = _draft(5, DRAFT_HOURS + 2)

        first = retention.purge()
        assert (first["campaign_drafts"], first["campaign_draft_recipients"]) == (0, 4)
        assert _exists(draft) and _recipients(draft) == 1

        second = retention.purge()
        assert (second["campaign_drafts"], second["campaign_draft_recipients"]) == (1, 1)
        assert not _exists(draft)


def test_an_expired_draft_cannot_be_confirmed(app):
    with app.test_request_context():
        expired = db.session.get(Campaign, _draft(2, DRAFT_HOURS + 0.05))
        fresh = db.session.get(Campaign, _draft(2, DRAFT_HOURS - 0.05))
        assert services.draft_expired(expired) and not services.draft_expired(fresh)
        assert services.confirm(expired, actor_label="test") is False
        assert expired.status == "draft"
        assert services.confirm(fresh, actor_label="test") is True
        assert fresh.status == "running"


def test_the_preview_says_drafts_expire_and_a_late_confirm_explains(app, console):
    console.login(Role.OPERATOR)
    with app.test_request_context():
        campaign_id = _draft(2, DRAFT_HOURS + 0.05)
        public_id = db.session.get(Campaign, campaign_id).public_id
    page = console.client.get(f"/campaigns/{public_id}").get_data(as_text=True)
    assert "Drafts not confirmed within 24 hours are deleted." in page
    answer = console.post(f"/campaigns/{public_id}/confirm")
    assert answer.status_code == 303
    shown = console.client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Drafts not confirmed within 24 hours are deleted: upload the file again." in shown
    with app.app_context():
        assert db.session.get(Campaign, campaign_id).status == "draft"
