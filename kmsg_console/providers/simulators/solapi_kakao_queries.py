"""Query strings of SOLAPI's Kakao lists: ``field[operator]=value`` conditions and paging.

SOLAPI's Kakao channel and template lists take ``field=value`` or ``field[operator]=value``. The
clients put these on the wire: the Node SDK sends ``name[like]`` (a plain ``name`` becomes
``{like: name}``), ``name[eq]``, ``name[ne]``, ``dateCreated[gte]`` and ``dateCreated[lte]`` (from
its ``startDate``/``endDate``); the Kotlin SDK also sends ``dateCreated``/``dateUpdated`` with
``eq``, ``gt`` and ``lt``. SOLAPI's query documentation allows ``eq, ne, like`` on text fields and
``eq, gte, lte, gt, lt`` on dates. ``like`` is read as "contains".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from .common import as_int

TEXT, DATE, FLAG = "text", "date", "flag"
OPERATORS = {TEXT: ("eq", "ne", "like"), DATE: ("eq", "gte", "lte", "gt", "lt"), FLAG: ("eq",)}
DEFAULT_LIMIT, MAX_LIMIT = 20, 500

_KEYED = re.compile(r"^(\w+)\[(\w+)\]$")

Condition = tuple[str, str, str, Any]  # field, kind, operator, value


class QueryError(ValueError):
    """A query SOLAPI refuses (unknown operator, unreadable date); the text says why."""


def conditions(args: Mapping[str, str], fields: Mapping[str, str]) -> list[Condition]:
    """The conditions in ``args`` on ``fields`` (field -> kind); other parameters are ignored."""
    found: list[Condition] = []
    for key, raw in args.items():
        keyed = _KEYED.match(key)
        field, operator = keyed.groups() if keyed else (key, "eq")
        kind = fields.get(field)
        if kind is None:
            continue
        if operator not in OPERATORS[kind]:
            raise QueryError(f"{field} 에는 {operator} 연산자를 쓸 수 없습니다.")
        found.append((field, kind, operator, _value(kind, field, raw)))
    return found


def _value(kind: str, field: str, raw: str) -> Any:
    if kind == DATE:
        moment = parse_date(raw)
        if moment is None:
            raise QueryError(f"{field} 의 날짜 형식이 올바르지 않습니다: {raw}")
        return moment
    if kind == FLAG:
        return raw.strip().lower() == "true"
    return raw


def parse_date(text: Any) -> datetime | None:
    """ISO-8601 with ``Z`` or an offset (a naive value is UTC); None when unreadable."""
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def matches(row: Mapping[str, Any], found: Iterable[Condition]) -> bool:
    """True when ``row`` meets every condition."""
    return all(_meets(row.get(field), kind, op, want) for field, kind, op, want in found)


def _meets(have: Any, kind: str, operator: str, want: Any) -> bool:
    if kind == FLAG:
        return bool(have) == want
    if kind == DATE:
        moment = parse_date(have)
        if moment is None:
            return False
        return {
            "eq": moment == want,
            "gte": moment >= want,
            "lte": moment <= want,
            "gt": moment > want,
            "lt": moment < want,
        }[operator]
    text = "" if have is None else str(have)
    if operator == "like":
        return want in text
    return (text == want) == (operator == "eq")


def page(
    rows: list[dict[str, Any]], args: Mapping[str, str], id_key: str, list_key: str
) -> dict[str, Any]:
    """One page of ``rows`` in SOLAPI's list shape; ``nextKey`` is where the next page starts."""
    limit = max(1, min(as_int(args.get("limit"), DEFAULT_LIMIT), MAX_LIMIT))
    start = args.get("startKey") or None
    if start:
        ids = [row[id_key] for row in rows]
        rows = rows[ids.index(start) :] if start in ids else []
    shown, rest = rows[:limit], rows[limit:]
    return {
        "limit": limit,
        "startKey": start,
        "nextKey": rest[0][id_key] if rest else None,
        list_key: shown,
    }
