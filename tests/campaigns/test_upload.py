"""Upload and preview: rows read, invalid rows by number, duplicates, opt-outs, type mix."""

from __future__ import annotations

import io
import json

import pytest
import sqlalchemy as sa

from kmsg_console.campaigns import upload
from kmsg_console.campaigns.models import CampaignRecipient
from kmsg_console.extensions import db
from kmsg_console.opt_outs.models import OptOutSource
from kmsg_console.opt_outs.services import add_opt_out
from tests.campaigns.conftest import AD_TEXT, make_campaign


def test_preview_counts_invalid_duplicates_and_types(app):
    lines = [
        "Phone,이름",
        "010-5000-0001,김민수",
        "01050000002," + "가" * 50,  # 100+ bytes: LMS
        "02-123-4567,박",  # a landline: not a mobile number
        "hello,최",
        "010 5000 0001,김민수",  # the first row again
        "",
        "01050000003",  # no name
    ]
    with app.test_request_context():
        campaign = make_campaign(lines, confirm=False)
        preview = upload.Preview.from_dict(campaign.preview)
        assert preview.rows_read == 6
        assert preview.duplicates == 1
        assert preview.to_send == 2
        assert preview.types == {"SMS": 1, "LMS": 1}
        assert [(i["row"], i["reason"]) for i in preview.invalid] == [
            (4, "Messages can only be sent to mobile numbers (010, 011, 016-019)."),
            (5, "Phone number may contain only digits, spaces, hyphens and a leading +."),
            (8, "No value for template variable(s): %(names)s."),
        ]
        assert preview.invalid[2]["params"] == {"names": "이름"}
        assert preview.max_bytes > 90 and preview.min_bytes < 90
        assert preview.estimated_seconds(1) == 2
        rows = db.session.execute(
            sa.select(
                CampaignRecipient.row_number, CampaignRecipient.state, CampaignRecipient.reason
            ).order_by(CampaignRecipient.row_number)
        ).all()
        assert rows == [(2, "pending", None), (3, "pending", None), (6, "skipped", "duplicate")]


def test_numbers_are_never_stored_in_clear(app):
    with app.test_request_context():
        campaign = make_campaign(["phone,이름", "01050000001,김"], confirm=False)
        row = db.session.scalar(sa.select(CampaignRecipient))
        assert row.phone_masked == "010-****-0001"
        values = " ".join(str(v) for v in row.__dict__.values()) + str(campaign.preview)
        assert "50000001" not in values and "김" not in values


def test_cp949_file_is_read(app):
    data = "phone,이름\n01050000001,홍길동\n".encode("cp949")
    with app.test_request_context():
        rows = list(upload.read_csv(io.BytesIO(data)))
    assert rows[0].variables == {"이름": "홍길동"}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "The file is empty."),
        (b"name\nx\n", "The first line must name a phone column."),
        (b"\xff\xfe\xfa\xff phone", "The file is neither UTF-8 nor CP949 text."),
    ],
)
def test_unreadable_files(data, reason):
    with pytest.raises(upload.UploadError) as error:
        list(upload.read_csv(io.BytesIO(data)))
    assert error.value.reason == reason


def test_opted_out_recipients_of_an_ad_campaign_are_skipped(app, solapi):
    with app.test_request_context():
        add_opt_out("010-5000-0002", source=OptOutSource.CONSOLE, actor_label="t")
        add_opt_out("010-5000-0003", "080-123-4567", source=OptOutSource.CONSOLE, actor_label="t")
        add_opt_out("010-5000-0004", "080-999-9999", source=OptOutSource.CONSOLE, actor_label="t")
        db.session.commit()
        lines = ["phone", *[f"0105000000{i}" for i in range(1, 5)]]
        campaign = make_campaign(lines, confirm=False, text=AD_TEXT, ad=True)
        preview = upload.Preview.from_dict(campaign.preview)
        assert (preview.opted_out, preview.to_send) == (2, 2)
        reasons = dict(
            db.session.execute(
                sa.select(CampaignRecipient.row_number, CampaignRecipient.reason)
            ).all()
        )
        assert reasons == {2: None, 3: "opted_out", 4: "opted_out", 5: None}


def test_recipients_written_over_several_batches_keep_their_values(app, monkeypatch):
    # Three batches of two rows: each one goes through the database's final statement (COPY
    # on PostgreSQL, an INSERT on SQLite), with and without variables, skipped and pending.
    monkeypatch.setattr(upload, "BATCH", 2)
    lines = [
        "phone,이름,쿠폰",
        "01050000001,김민수,A-1",
        "01050000002,이영희,",
        "01050000001,김민수,A-1",  # a duplicate
        '01050000003,박\t"탭"\\,B',  # a tab, quotes and a backslash survive COPY's text form
        "01050000004,최,C",
    ]
    with app.test_request_context():
        keyring = app.config["KEYRING"]
        campaign = make_campaign(lines, confirm=False, text="#{이름}님 #{쿠폰}")
        stored = db.session.scalars(
            sa.select(CampaignRecipient)
            .where(CampaignRecipient.campaign_id == campaign.id)
            .order_by(CampaignRecipient.row_number)
        ).all()
        assert [(r.row_number, r.state, r.reason) for r in stored] == [
            (2, "pending", None),
            (3, "pending", None),
            (4, "skipped", "duplicate"),
            (5, "pending", None),
            (6, "pending", None),
        ]
        phones = [keyring.decrypt(r.phone_enc, upload.PHONE_ENC_PURPOSE) for r in stored]
        assert phones == [
            "01050000001",
            "01050000002",
            "01050000001",
            "01050000003",
            "01050000004",
        ]
        variables = [
            json.loads(keyring.decrypt(r.variables_enc, upload.VARIABLES_ENC_PURPOSE))
            for r in stored
        ]
        assert variables[1] == {"이름": "이영희", "쿠폰": ""}
        assert variables[3] == {"이름": '박\t"탭"\\', "쿠폰": "B"}
        assert stored[0].phone_hash == stored[2].phone_hash != stored[1].phone_hash
        assert {r.message_public_id for r in stored} == {None}
        assert campaign.preview["to_send"] == 4


def test_rows_without_variables_store_none(app):
    with app.test_request_context():
        make_campaign(["phone", "01050000001"], confirm=False, text="안내입니다.")
        assert db.session.scalar(sa.select(CampaignRecipient.variables_enc)) is None
