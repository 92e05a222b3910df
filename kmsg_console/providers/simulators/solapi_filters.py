"""Query strings of SOLAPI's list endpoints: filters, date ranges and paging.

The SDKs name their message filters directly (``messageId``, ``messageIds``, ``groupId``,
``to``, ``from``, ``type``, ``statusCode``, ``dateType`` with ``startDate``/``endDate``) and
find one group through SOLAPI's generic ``criteria``/``cond``/``value`` triple, which SOLAPI's
documentation gives for both lists (comma-separated, operators eq, ne, gt, gte, lt, lte).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from werkzeug.datastructures import MultiDict

from .common import KST

Row = Mapping[str, Any]
Check = Callable[[Row], bool]

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
_DATE_FIELDS = frozenset({"dateCreated", "dateUpdated", "scheduledDate", "dateSent"})
_DATE_TYPES = {"CREATED": "dateCreated", "UPDATED": "dateUpdated"}
_MESSAGE_FIELDS = ("messageId", "groupId", "type", "statusCode")
_PHONE_FIELDS = ("to", "from")
MAX_LIMIT = 500


class QueryRefused(ValueError):
    """A query SOLAPI would answer with a ``ValidationError``; the text says why."""


def parse_date(text: str) -> datetime:
    """A date of a query: ISO-8601 (``Z``, an offset or none), or ``YYYY-MM-DD HH:MM:SS``.

    A date without a zone is Korean time, the zone SOLAPI's console and documents use. A ``+``
    left unencoded in a query string arrives as a space (``…T10:00:00 09:00``) and is put back.
    """
    raw = re.sub(r"(T.*\d) (\d{2}:?\d{2})$", r"\1+\2", text.strip())
    for candidate in (raw, raw.replace(" ", "T", 1)):
        try:
            parsed = datetime.fromisoformat(candidate)
            break
        except ValueError:
            continue
    else:
        raise QueryRefused(f"날짜 형식이 올바르지 않습니다: {text!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=KST)


def message_filter(args: MultiDict[str, str]) -> Check:
    """What a stored message must match for the message lists (``list``, ``list-old``)."""
    checks = _criteria(args)
    for name in _MESSAGE_FIELDS:
        if args.get(name):
            checks.append(_equals(name, args[name]))
    for name in _PHONE_FIELDS:
        if args.get(name):
            checks.append(_same_number(name, args[name]))
    ids = message_ids(args)
    if ids:
        checks.append(lambda row: row.get("messageId") in ids)
    date_type = (args.get("dateType") or "CREATED").upper()
    if date_type not in _DATE_TYPES:
        raise QueryRefused("dateType 은 CREATED 또는 UPDATED 여야 합니다.")
    checks.extend(_date_range(args, _DATE_TYPES[date_type]))
    return lambda row: all(check(row) for check in checks)


def group_filter(args: MultiDict[str, str]) -> Check:
    """What a group must match for the group list."""
    checks = [*_criteria(args), *_date_range(args, "dateCreated")]
    return lambda row: all(check(row) for check in checks)


def message_ids(args: MultiDict[str, str]) -> set[str]:
    """The ids of a ``messageIds`` filter in every form the SDKs send it.

    The Node SDK repeats the key (``messageIds=a&messageIds=b``); the Python SDK (5.0.3)
    URL-encodes the list without ``doseq``, so it arrives as the list's text
    (``['a', 'b']``). Both are taken, as is a comma-separated value.
    """
    ids: set[str] = set()
    for value in [*args.getlist("messageIds"), *args.getlist("messageIds[]")]:
        for part in value.strip().strip("[]").split(","):
            part = part.strip().strip("'\"")
            if part:
                ids.add(part)
    return ids


def page(
    rows: list[dict[str, Any]], args: MultiDict[str, str], key: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One page of ``rows``: the answer's paging fields and the rows on it.

    ``startKey`` is the key of the page's first row and ``nextKey`` that of the next page.
    """
    try:
        limit = max(1, min(int(args.get("limit", 20)), MAX_LIMIT))
    except ValueError as exc:
        raise QueryRefused("limit 은 숫자여야 합니다.") from exc
    start = args.get("startKey") or None
    if start:
        keys = [row[key] for row in rows]
        rows = rows[keys.index(start) :] if start in keys else []
    on_page, rest = rows[:limit], rows[limit:]
    paging = {"startKey": start, "limit": limit, "nextKey": rest[0][key] if rest else None}
    return paging, on_page


def _equals(name: str, want: str) -> Check:
    return lambda row: str(row.get(name) or "") == want


def _same_number(name: str, want: str) -> Check:
    """Phone numbers compare without their hyphens, which SOLAPI strips on intake."""
    digits = want.replace("-", "")
    return lambda row: str(row.get(name) or "").replace("-", "") == digits


def _criteria(args: MultiDict[str, str]) -> list[Check]:
    fields, conds, values = (_split(args.get(name)) for name in ("criteria", "cond", "value"))
    if not len(fields) == len(conds) == len(values):
        raise QueryRefused("criteria, cond, value 의 개수가 같아야 합니다.")
    checks: list[Check] = []
    for field, cond, value in zip(fields, conds, values, strict=True):
        compare = _OPERATORS.get(cond)
        if compare is None:
            raise QueryRefused(f"cond 는 {', '.join(_OPERATORS)} 중 하나여야 합니다.")
        checks.append(_criterion(field, compare, value))
    return checks


def _criterion(field: str, compare: Callable[[Any, Any], bool], value: str) -> Check:
    if field in _DATE_FIELDS:
        wanted_date = parse_date(value)
        return lambda row: (
            bool(row.get(field)) and compare(parse_date(str(row[field])), wanted_date)
        )
    return lambda row: compare(_text(row.get(field)), value)


def _date_range(args: MultiDict[str, str], field: str) -> list[Check]:
    checks: list[Check] = []
    if args.get("startDate"):
        start = parse_date(args["startDate"])
        checks.append(lambda row: parse_date(str(row[field])) >= start)
    if args.get("endDate"):
        end = parse_date(args["endDate"])
        checks.append(lambda row: parse_date(str(row[field])) <= end)
    return checks


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in value.split(",")] if value else []


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
