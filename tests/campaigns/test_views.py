"""``/campaigns`` in the console: upload → preview with errors → confirm → progress; pause,
resume, cancel; the failed recipients' export (operators only, audited)."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from kmsg_console.audit.models import AuditEvent
from kmsg_console.campaigns import dispatch
from kmsg_console.campaigns.models import Campaign
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.sending.models import MessageLog
from tests.campaigns.conftest import make_campaign, numbers, run_until_done, simulator_numbers

SEND_PATH = "/messages/v4/send-many/detail"


def _upload(console, lines, **fields):
    data = {
        "name": "겨울 안내",
        "text": "#{이름}님, 안내입니다.",
        "rate": "20",
        "file": (io.BytesIO("\n".join(lines).encode()), "recipients.csv"),
        **fields,
    }
    return console.post("/campaigns/new", data=data, content_type="multipart/form-data")


def _campaign(app) -> tuple[int, str]:
    with app.app_context():
        campaign = db.session.scalars(sa.select(Campaign).order_by(Campaign.id.desc())).first()
        return campaign.id, campaign.public_id


def test_upload_preview_confirm_and_follow_progress(app, console, solapi, clock):
    console.login(Role.OPERATOR)
    phones = numbers(3)
    lines = ["phone,이름", *[f"{p},고객" for p in phones], "010-12,나", f"{phones[0]},중복"]
    answer = _upload(console, lines)
    assert answer.status_code == 303
    _, public_id = _campaign(app)
    page = console.client.get(f"/campaigns/{public_id}").get_data(as_text=True)
    assert "Line 5: " in page and "Duplicates (sent once)" in page
    assert "Confirm and send to 3 recipients" in page
    assert "010-12" not in page  # an invalid row is named by its line, not its number
    assert solapi.control.messages("solapi") == []
    assert console.post(f"/campaigns/{public_id}/confirm").status_code == 303
    with app.app_context():
        run_until_done()
    fragment = console.client.get(
        f"/campaigns/{public_id}/progress", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert 'id="count-sent">3<' in fragment and "hx-trigger" not in fragment  # finished
    assert simulator_numbers(solapi) == {p: 1 for p in phones}
    listing = console.client.get("/campaigns").get_data(as_text=True)
    assert "겨울 안내" in listing and "Completed" in listing


def test_a_bad_file_and_a_bad_form_re_render_with_errors(app, console):
    console.login(Role.OPERATOR)
    answer = _upload(console, ["name", "x"])
    assert answer.status_code == 422
    assert "The first line must name a phone column." in answer.get_data(as_text=True)
    answer = _upload(console, ["phone", "01050000001"], text="", template_code="")
    assert answer.status_code == 422
    assert "Give either a text or an AlimTalk template code." in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0


def test_pause_resume_cancel_and_export(app, console, solapi, clock):
    console.login(Role.OPERATOR)
    _upload(console, ["phone,이름", *[f"{p},고객" for p in numbers(4)]])
    campaign_id, public_id = _campaign(app)
    console.post(f"/campaigns/{public_id}/confirm")
    assert console.post(f"/campaigns/{public_id}/pause").status_code == 303
    page = console.client.get(f"/campaigns/{public_id}").get_data(as_text=True)
    assert "Paused" in page and 'id="resume"' in page
    console.post(f"/campaigns/{public_id}/resume")
    console.post(f"/campaigns/{public_id}/cancel")
    with app.app_context():
        assert db.session.get(Campaign, campaign_id).status == "cancelled"
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.target_id == public_id)
        ).all()
    assert actions == [
        "campaign.create",
        "campaign.confirm",
        "campaign.pause",
        "campaign.resume",
        "campaign.cancel",
    ]
    assert solapi.control.messages("solapi") == []


def test_failed_recipients_export_real_numbers_to_operators_only(app, console, solapi, clock):
    console.login(Role.OPERATOR)
    phones = numbers(2)
    _upload(console, ["phone,이름", *[f"{p},고객{i}" for i, p in enumerate(phones)]])
    campaign_id, public_id = _campaign(app)
    console.post(f"/campaigns/{public_id}/confirm")
    with app.app_context():
        db.session.execute(
            sa.text("UPDATE campaign_recipient SET state = 'failed', reason = 'invalid_sender'")
        )
        db.session.commit()
    page = console.client.get(f"/campaigns/{public_id}").get_data(as_text=True)
    # No message was written for these (as for a refusal before sending): nothing to link to.
    unlogged = page.split('id="campaign-unlogged"')[1].split("</ul>")[0]
    assert "<code>invalid_sender</code> · 2" in unlogged
    assert "error_code=invalid_sender" not in page
    export = console.post(f"/campaigns/{public_id}/failed.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    text = export.get_data(as_text=True)
    assert f"{phones[0]},고객0,2,failed,invalid_sender" in text
    with app.app_context():
        audited = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "campaign.export_failed")
        )
        assert audited.details["rows"] == 2
    console.post("/logout")
    console.login(Role.VIEWER)
    assert console.post(f"/campaigns/{public_id}/failed.csv").status_code == 403
    assert console.client.get("/campaigns").status_code == 200
    assert console.client.get("/campaigns/new").status_code == 403


def _send_log_ids(console, url: str) -> list[str]:
    answer = console.client.get(url)
    assert answer.status_code == 200
    return re.findall(r'id="message-([0-9a-f-]{36})"', answer.get_data(as_text=True))


def _messages(app, campaign_id: int, **where) -> set[str]:
    with app.app_context():
        query = sa.select(MessageLog.public_id).where(MessageLog.campaign_id == campaign_id)
        for name, value in where.items():
            query = query.where(getattr(MessageLog, name) == value)
        return set(db.session.scalars(query))


def test_progress_links_lead_to_exactly_the_campaigns_messages(
    app, console, solapi, clock, monkeypatch
):
    """Each failure group links to the send log filtered by the campaign, status and code,
    and lists as many messages as the group counts; another campaign's failures with the
    same code stay out. (One recipient a request: a fault armed for N requests hits N.)"""
    monkeypatch.setattr(dispatch, "MAX_GROUP", 1)
    lines = ["phone,이름", *[f"{p},고객" for p in numbers(5)]]
    with app.test_request_context():
        other = make_campaign(["phone,이름", f"{numbers(1, start=50)[0]},고객"], name="다른 안내")
        solapi.control.inject("solapi", "vendor_error", path=SEND_PATH, code="1062", count=1)
        run_until_done()
        campaign = make_campaign(lines, rate=100)
        campaign_id, public_id = campaign.id, campaign.public_id
        solapi.control.inject("solapi", "vendor_error", path=SEND_PATH, code="1062", count=2)
        run_until_done()
        solapi.control.inject("solapi", "reset", process=True, count=1)
        third = make_campaign(lines, name="세 번째", rate=100)
        run_until_done()
        run_until_done(stale_after=timedelta(0))
        other_id, third_id, third_public_id = other.id, third.id, third.public_id
    assert _messages(app, other_id, status="FAILED")  # the same code elsewhere

    console.login(Role.VIEWER)
    page = console.client.get(f"/campaigns/{public_id}").get_data(as_text=True)
    section = page.split('id="campaign-failures"')[1].split("</section>")[0]
    groups = re.findall(r'<a href="([^"]+)"><code>([^<]+)</code></a>\s*· (\d+)', section)
    assert [(code, count) for _, code, count in groups] == [("INVALID_REQUEST", "2")]
    url = unescape(groups[0][0])
    assert parse_qs(urlsplit(url).query) == {
        "campaign": [public_id],
        "status": ["FAILED"],
        "error_code": ["INVALID_REQUEST"],
    }
    failed = _messages(app, campaign_id, status="FAILED", error_code="INVALID_REQUEST")
    assert len(failed) == 2 and set(_send_log_ids(console, url)) == failed

    everything = unescape(re.search(r'href="([^"]+)" id="campaign-send-log"', page).group(1))
    assert set(_send_log_ids(console, everything)) == _messages(app, campaign_id)

    # An unknown outcome is its own group, linked the same way.
    page = console.client.get(f"/campaigns/{third_public_id}").get_data(as_text=True)
    section = page.split('id="campaign-failures"')[1].split("</section>")[0]
    assert 'data-status="UNKNOWN"' in section
    (link,) = re.findall(r'<a href="([^"]+)"><code>', section)
    unknown = _messages(app, third_id, status="UNKNOWN")
    assert len(unknown) == 1 and set(_send_log_ids(console, unescape(link))) == unknown
