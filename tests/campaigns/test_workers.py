"""Several workers share one campaign (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite has one
writer, so one worker there): no recipient is sent twice, none is left out. First as threads
of this process (both backends), then as two worker processes (PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import sqlalchemy as sa

from kmsg_console.campaigns import dispatch, services
from kmsg_console.campaigns.models import Campaign, CampaignRecipient
from kmsg_console.extensions import db
from kmsg_console.sending.models import MessageLog
from tests.campaigns.conftest import make_campaign, numbers, simulator_numbers
from tests.campaigns.worker_process import campaign_status, start_worker, wait_for


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


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_worker_processes_share_one_campaign(
    app, database_url, instance_dir, solapi, clock, tmp_path
):
    """Two worker processes on PostgreSQL, started together on one campaign: both take part,
    no recipient is claimed by both, each number reaches the vendor once."""
    total = 6_000
    phones = numbers(total)
    solapi.control.set_balance("solapi", 10**9)
    with app.test_request_context():
        campaign = make_campaign(["phone,이름", *[f"{p},고객" for p in phones]], rate=200)
        campaign_id = campaign.id
        db.session.execute(sa.update(Campaign).values(rate=100_000))  # no pacing: speed only
        db.session.commit()
    claims = [tmp_path / "first", tmp_path / "second"]
    workers = [start_worker(database_url, instance_dir, path, stale_seconds=120) for path in claims]
    try:
        wait_for(
            lambda: campaign_status(app, campaign_id) == "completed", timeout=400, what="the end"
        )
    finally:
        for worker in workers:
            worker.kill()
            worker.wait(10)
    taken = [Counter(path.read_text().split()) for path in claims]
    assert all(taken)  # each process claimed recipients
    assert not set(taken[0]) & set(taken[1])
    assert len(set(taken[0]) | set(taken[1])) == total
    with app.app_context():
        assert Counter(db.session.scalars(sa.select(CampaignRecipient.state))) == {"sent": total}
        logs = sa.select(sa.func.count()).select_from(MessageLog)
        assert db.session.scalar(logs.where(MessageLog.campaign_id == campaign_id)) == total
    assert simulator_numbers(solapi) == {p: 1 for p in phones}
