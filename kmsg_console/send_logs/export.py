"""CSV export of a filtered send log: masked, spreadsheet-safe, streamed in keyset batches."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from kmsg_console.audit.services import record_audit
from kmsg_console.extensions import db
from kmsg_console.send_logs.models import MessageLog
from kmsg_console.send_logs.services import LogFilters, list_page
from kmsg_console.web.timezones import to_local

logger = logging.getLogger(__name__)

#: Rows per CSV export; a larger result must be narrowed first (the count is checked up front,
#: so a file is never silently cut short).
EXPORT_LIMIT = 100_000
EXPORT_BATCH = 1_000

CSV_COLUMNS = (
    "created_at",
    "message_id",
    "status",
    "type",
    "source",
    "provider",
    "recipient",
    "template_code",
    "error_code",
    "vendor_code",
    "vendor_text",
    "http_status",
    "retryable",
    "attempts",
    "sent_at",
    "delivered_at",
    "failed_at",
    "api_key_id",
)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return to_local(value).isoformat(timespec="seconds")
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # A cell starting with = + - @ (or a tab/CR) runs as a formula in spreadsheet software;
    # vendor texts and template codes come from outside, so they are defused.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_row(log: MessageLog) -> list[str]:
    values = (
        log.created_at,
        log.public_id,
        log.status,
        log.type,
        log.source,
        log.provider_code,
        log.to_masked,
        log.template_code,
        log.error_code,
        log.vendor_code,
        log.vendor_text,
        log.http_status,
        log.retryable,
        log.attempt_count,
        log.sent_at,
        log.delivered_at,
        log.failed_at,
        log.api_key_id,
    )
    return [_cell(v) for v in values]


def csv_lines(filters: LogFilters) -> Iterator[str]:
    """The export as CSV text chunks: a BOM (so spreadsheet software reads Korean), a header,
    then matching rows newest first, read in keyset batches so memory stays flat."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + flush()
    cursor = None
    while True:
        page = list_page(filters, cursor=cursor, per_page=EXPORT_BATCH)
        for log in page.items:
            writer.writerow(_csv_row(log))
        yield flush()
        db.session.expunge_all()  # keep the identity map from growing with the export
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def record_export(args: Mapping[str, str], rows: int, recipient: str | None) -> None:
    """Audit an export with its filters (a recipient appears masked, never as its hash)."""
    filters = {k: v for k, v in args.items() if k != "recipient"}
    if "recipient" in args:
        filters["recipient"] = recipient or "?"
    record_audit(
        "send_logs.export", target_type="send_log", details={"filters": filters, "rows": rows}
    )
    logger.info("send log export of %d rows", rows)
