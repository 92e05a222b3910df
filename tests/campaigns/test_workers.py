"""Several workers share one campaign (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite has one
writer, so one worker there): no recipient is sent twice, none is left out."""

from __future__ import annotations

import threading
from collections import Counter

import sqlalchemy as sa

from kmsg_console.campaigns import dispatch, services
from kmsg_console.campaigns.models import Campaign, CampaignRecipient
from kmsg_console.extensions import db
from kmsg_console.sending.models import MessageLog
from tests.campaigns.conftest import make_campaign, numbers, simulator_numbers


def test_workers_share_one_campaign_without_sending_twice(app, backend, solapi, clock):
    workers = 2 if backend == "postgresql" else 1
    phones = numbers(120)
    with app.test_request_context():
        campaign = make_campaign(["phone,이름", *[f"{p},고객" for p in phones]], rate=200)
        campaign_id = campaign.id
    claimed_by: dict[int, Counter] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(workers)

    def work(index: int) -> None:
        counted: Counter = Counter()
        claimed_by[index] = counted
        try:
            with app.app_context():
                barrier.wait()
                for _ in range(100):
                    campaign = db.session.get(Campaign, campaign_id)
                    batch = dispatch.claim(campaign, 10)
                    if not batch:
                        break
                    counted.update(item.id for item in batch)
                    common = services.common_variables(campaign)
                    dispatch.send_group(campaign, common, batch)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    all_claims = sum(claimed_by.values(), Counter())
    assert set(all_claims.values()) == {1} and len(all_claims) == 120
    assert all(claimed_by[index] for index in range(workers))  # each took part
    with app.app_context():
        dispatch.run_round()
        assert db.session.get(Campaign, campaign_id).status == "completed"
        states = db.session.scalars(sa.select(CampaignRecipient.state)).all()
        assert Counter(states) == {"sent": 120}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MessageLog)) == 120
    assert simulator_numbers(solapi) == {p: 1 for p in phones}
