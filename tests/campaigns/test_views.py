"""``/campaigns`` in the console: upload → preview with errors → confirm → progress; pause,
resume, cancel; the failed recipients' export (operators only, audited)."""

from __future__ import annotations

import io

import sqlalchemy as sa

from kmsg_console.audit.models import AuditEvent
from kmsg_console.campaigns.models import Campaign
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from tests.campaigns.conftest import numbers, run_until_done, simulator_numbers


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
    assert "invalid_sender" in page and "error_code=invalid_sender" in page
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
