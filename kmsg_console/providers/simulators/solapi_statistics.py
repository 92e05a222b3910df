"""SOLAPI usage statistics (``GET /messages/v4/statistics``), worked out from the stored messages.

The shape is the Node SDK's (6.0.1, ``getStatisticsResponseSchema``) with the rest of SOLAPI's
sample answer (a top-level ``dayPeriod`` and ``refund``). ``balance`` is the cash spent in the
period and ``refund`` what cancelled reservations gave back; ``total`` counts every accepted
message, ``successed`` the delivered ones and ``failed`` the ones that ended in failure.
Months are ``YYYY/MM`` and days ``YYYY/MM/DD`` in Korean time, as SOLAPI writes them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from .common import KST
from .solapi_filters import parse_date
from .solapi_groups import TYPE_KEYS, group_messages
from .solapi_messages import is_final
from .state import SimulatorState

_OUTCOMES = ("total", "successed", "failed")


class _Tally:
    """Counts and money of one day, one month or the whole period."""

    def __init__(self) -> None:
        self.spent = 0.0
        self.refund = 0.0
        self.counts = {name: dict.fromkeys(["total", *TYPE_KEYS], 0) for name in _OUTCOMES}
        self.by_status: dict[str, dict[str, int]] = defaultdict(dict)

    def add(self, message: dict[str, Any], price: float, refunded: bool) -> None:
        key, code = str(message["type"]).lower(), str(message.get("statusCode"))
        self.spent += price
        self.refund += price if refunded else 0.0
        outcomes = ["total"]
        if code == "4000":
            outcomes.append("successed")
        elif is_final(code):
            outcomes.append("failed")
        for outcome in outcomes:
            self.counts[outcome]["total"] += 1
            self.counts[outcome][key] = self.counts[outcome].get(key, 0) + 1
        self.by_status[code][key] = self.by_status[code].get(key, 0) + 1

    @property
    def balance(self) -> float:
        return self.spent - self.refund


def statistics(state: SimulatorState, start: datetime | None, end: datetime | None) -> dict:
    """Statistics of the messages created between ``start`` and ``end`` (both included)."""
    days: dict[str, _Tally] = defaultdict(_Tally)
    for group in state.groups["solapi"].values():
        for message in group_messages(state, group):
            created = parse_date(message["dateCreated"])
            if (start and created < start) or (end and created > end):
                continue
            price = state.options.price(message["type"])
            days[created.astimezone(KST).strftime("%Y/%m/%d")].add(
                message, price, group["cancelled"]
            )
    day_rows = [_day(date, days[date]) for date in sorted(days)]
    months: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in day_rows:
        months[row["month"]].append(row)
    month_rows = [_month(month, rows) for month, rows in sorted(months.items())]
    whole = _sum(day_rows)
    return {
        "balance": whole["balance"],
        "point": 0,
        "deposit": 0,
        "monthlyBalanceAvg": _average(whole["balance"], len(month_rows)),
        "monthlyPointAvg": 0,
        "monthlyDepositAvg": 0,
        "monthPeriod": month_rows,
        "dayPeriod": day_rows,
        "refund": _refund_with_averages(whole["refund"]["balance"], len(month_rows)),
        **{outcome: whole[outcome] for outcome in _OUTCOMES},
        "dailyBalanceAvg": _average(whole["balance"], len(day_rows)),
        "dailyPointAvg": 0,
        "dailyTotalCountAvg": _average(whole["total"]["total"], len(day_rows)),
        "dailyFailedCountAvg": _average(whole["failed"]["total"], len(day_rows)),
        "dailySuccessedCountAvg": _average(whole["successed"]["total"], len(day_rows)),
    }


def _day(date: str, tally: _Tally) -> dict[str, Any]:
    midnight = datetime.strptime(date, "%Y/%m/%d").replace(tzinfo=KST)
    return {
        "_id": midnight.isoformat(),
        "month": date[:7],
        "date": date,
        "balance": tally.balance,
        "point": 0,
        "deposit": 0,
        "statusCode": dict(tally.by_status),
        "refund": {"balance": tally.refund, "point": 0, "deposit": 0},
        **tally.counts,
    }


def _month(month: str, days: list[dict[str, Any]]) -> dict[str, Any]:
    whole = _sum(days)
    return {
        "date": month,
        "balance": whole["balance"],
        "balanceAvg": _average(whole["balance"], len(days)),
        "point": 0,
        "pointAvg": 0,
        "deposit": 0,
        "depositAvg": 0,
        "dayPeriod": days,
        "refund": _refund_with_averages(whole["refund"]["balance"], len(days)),
        **{outcome: whole[outcome] for outcome in _OUTCOMES},
    }


def _sum(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Money and counts of several days together."""
    summed: dict[str, Any] = {
        "balance": sum(row["balance"] for row in rows),
        "refund": {"balance": sum(row["refund"]["balance"] for row in rows)},
    }
    for outcome in _OUTCOMES:
        summed[outcome] = {
            key: sum(row[outcome].get(key, 0) for row in rows) for key in ["total", *TYPE_KEYS]
        }
    return summed


def _refund_with_averages(balance: float, periods: int) -> dict[str, float]:
    return {"balance": balance, "balanceAvg": _average(balance, periods), "point": 0, "pointAvg": 0}


def _average(amount: float, periods: int) -> float:
    return amount / periods if periods else 0
