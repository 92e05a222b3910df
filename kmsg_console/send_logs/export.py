"""CSV export of a filtered send log: masked, spreadsheet-safe, streamed in keyset batches."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator, Mapping
from datetime import datetime, tzinfo
from typing import Any

import sqlalchemy as sa

from kmsg_console.audit.services import record_audit
from kmsg_console.extensions import db
from kmsg_console.send_logs.services import LogFilters, filtered_query
from kmsg_console.sending.models import MessageLog
from kmsg_console.web.timezones import operator_zone, to_local

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


def _cell(value: Any, zone: tzinfo | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        local = value.astimezone(zone) if zone is not None else to_local(value)
        return local.isoformat(timespec="seconds")
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # A cell starting with = + - @ (or a tab/CR) runs as a formula in spreadsheet software;
    # vendor texts and template codes come from outside, so they are defused.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


#: What a row of the export holds, in ``CSV_COLUMNS`` order.
_EXPORTED = (
    MessageLog.created_at,
    MessageLog.public_id,
    MessageLog.status,
    MessageLog.type,
    MessageLog.source,
    MessageLog.provider_code,
    MessageLog.to_masked,
    MessageLog.template_code,
    MessageLog.error_code,
    MessageLog.vendor_code,
    MessageLog.vendor_text,
    MessageLog.http_status,
    MessageLog.retryable,
    MessageLog.attempt_count,
    MessageLog.sent_at,
    MessageLog.delivered_at,
    MessageLog.failed_at,
    MessageLog.api_key_id,
)


def _batches(filters: LogFilters) -> Iterator[list[sa.Row[Any]]]:
    """The matching rows newest first, ``EXPORT_BATCH`` at a time, keyset-paged like the list.

    Only the exported columns are read (not whole messages with their encrypted bodies), and
    each batch starts at the previous one's last ``(created_at, id)`` through the same
    ``created_at <= t`` bound the list pages use, so every batch costs the same.
    """
    query = filtered_query(filters).with_only_columns(
        *_EXPORTED, MessageLog.id, maintain_column_froms=True
    )
    order = (MessageLog.created_at.desc(), MessageLog.id.desc())
    last: tuple[datetime, int] | None = None
    while True:
        page = query
        if last is not None:
            moment, row_id = last
            page = page.where(
                MessageLog.created_at <= moment,
                sa.or_(
                    MessageLog.created_at < moment,
                    sa.and_(MessageLog.created_at == moment, MessageLog.id < row_id),
                ),
            )
        rows = db.session.execute(page.order_by(*order).limit(EXPORT_BATCH)).all()
        if rows:
            yield rows
        if len(rows) < EXPORT_BATCH:
            return
        last = (rows[-1].created_at, rows[-1].id)


def csv_lines(filters: LogFilters) -> Iterator[str]:
    """The export as CSV text chunks: a BOM (so spreadsheet software reads Korean), a header,
    then matching rows newest first, read in keyset batches so memory stays flat."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    zone = operator_zone()  # once per export, not once per timestamp

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + flush()
    width = len(_EXPORTED)
    for rows in _batches(filters):
        for row in rows:
            writer.writerow([_cell(row[i], zone) for i in range(width)])
        yield flush()
    if buffer.tell():
        yield flush()


def record_export(args: Mapping[str, str], rows: int, recipient: str | None) -> None:
    """Audit an export with its filters (a recipient appears masked, never as its hash)."""
    filters = {k: v for k, v in args.items() if k != "recipient"}
    if "recipient" in args:
        filters["recipient"] = recipient or "?"
    record_audit(
        "send_logs.export", target_type="send_log", details={"filters": filters, "rows": rows}
    )
    logger.info("send log export of %d rows", rows)
