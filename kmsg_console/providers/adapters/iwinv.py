"""IWINV adapter: two independent vendor APIs with separate credentials.

* AlimTalk API — header ``AUTH: base64(api_key)``; success is ``code == 200``.
* SMS v2 API — header ``secret: base64(sms_api_key + "&" + sms_auth_key)``;
  success is ``resultCode == 0``.

Both are IP-whitelisted at the vendor (codes 206 / 15). ``templateParam`` is
positional, so the approved template body must be known to order the values.
AlimTalk → SMS/LMS fallback is native (``reSend``); whether it is on when a
message does not say is the explicit ``resend_default`` setting (K-Message
silently turns it on whenever a sender number exists).
"""

from __future__ import annotations

import base64
import time
from typing import Any

from kmsg_console.i18n_markers import N_
from kmsg_console.messaging.errors import Acceptance, ErrorCode, SendError
from kmsg_console.messaging.provider import (
    HealthResult,
)
from kmsg_console.messaging.result import Err, Ok, Result, SendOutcome, SendStatus
from kmsg_console.messaging.types import Message, MessageType
from kmsg_console.messaging.variables import MissingVariablesError, ordered_values
from kmsg_console.messaging.vendor_codes import map_vendor_code, normalize_vendor_code

from .base import BaseAdapter, to_kst
from .config import ConfigField, ProviderConfigError, Timeouts
from .iwinv_status import IwinvStatusMixin
from .iwinv_templates import IwinvTemplatesMixin
from .transport import HttpReply

_JSON = "application/json;charset=UTF-8"
MMS_MAX_IMAGE_BYTES = 100 * 1024


def iwinv_code(body: Any, *keys: str) -> str | None:
    """The result code of an IWINV body: a field (number or string) or a bare number."""
    if isinstance(body, dict):
        for key in keys:
            if body.get(key) is not None:
                return normalize_vendor_code(body[key])
        return None
    if isinstance(body, (int, float)) and not isinstance(body, bool):
        return normalize_vendor_code(body)
    return None


def _text(body: Any) -> str | None:
    if isinstance(body, dict):
        value = body.get("message") or body.get("messgae")  # the vendor misspells it on some calls
        return str(value) if value else None
    return None


