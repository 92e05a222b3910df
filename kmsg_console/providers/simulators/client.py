"""HTTP client for the control API, usable against any running simulator.

Works the same for an in-process :class:`~.server.SimulatorServer` and for a separate
``kmsg-console fake-providers`` process, which is why it talks HTTP instead of touching
the state object directly.
"""

from __future__ import annotations

from typing import Any

import requests as http


class ControlError(RuntimeError):
    """The control API refused a call (bad input, unknown vendor/message/template)."""


class SimulatorControl:
    """Thin wrapper over the ``/_control/`` endpoints.

    Vendor ids may be spelled ``iwinv_sms``, ``iwinv-sms`` or ``/iwinv/sms``.
    """

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(
        self,
        method: str,
        path: str,
        payload: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        response = http.request(
            method,
            f"{self.base_url}/_control{path}",
            json=payload,
            params=params,
            timeout=self.timeout,
        )
        body = response.json()
        if response.status_code >= 400:
            raise ControlError(f"{method} {path}: {response.status_code} {body.get('error')}")
        return body

    # -- recorded requests ---------------------------------------------------------
    def requests(self, vendor: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        """Recorded requests, oldest first; each has method, path, headers (lower-case), body."""
        route = f"/requests/{vendor.strip('/').replace('/', '_')}" if vendor else "/requests"
        return self._call("GET", route, params={"path": path} if path else None)["requests"]

    def last_request(self, vendor: str, path: str | None = None) -> dict[str, Any]:
        """The most recent recorded request of ``vendor`` (optionally on ``path``)."""
        rows = self.requests(vendor, path)
        if not rows:
            raise ControlError(f"no recorded request for {vendor} {path or ''}".strip())
        return rows[-1]

    def clear_requests(self, vendor: str | None = None) -> None:
        self._call(
            "DELETE", f"/requests/{vendor.strip('/').replace('/', '_')}" if vendor else "/requests"
        )

    def clear(self) -> None:
        """Reset everything: requests, faults, messages, templates (re-seeded), balances."""
        self._call("POST", "/clear")

    # -- faults -----------------------------------------------------------------------
    def inject(
        self,
        vendor: str,
        mode: str,
        *,
        path: str | None = None,
        method: str | None = None,
        count: int | None = 1,
        status: int | None = None,
        code: str | int | None = None,
        ms: int | None = None,
        message: str | None = None,
        http_status: int | None = None,
        process: bool = False,
        retry_after: int | None = None,
        body: str | None = None,
        content_type: str | None = None,
    ) -> dict[str, Any]:
        """Arm a fault for the next ``count`` matching requests (``None`` = until cleared).

        Modes: ``status_5xx`` (``status``), ``reset`` (``process=True`` lets the vendor act
        first), ``timeout``/``latency`` (``ms``), ``malformed_json``, ``vendor_error``
        (``code``, optional ``message``/``http_status``), ``body`` (answer with the raw
        ``body``, ``status`` default 200, ``content_type`` default JSON; ``process=True``
        lets the vendor handle the request first and replaces only its answer).
        """
        payload = {
            "vendor": vendor,
            "mode": mode,
            "path": path,
            "method": method,
            "count": count,
            "status": status,
            "code": None if code is None else str(code),
            "ms": ms,
            "message": message,
            "http_status": http_status,
            "process": process,
            "retry_after": retry_after,
            "body": body,
            "content_type": content_type,
        }
        return self._call(
            "POST", "/faults", {k: v for k, v in payload.items() if v is not None or k == "count"}
        )["fault"]

    def faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "/faults")["faults"]

    def clear_faults(self, vendor: str | None = None) -> None:
        self._call("DELETE", "/faults", params={"vendor": vendor} if vendor else None)

    # -- messages and delivery status ---------------------------------------------------
    def messages(self, vendor: str) -> list[dict[str, Any]]:
        """Stored messages with their current (vendor-native) status fields."""
        return self._call("GET", f"/messages/{vendor}")["messages"]

    def set_status(
        self,
        vendor: str,
        message_id: str | int,
        status: str | None = None,
        *,
        phone: str | None = None,
        **fields: Any,
    ) -> list[dict[str, Any]]:
        """Set the delivery status of a stored message.

        ``status`` is a shortcut (``pending``/``sent``/``delivered``/``failed``, plus
        ``non_kakao_user`` for Kakao vendors); ``fields`` set vendor fields directly, e.g.
        ``statusCode="3104"`` (SOLAPI), ``statusCode="OK"`` (IWINV AlimTalk history) or
        ``sendStatusCode="06"`` (IWINV SMS). ``phone`` narrows a multi-recipient send.
        """
        payload: dict[str, Any] = dict(fields)
        if status is not None:
            payload["status"] = status
        if phone is not None:
            payload["phone"] = phone
        return self._call("POST", f"/messages/{vendor}/{message_id}/status", payload)["messages"]

    # -- templates --------------------------------------------------------------------
    def templates(self, vendor: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/templates/{vendor}")["templates"]

    def review_template(
        self, vendor: str, code: str, action: str, comment: str | None = None
    ) -> dict[str, Any]:
        """Move a template through review: ``inspect``, ``approve`` or ``reject`` (+ comment)."""
        return self._call(
            "POST", f"/templates/{vendor}/{code}/{action}", {"comment": comment} if comment else {}
        )["template"]

    def inspect_template(self, vendor: str, code: str) -> dict[str, Any]:
        return self.review_template(vendor, code, "inspect")

    def approve_template(
        self, vendor: str, code: str, comment: str | None = None
    ) -> dict[str, Any]:
        return self.review_template(vendor, code, "approve", comment)

    def reject_template(self, vendor: str, code: str, comment: str) -> dict[str, Any]:
        return self.review_template(vendor, code, "reject", comment)

    # -- balances ---------------------------------------------------------------------
    def balances(self) -> dict[str, float]:
        return self._call("GET", "/balances")["balances"]

    def set_balance(self, account: str, amount: float) -> dict[str, float]:
        """Accounts: solapi, solapi_point, iwinv_alimtalk, iwinv_sms, aligo (SMS+Kakao share it)."""
        return self._call("POST", f"/balances/{account}", {"amount": amount})["balances"]

    # -- SOLAPI block lists -------------------------------------------------------
    def blocks(self, vendor: str = "solapi") -> dict[str, list[dict[str, Any]]]:
        """The block groups and blocked numbers a vendor keeps."""
        return self._call("GET", f"/blocks/{vendor}")

    def add_block_group(
        self,
        *,
        name: str | None = None,
        use_all: bool = False,
        sender_numbers: list[str] | None = None,
        status: str = "ACTIVE",
        vendor: str = "solapi",
    ) -> dict[str, Any]:
        """Seed a block group; returns it with its ``blockGroupId``."""
        payload = {
            "name": name,
            "useAll": use_all,
            "senderNumbers": sender_numbers or [],
            "status": status,
        }
        return self._call("POST", f"/blocks/{vendor}/groups", payload)["blockGroup"]

    def add_block_number(
        self,
        phone: str,
        group_ids: list[str] | None = None,
        memo: str = "",
        *,
        vendor: str = "solapi",
    ) -> dict[str, Any]:
        """Seed a recipient who refused the groups' senders."""
        payload = {"phoneNumber": phone, "blockGroupIds": group_ids or [], "memo": memo}
        return self._call("POST", f"/blocks/{vendor}/numbers", payload)["blockNumber"]

    # -- sender numbers ---------------------------------------------------------------
    def sender_numbers(self, vendor: str = "solapi") -> list[dict[str, Any]]:
        """The sender numbers the vendor lists (SOLAPI ``/senderid/v1/numbers``)."""
        return self._call("GET", f"/sender-numbers/{vendor}")["senderIds"]

    def set_sender_numbers(
        self, numbers: list[Any], vendor: str = "solapi"
    ) -> list[dict[str, Any]]:
        """Replace them: numbers (``ACTIVE``) or ``{"phoneNumber": ..., "status": ...}``."""
        return self._call("PUT", f"/sender-numbers/{vendor}", {"numbers": numbers})["senderIds"]
