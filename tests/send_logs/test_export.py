"""CSV export: the filtered rows, masked, spreadsheet-safe, streamed in batches, audited, bounded."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.send_logs import export
from tests.send_logs.conftest import OTHER_PHONE


def _rows(response) -> list[dict[str, str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # Excel opens UTF-8 Korean correctly only with a BOM
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_export_holds_the_filtered_rows_masked_and_in_local_time(app, console, add_log):
    failed = add_log(
        status="FAILED",
        error_code="PROVIDER_ERROR",
        vendor_text='=HYPERLINK("http://x")',
        template_code="+ORDER",
        created_at=datetime(2026, 3, 1, 0, 30, tzinfo=UTC),
    )
    add_log(status="SENT")
    console.login(Role.VIEWER)
    response = console.client.get("/send-logs/export.csv?status=FAILED")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert re.fullmatch(
        r'attachment; filename="send-logs-\d{8}-\d{4}\.csv"',
        response.headers["Content-Disposition"],
    )
    rows = _rows(response)
    assert [r["message_id"] for r in rows] == [failed]
    row = rows[0]
    assert row["recipient"] == "010-****-1357" and "01024681357" not in response.get_data(
        as_text=True
    )
    assert row["created_at"] == "2026-03-01T09:30:00+09:00"
    assert (
        row["vendor_text"].startswith("'=") and row["template_code"] == "'+ORDER"
    )  # no formula runs
    assert tuple(rows[0].keys()) == export.CSV_COLUMNS


def test_export_streams_every_row_once_across_batches(console, add_log, monkeypatch):
    monkeypatch.setattr(export, "EXPORT_BATCH", 2)
    start = datetime.now(UTC) - timedelta(hours=1)
    ids = [add_log(created_at=start + timedelta(minutes=i)) for i in range(5)]
    console.login(Role.VIEWER)
    rows = _rows(console.client.get("/send-logs/export.csv"))
    assert [r["message_id"] for r in rows] == list(reversed(ids))


def test_export_is_audited_with_the_filters_and_never_the_number(app, console, add_log):
    add_log(phone=OTHER_PHONE)
    console.login(Role.VIEWER)
    listing = console.client.get(
        "/send-logs", query_string={"phone": OTHER_PHONE, "status": "SENT"}
    )
    export_url = listing.headers["Location"].replace("/send-logs?", "/send-logs/export.csv?")
    assert len(_rows(console.client.get(export_url))) == 1
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "send_logs.export")
        )
        assert event.details == {
            "filters": {"status": "SENT", "recipient": "010-****-5432"},
            "rows": 1,
        }
        assert "9876" not in str(event.details)


def test_too_large_an_export_is_refused_with_a_hint(app, console, add_log, monkeypatch):
    monkeypatch.setattr(export, "EXPORT_LIMIT", 2)
    for _ in range(3):
        add_log()
    console.login(Role.VIEWER)
    response = console.client.get("/send-logs/export.csv?type=SMS")
    assert response.status_code == 303 and response.headers["Location"] == "/send-logs?type=SMS"
    assert "narrow the filters" in console.client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "send_logs.export")
            )
            == 0
        )


def test_export_with_bad_filters_is_422(console):
    console.login(Role.VIEWER)
    assert console.client.get("/send-logs/export.csv?status=NOPE").status_code == 422


def test_an_unfiltered_export_counts_every_message(app, console, add_log, monkeypatch):
    # Without any filter the count must still read the table (it once was "SELECT count(*)" = 1).
    monkeypatch.setattr(export, "EXPORT_LIMIT", 2)
    for _ in range(3):
        add_log()
    console.login(Role.VIEWER)
    response = console.client.get("/send-logs/export.csv")
    assert response.status_code == 303 and response.headers["Location"] == "/send-logs"