class IwinvAdapter(IwinvTemplatesMixin, IwinvStatusMixin, BaseAdapter):
    """AlimTalk, plus SMS/LMS/MMS when the SMS key pair is configured."""

    vendor = "iwinv"
    label = N_("IWINV")
    supports_delivery_status = True
    supports_balance = True
    failover_support = "native"
    CONFIG_FIELDS = (
        ConfigField("api_key", N_("AlimTalk API key"), secret=True),
        ConfigField("sms_api_key", N_("SMS API key"), secret=True),
        ConfigField("sms_auth_key", N_("SMS auth key"), secret=True),
        ConfigField(
            "sms_company_id", N_("SMS company id"), help=N_("Needed to read SMS delivery history.")
        ),
        ConfigField(
            "sender_number",
            N_("Sender number"),
            help=N_(
                "Registered sender used for SMS and for AlimTalk fallback when a message has none."
            ),
        ),
        ConfigField(
            "alimtalk_base_url",
            N_("AlimTalk API base URL"),
            kind="url",
            default="https://alimtalk.bizservice.iwinv.kr",
        ),
        ConfigField(
            "sms_base_url",
            N_("SMS API base URL"),
            kind="url",
            default="https://sms.bizservice.iwinv.kr",
        ),
        ConfigField(
            "x_forwarded_for",
            N_("X-Forwarded-For"),
            help=N_("Sent on every request; only for IP-whitelisted testing setups."),
        ),
        ConfigField(
            "resend_default",
            N_("Fall back to SMS/LMS by default"),
            kind="bool",
            default=False,
            help=N_(
                "When an AlimTalk does not say whether to fall back, ask IWINV to resend it as "
                "SMS/LMS (reSend=Y). Off by default: fallback SMS costs money."
            ),
        ),
    )

    def __init__(
        self,
        provider_id: str,
        config: dict[str, Any] | None = None,
        *,
        timeouts: Timeouts | None = None,
    ) -> None:
        super().__init__(provider_id, config, timeouts=timeouts)
        has_sms = bool(self.config["sms_api_key"] and self.config["sms_auth_key"])
        if not self.config["api_key"] and not has_sms:
            raise ProviderConfigError(
                "api_key", "set the AlimTalk API key, the SMS key pair, or both"
            )
        types = {MessageType.ALIMTALK} if self.config["api_key"] else set()
        if has_sms:
            types |= {MessageType.SMS, MessageType.LMS, MessageType.MMS}
        self.supported_types = frozenset(types)

    # -- HTTP ----------------------------------------------------------------
    def _headers(self, api: str, *, json_body: bool = True) -> dict[str, str]:
        if api == "alimtalk":
            headers = {
                "AUTH": base64.b64encode(str(self.config["api_key"] or "").encode()).decode()
            }
        else:
            pair = f"{self.config['sms_api_key']}&{self.config['sms_auth_key']}"
            headers = {"secret": base64.b64encode(pair.encode()).decode()}
        if json_body:
            headers["Content-Type"] = _JSON
        if self.config.get("x_forwarded_for"):
            headers["X-Forwarded-For"] = self.config["x_forwarded_for"]
        return headers

    def _post(self, api: str, path: str, body: dict[str, Any]) -> HttpReply | SendError:
        base = (
            self.config["alimtalk_base_url"] if api == "alimtalk" else self.config["sms_base_url"]
        )
        return self.http.request("POST", base + path, json=body, headers=self._headers(api))

    def _interpret(self, reply: HttpReply | SendError, api: str) -> Result[Any]:
        """Shared verdict for every IWINV call: ``Ok(body)`` or a normalized error.

        A 2xx body we cannot read is ``UNKNOWN`` (the vendor may have acted on it).
        """
        if isinstance(reply, SendError):
            return Err(reply)
        if reply.status >= 500 or 300 <= reply.status < 400:
            return self.http_failure(reply)  # type: ignore[return-value]
        table, keys, success = (
            ("iwinv_alimtalk", ("code",), "200")
            if api == "alimtalk"
            else ("iwinv_sms", ("resultCode", "code"), "0")
        )
        code = iwinv_code(reply.body, *keys) if reply.json_ok else None
        if code is None:
            if 200 <= reply.status < 300:
                return self.unreadable_success(reply)
            generic = self.http_failure(reply)
            if generic is not None:
                return generic
            return Err(
                SendError.of(
                    ErrorCode.NETWORK_ERROR,
                    f"IWINV answered HTTP {reply.status} without a code",
                    accepted=Acceptance.NOT_ACCEPTED,
                    http_status=reply.status,
                    raw=self.redact(reply.text[:500]),
                )
            )
        if code == success and 200 <= reply.status < 300:
            return Ok(reply.body)
        entry = map_vendor_code(table, code, http_status=reply.status)
        return self.vendor_failure(
            entry.code, reply, vendor_code=code, vendor_text=_text(reply.body)
        )

    # -- sending ---------------------------------------------------------------
    def send(self, message: Message) -> SendOutcome:
        """Send one message; never raises."""
        if message.type not in self.supported_types:
            outcome: SendOutcome = self.refused(
                ErrorCode.INVALID_REQUEST,
                f"IWINV provider {self.id} is not configured for {message.type}",
            )
        elif message.type is MessageType.ALIMTALK:
            outcome = self._send_alimtalk(message)
        else:
            outcome = self._send_sms(message)
        self.log_send(message, outcome)
        return outcome

    def _send_alimtalk(self, message: Message) -> SendOutcome:
        if message.template_content is None:
            return self.refused(
                ErrorCode.INVALID_REQUEST,
                "IWINV needs the approved template text to order templateParam",
            )
        try:
            params = ordered_values(message.template_content, message.variables)
        except MissingVariablesError as exc:
            return self.refused(ErrorCode.INVALID_REQUEST, str(exc))
        item: dict[str, Any] = {"phone": message.to}
        if params:
            item["templateParam"] = params
        body: dict[str, Any] = {"templateCode": message.template_id, "list": [item]}
        if message.scheduled_at is not None:
            body["reserve"] = "Y"
            body["sendDate"] = to_kst(message.scheduled_at).strftime("%Y-%m-%d %H:%M:%S")
        else:
            body["reserve"] = "N"
        resend = (
            message.failover.enabled
            if message.failover is not None
            else bool(self.config["resend_default"])
        )
        body["reSend"] = "Y" if resend else "N"
        if resend:
            callback = message.from_ or self.config.get("sender_number")
            if not callback:
                return self.refused(
                    ErrorCode.INVALID_REQUEST,
                    "SMS fallback (reSend=Y) needs a sender number (from or sender_number)",
                )
            body["resendCallback"] = callback
            fallback = message.failover
            if fallback is not None and fallback.fallback_content:
                # resendType picks the content source: N = our text, Y = reuse the AlimTalk text.
                body["resendType"] = "N"
                body["resendContent"] = fallback.fallback_content
                if fallback.fallback_title:
                    body["resendTitle"] = fallback.fallback_title
            else:
                body["resendType"] = "Y"
        result = self._interpret(reply := self._post("alimtalk", "/api/v2/send/", body), "alimtalk")
        if isinstance(result, Err):
            return result
        assert isinstance(reply, HttpReply)
        seq_no = result.value.get("seqNo") if isinstance(result.value, dict) else None
        status = SendStatus.PENDING if message.scheduled_at is not None else SendStatus.SENT
        return self.ok(
            message, reply, seq_no, status=status, warnings=self.failover_warnings(message)
        )

    def _send_sms(self, message: Message) -> SendOutcome:
        sender = message.from_ or self.config.get("sender_number")
        if not sender:
            return self.refused(
                ErrorCode.INVALID_REQUEST, "IWINV SMS needs a sender number (from or sender_number)"
            )
        text = message.text or ""
        fields: dict[str, Any] = {"version": "1.0", "from": sender, "text": text}
        if message.type is MessageType.SMS:
            fields["msgType"] = "SMS"
        else:
            fields["title"] = message.subject or text[:20]  # IWINV requires a title for LMS/MMS
        if message.scheduled_at is not None:
            fields["date"] = to_kst(message.scheduled_at).strftime("%Y-%m-%d %H:%M:%S")
        url = self.config["sms_base_url"] + "/api/v2/send/"
        if message.type is MessageType.MMS:
            image = message.image
            if image is None or len(image.data) > MMS_MAX_IMAGE_BYTES:
                return self.refused(
                    ErrorCode.INVALID_REQUEST, "IWINV MMS needs an image of at most 100 KB"
                )
            reply = self.http.request(
                "POST",
                url,
                data={**fields, "to": message.to},
                files={"image": (image.filename, image.data, image.content_type)},
                headers=self._headers("sms", json_body=False),
            )
        else:
            reply = self.http.request(
                "POST", url, json={**fields, "to": [message.to]}, headers=self._headers("sms")
            )
        result = self._interpret(reply, "sms")
        if isinstance(result, Err):
            return result
        assert isinstance(reply, HttpReply)
        body = result.value if isinstance(result.value, dict) else {}
        status = SendStatus.PENDING if message.scheduled_at is not None else SendStatus.SENT
        return self.ok(message, reply, body.get("requestNo") or body.get("msgid"), status=status)

    # -- health ---------------------------------------------------------------------
    def health_check(self) -> HealthResult:
        """Charge calls on every configured API (each checks key and IP whitelist)."""
        start = time.monotonic()
        apis = [
            a
            for a, on in (
                ("alimtalk", bool(self.config["api_key"])),
                ("sms", MessageType.SMS in self.supported_types),
            )
            if on
        ]
        errors = [r.error for r in (self.get_balance(api) for api in apis) if isinstance(r, Err)]
        latency = int((time.monotonic() - start) * 1000)
        if errors:
            return HealthResult(False, latency, tuple(e.message for e in errors), errors[0])
        return HealthResult(True, latency)
