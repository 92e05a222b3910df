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
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from kmsg_console.extensions import db

T = TypeVar("T")


class BadCursor(ValueError):
    """The cursor in the query string was not made by this console."""


def encode_cursor(moment: datetime, row_id: int) -> str:
    payload = json.dumps([moment.isoformat(), row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment_text, row_id = json.loads(raw)
        moment = datetime.fromisoformat(moment_text)
        if moment.tzinfo is None or not isinstance(row_id, int):
            raise ValueError
    except (binascii.Error, ValueError, TypeError) as exc:
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
