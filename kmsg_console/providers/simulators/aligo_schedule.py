"""Reserved sends at Aligo: held until their time (Korean local time), cancellable until then.

SMS reserves with ``rdate`` (YYYYMMDD) + ``rtime`` (HHmm); the Kakao API with ``senddate``
(YYYYMMDDHHMMSS). A stored message keeps its reservation as ``reserve_date`` in Aligo's date
format ("" for an immediate send) and, once cancelled, ``cancel_date``. What it has become is
worked out when asked, so a reservation "goes out" by its time passing, with nothing to run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .common import KST, fmt_datetime, now_kst

RESERVED = "reserved"
CANCELLED = "cancelled"
SENT = "sent"

#: How the list calls show each state (the simulator's wording; Aligo documents no values).
RESERVE_STATE_TEXT = {RESERVED: "예약대기중", CANCELLED: "예약취소", SENT: "발송완료"}


class BadSchedule(ValueError):
    """A reservation field that does not parse."""


def sms_reservation(rdate: str, rtime: str) -> datetime | None:
    """The moment ``rdate``/``rtime`` name; None when both are empty (send now)."""
    if not rdate and not rtime:
        return None
    return _parse(rdate + rtime, "%Y%m%d%H%M", 12)


def kakao_reservation(senddate: str) -> datetime | None:
    """The moment ``senddate`` names; None when it is empty (send now)."""
    return _parse(senddate, "%Y%m%d%H%M%S", 14) if senddate else None


def _parse(text: str, pattern: str, length: int) -> datetime:
    if len(text) != length or not text.isdigit():
        raise BadSchedule(text)
    try:
        return datetime.strptime(text, pattern).replace(tzinfo=KST)
    except ValueError as exc:
        raise BadSchedule(text) from exc


def reserve_date(when: datetime | None) -> str:
    """The ``reserve_date`` a stored message keeps: Aligo's date format, "" for now."""
    return fmt_datetime(when) if when is not None else ""


def state_of(fields: dict[str, Any], now: datetime | None = None) -> str:
    """``reserved``, ``cancelled`` or ``sent`` for a stored message's fields."""
    if fields.get("cancel_date"):
        return CANCELLED
    reserved = fields.get("reserve_date") or ""
    if reserved and reserved > fmt_datetime(now or now_kst()):
        return RESERVED
    return SENT


def send_date(fields: dict[str, Any]) -> str:
    """When the message went out ("" while it is held or after it was cancelled)."""
    if state_of(fields) != SENT:
        return ""
    return fields.get("reserve_date") or fields["reg_date"]
