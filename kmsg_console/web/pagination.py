"""Keyset (cursor) pagination over ``(timestamp, id)`` in descending order.

OFFSET paging gets slower the deeper you go and skips or repeats rows while new ones
arrive; a cursor that says "rows strictly older than (t, id)" does neither, and is served
by a composite index on the same two columns.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from kmsg_console.extensions import db

T = TypeVar("T")


class BadCursor(ValueError):
    """The cursor in the query string was not made by this console."""


def encode_cursor(moment: datetime, row_id: int) -> str:
    payload = json.dumps([moment.isoformat(), row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


#: Row ids are signed 64-bit on every backend; a larger number fails inside the driver.
MAX_ROW_ID = 2**63 - 1
#: What ``encode_cursor`` makes is under 100 characters; refusing longer input up front keeps
#: the JSON parser away from deeply nested or huge payloads.
MAX_CURSOR_LENGTH = 200


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The ``(moment, id)`` in ``cursor``, with ``moment`` in UTC.

    The cursor comes back from the browser, so anything of the wrong shape, type or range
    raises BadCursor here instead of failing later inside a query.

    :raises BadCursor: when ``cursor`` was not made by ``encode_cursor``.
    """
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise BadCursor("too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
        if not isinstance(value, list) or len(value) != 2:
            raise ValueError("not a pair")
        moment_text, row_id = value
        if not isinstance(moment_text, str):
            raise ValueError("moment is not text")
        # bool is a subclass of int, and True would reach the database as a boolean.
        if type(row_id) is not int or not 0 <= row_id <= MAX_ROW_ID:
            raise ValueError("id out of range")
        moment = datetime.fromisoformat(moment_text)
        if moment.tzinfo is None:
            raise ValueError("moment without a time zone")
        # Year 1 at +14:00 is a valid datetime that has no UTC equivalent; converting here
        # catches it before the column type tries to.
        moment = moment.astimezone(UTC)
    except (binascii.Error, ValueError, TypeError, OverflowError) as exc:
        raise BadCursor(str(exc)) from exc
    return moment, row_id


@dataclass
class Page(Generic[T]):
    """One page of rows and the cursor of the next page (None on the last page)."""

    items: list[T]
    next_cursor: str | None


def keyset_page(
    query: sa.Select[Any],
    time_column: Any,
    id_column: Any,
    *,
    cursor: str | None,
    per_page: int,
) -> Page[Any]:
    """Run ``query`` newest first, starting after ``cursor``, and return one page."""
    if cursor:
        moment, row_id = decode_cursor(cursor)
        query = query.where(
            sa.or_(time_column < moment, sa.and_(time_column == moment, id_column < row_id))
        )
    query = query.order_by(time_column.desc(), id_column.desc()).limit(per_page + 1)
    rows = list(db.session.scalars(query))
    more = len(rows) > per_page
    rows = rows[:per_page]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, time_column.key), getattr(last, id_column.key))
    return Page(items=rows, next_cursor=next_cursor)
