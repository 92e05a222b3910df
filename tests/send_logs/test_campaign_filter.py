"""/send-logs?campaign=<public id>: a campaign's messages only, in the list, its pages and its
CSV export; shown by the campaign's name with a way to clear it; an unknown id is a 422."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from kmsg_console.audit.models import AuditEvent
from kmsg_console.campaigns.models import Campaign
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role


def _ids(response) -> list[str]:
    return re.findall(r'id="message-([0-9a-f-]{36})"', response.get_data(as_text=True))


@pytest.fixture
def add_campaign(app):
    def add(name: str) -> tuple[int, str]:
        with app.app_context():
            campaign = Campaign(
                public_id=f"cmp_{abs(hash(name)):024x}"[:28],
                name=name,
                status="completed",
                rate=10,
                created_by="test",
                preview={},
            )
            db.session.add(campaign)
            db.session.commit()
            return campaign.id, campaign.public_id

    return add


def test_the_campaign_filter_keeps_its_messages_and_shows_its_name(
    app, console, add_log, add_campaign
):
    winter, winter_id = add_campaign("겨울 안내")
    spring, _ = add_campaign("봄 안내")
    start = datetime.now(UTC) - timedelta(hours=1)
    ours = [
        add_log(campaign_id=winter, source="campaign", created_at=start + timedelta(minutes=i))
        for i in range(3)
    ]
    add_log(campaign_id=spring, source="campaign", created_at=start + timedelta(minutes=1))
    add_log(source="api", created_at=start + timedelta(minutes=2))
    app.config["PAGE_SIZE"] = 2
    console.login(Role.VIEWER)

    response = console.client.get("/send-logs", query_string={"campaign": winter_id})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    chip = text.split('id="campaign-filter"')[1].split("</span>")[0]
    assert "겨울 안내" in chip and "봄 안내" not in text
    assert f'name="campaign" type="hidden" value="{winter_id}"' in text  # kept by the form
    clear = unescape(re.search(r'href="([^"]*)" aria-label="Remove the campaign filter"', chip)[1])
    assert "campaign" not in parse_qs(urlsplit(clear).query)

    seen = _ids(response)
    older = unescape(re.search(r'href="([^"]*cursor=[^"]*)"', text)[1])
    assert parse_qs(urlsplit(older).query)["campaign"] == [winter_id]
    seen += _ids(console.client.get(older))
    assert seen == list(reversed(ours))

    # With another filter, both hold; clearing the campaign keeps the other one.
    failed = add_log(campaign_id=winter, source="campaign", status="FAILED")
    add_log(source="api", status="FAILED")
    response = console.client.get(f"/send-logs?campaign={winter_id}&status=FAILED")
    assert _ids(response) == [failed]
    clear = unescape(
        re.search(
            r'href="([^"]*)" aria-label="Remove the campaign filter"',
            response.get_data(as_text=True),
        )[1]
    )
    assert parse_qs(urlsplit(clear).query) == {"status": ["FAILED"]}


def test_the_export_holds_only_the_campaigns_messages_and_is_audited_with_it(
    app, console, add_log, add_campaign
):
    winter, winter_id = add_campaign("겨울 안내")
    ours = add_log(campaign_id=winter, source="campaign")
    add_log(source="api")
    console.login(Role.VIEWER)
    listing = console.client.get(f"/send-logs?campaign={winter_id}").get_data(as_text=True)
    export_url = unescape(re.search(r'href="([^"]*export\.csv[^"]*)"', listing)[1])
    assert parse_qs(urlsplit(export_url).query) == {"campaign": [winter_id]}
    response = console.client.get(export_url)
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True)[1:])))
    assert [r["message_id"] for r in rows] == [ours]
    with app.app_context():
        audited = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "send_logs.export")
        )
        assert audited.details == {"filters": {"campaign": winter_id}, "rows": 1}


@pytest.mark.parametrize("value", ["cmp_000000000000000000000000", "x" * 300, "' OR 1=1 --"])
@pytest.mark.parametrize("path", ["/send-logs", "/send-logs/export.csv"])
def test_an_unknown_campaign_is_a_clear_422(console, add_log, path, value):
    add_log()
    console.login(Role.VIEWER)
    response = console.client.get(path, query_string={"campaign": value})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "No campaign has this id" in text
    assert _ids(response) == []
