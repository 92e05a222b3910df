"""IWINV delivery history and charge (balance) calls, for :class:`~.iwinv.IwinvAdapter`.

AlimTalk history is keyed by ``seqNo``, SMS history by ``requestNo`` within a
date range of at most 90 days (and needs the SMS company id).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from kmsg_console.messaging.errors import ErrorCode
from kmsg_console.messaging.provider import BalanceResult, DeliveryStatus, DeliveryStatusResult
from kmsg_console.messaging.result import Err, Ok, Result
from kmsg_console.messaging.types import MessageType

from .base import KST, to_kst

HISTORY_MAX_DAYS = 90


class IwinvStatusMixin:
    """Delivery status and balance for the IWINV adapter."""

    config: dict[str, Any]

    if TYPE_CHECKING:  # provided by IwinvAdapter / BaseAdapter
        id: str

        def _post(self, api: str, path: str, body: dict[str, Any]) -> Any: ...
        def _interpret(self, reply: Any, api: str) -> Result[Any]: ...
        def redact(self, body: Any) -> Any: ...
        def refused(self, code: ErrorCode, message: str, **kwargs: Any) -> Err: ...

    def get_delivery_status(
        self, provider_message_id: str, message_type: MessageType, to: str, requested_at: datetime
    ) -> Result[DeliveryStatusResult | None]:
        """AlimTalk history or SMS history, depending on the message type."""
        if message_type is MessageType.ALIMTALK:
            return self._alimtalk_status(provider_message_id, to, requested_at)
        return self._sms_status(provider_message_id, to, requested_at)

    def _alimtalk_status(
        self, seq_no: str, to: str, requested_at: datetime
    ) -> Result[DeliveryStatusResult | None]:
        body: dict[str, Any] = {
            "pageNum": 1,
            "pageSize": 15,
            "phone": to,
            "startDate": to_kst(requested_at - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S"),
            "endDate": to_kst(datetime.now(UTC)).strftime("%Y-%m-%d %H:%M:%S"),
            "seqNo": int(seq_no) if str(seq_no).isdigit() else seq_no,
        }
        result = self._interpret(self._post("alimtalk", "/api/history/", body), "alimtalk")
        if isinstance(result, Err):
            return result
        rows = [r for r in (result.value.get("list") or []) if isinstance(r, dict)]
        if not rows:
            return Ok(None)
        item = next((r for r in rows if str(r.get("seqNo")) == str(seq_no)), rows[0])
        code, name = str(item.get("statusCode") or ""), str(item.get("statusCodeName") or "")
        if code == "OK" or "성공" in name:
            status = DeliveryStatus.DELIVERED
        elif item.get("sendDate"):
            status = DeliveryStatus.FAILED
        else:
            status = DeliveryStatus.PENDING
        when = _kst_datetime(item.get("receiveDate") or item.get("sendDate"))
        return Ok(
            DeliveryStatusResult(
                status,
                code or None,
                name or None,
                sent_at=_kst_datetime(item.get("sendDate")),
                delivered_at=when if status is DeliveryStatus.DELIVERED else None,
                failed_at=_kst_datetime(item.get("sendDate"))
                if status is DeliveryStatus.FAILED
                else None,
                raw=self.redact(item),
            )
        )

    def _sms_status(
        self, request_no: str, to: str, requested_at: datetime
    ) -> Result[DeliveryStatusResult | None]:
        if not self.config.get("sms_company_id"):
            return self.refused(ErrorCode.INVALID_REQUEST, "IWINV SMS history needs sms_company_id")
        start, end = to_kst(requested_at).date(), to_kst(datetime.now(UTC)).date()
        if (end - start).days > HISTORY_MAX_DAYS:
            return self.refused(
                ErrorCode.INVALID_REQUEST, "IWINV SMS history covers at most 90 days"
            )
        body = {
            "version": "1.0",
            "companyid": self.config["sms_company_id"],
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
            "requestNo": request_no,
            "pageNum": 1,
            "pageSize": 15,
            "phone": to,
        }
        result = self._interpret(self._post("sms", "/api/history/", body), "sms")
        if isinstance(result, Err):
            return result
        rows = [r for r in (result.value.get("list") or []) if isinstance(r, dict)]
        if not rows:
            return Ok(None)
        item = next((r for r in rows if str(r.get("requestNo")) == str(request_no)), rows[0])
        code = str(item.get("sendStatusCode") or "")
        text = str(item.get("sendStatusMsg") or item.get("sendStatus") or "")
        status = sms_history_status(code, text)
        sent = _kst_datetime(item.get("sendDate"))
        return Ok(
            DeliveryStatusResult(
                status,
                code or None,
                text or None,
                sent_at=sent,
                delivered_at=sent if status is DeliveryStatus.DELIVERED else None,
                failed_at=sent if status is DeliveryStatus.FAILED else None,
                raw=self.redact(item),
            )
        )

    def get_balance(self, channel: str | None = None) -> Result[BalanceResult]:
        """AlimTalk charge, or the SMS charge with ``channel="sms"`` or when only SMS is set up."""
        api = channel or ("alimtalk" if self.config["api_key"] else "sms")
        body = {} if api == "alimtalk" else {"version": "1.0"}
        result = self._interpret(self._post(api, "/api/charge/", body), api)
        if isinstance(result, Err):
            return result
        value = result.value.get("charge") if isinstance(result.value, dict) else None
        try:
            amount = Decimal(str(value))
        except (InvalidOperation, ValueError):
            return self.refused(
                ErrorCode.PROVIDER_ERROR, f"IWINV charge is not a number: {value!r}"
            )
        return Ok(BalanceResult(self.id, amount, "KRW", channel=api, raw=self.redact(result.value)))


def sms_history_status(code: str, text: str) -> DeliveryStatus:
    """K-Message's reading of IWINV SMS history fields."""
    if code in ("06", "1000") or "전송 성공" in text:
        return DeliveryStatus.DELIVERED
    if "대기" in text or "처리중" in text or code in ("00", "01"):
        return DeliveryStatus.PENDING
    if not code and not text:
        return DeliveryStatus.UNKNOWN
    return DeliveryStatus.FAILED


def _kst_datetime(value: Any) -> datetime | None:
    """Parse IWINV's ``yyyy-MM-dd HH:mm:ss`` (Korean local time)."""
    if not value:
        return None
    try:
        return datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=KST)
    except ValueError:
        return None
