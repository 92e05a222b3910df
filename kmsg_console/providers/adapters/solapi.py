"""SOLAPI adapter: raw HTTP with SOLAPI's HMAC-SHA256 header (no SDK).

Sends use the v6 SDK's endpoint ``POST /messages/v4/send-many/detail`` with a
single message, so per-message refusals arrive in ``failedMessageList`` with
HTTP 200 and HTTP errors carry ``{errorCode, errorMessage}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import platform
import secrets
import string
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from kmsg_console.i18n_markers import N_
from kmsg_console.messaging.errors import Acceptance, ErrorCode, SendError
from kmsg_console.messaging.provider import (
    BalanceResult,
    DeliveryStatus,
    DeliveryStatusResult,
    HealthResult,
)
from kmsg_console.messaging.result import Err, Ok, Result, SendOutcome, SendResult, SendStatus
from kmsg_console.messaging.types import Message, MessageType, MessageWarning
from kmsg_console.messaging.variables import stringify_variable
from kmsg_console.messaging.vendor_codes import map_vendor_code, normalize_vendor_code

from .base import BaseAdapter, VendorSenderNumber
from .config import ConfigField
from .solapi_blocks import SolapiBlocksMixin
from .solapi_templates import SolapiTemplatesMixin
from .transport import HttpReply

_SALT_ALPHABET = string.ascii_letters + string.digits
_TYPE_CODES = {
    MessageType.SMS: "SMS",
    MessageType.LMS: "LMS",
    MessageType.MMS: "MMS",
    MessageType.ALIMTALK: "ATA",
    MessageType.FRIENDTALK: "CTA",
}
SEND_PATH = "/messages/v4/send-many/detail"
#: The ``customFields`` key a batched message carries its console id in.
BATCH_ID_FIELD = "kmsgMessageId"
_STATUS = {
    "2000": DeliveryStatus.PENDING,
    "3000": DeliveryStatus.SENT,
    "4000": DeliveryStatus.DELIVERED,
}


def solapi_authorization(api_key: str, api_secret: str, date: str, salt: str) -> str:
    """The ``Authorization`` header value SOLAPI expects.

    ``signature`` is the lowercase hex HMAC-SHA256 of ``date + salt`` keyed
    with the API secret.
    """
    signature = hmac.new(api_secret.encode(), (date + salt).encode(), hashlib.sha256).hexdigest()
    return f"HMAC-SHA256 apiKey={api_key}, date={date}, salt={salt}, signature={signature}"


#: Random bytes below this map evenly onto the alphabet (62 × 4); the rest are skipped.
_SALT_BYTE_LIMIT = 256 - 256 % len(_SALT_ALPHABET)


def new_salt(length: int = 32) -> str:
    """A fresh random salt of ``[0-9A-Za-z]`` (SOLAPI rejects a reused one).

    The randomness is read once per salt: ``secrets.choice`` per character is a system call
    per character, and each lets go of the interpreter lock, which under a busy worker's
    threads meant a wait to get it back 32 times per provider call. Bytes are skipped, not
    folded, above the last whole multiple of the alphabet, so every character stays equally
    likely.
    """
    chars: list[str] = []
    while len(chars) < length:
        drawn = secrets.token_bytes(length + length // 4)
        chars.extend(_SALT_ALPHABET[b % len(_SALT_ALPHABET)] for b in drawn if b < _SALT_BYTE_LIMIT)
    return "".join(chars[:length])


def _group_registered(body: dict[str, Any]) -> bool:
    """True when a send answer's ``groupInfo`` counts at least one registered message."""
    group = body.get("groupInfo")
    count = group.get("count") if isinstance(group, dict) else None
    registered = count.get("registeredSuccess") if isinstance(count, dict) else None
    try:
        return int(registered) > 0
    except (TypeError, ValueError):
        return False


def _entries(value: Any) -> list[dict[str, Any]]:
    """An answer list's objects (``messageList`` may also come keyed by message id)."""
    if isinstance(value, dict):
        value = list(value.values())
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def _parse_date(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class SolapiAdapter(SolapiTemplatesMixin, SolapiBlocksMixin, BaseAdapter):
    """SMS/LMS/MMS, AlimTalk (ATA) and FriendTalk (CTA) through SOLAPI."""

    vendor = "solapi"
    label = N_("SOLAPI")
    supported_types = frozenset(MessageType)
    supports_delivery_status = True
    supports_balance = True
    supports_sender_numbers = True
    failover_support = "partial"
    #: Messages per send-many request: SOLAPI takes 10,000; a smaller batch keeps a request
    #: short and bounds how many messages one lost answer leaves unknown.
    max_batch = 100
    CONFIG_FIELDS = (
        ConfigField("api_key", N_("API key"), required=True),
        ConfigField("api_secret", N_("API secret"), required=True, secret=True),
        ConfigField(
            "default_from",
            N_("Default sender number"),
            help=N_("Registered sender number used when a message has none."),
        ),
        ConfigField(
            "kakao_pf_id",
            N_("Kakao channel pfId"),
            help=N_("Sender profile id for AlimTalk/FriendTalk."),
        ),
        ConfigField(
            "app_id", N_("App id"), help=N_("Optional SOLAPI app id sent with each request.")
        ),
        ConfigField("base_url", N_("API base URL"), kind="url", default="https://api.solapi.com"),
    )

    # -- HTTP ----------------------------------------------------------------
    def _call(self, method: str, path: str, **kwargs: Any) -> HttpReply | SendError:
        date = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        headers = {
            "Authorization": solapi_authorization(
                self.config["api_key"], self.config["api_secret"], date, new_salt()
            ),
            "Content-Type": "application/json",
        }
        return self.http.request(method, self.config["base_url"] + path, headers=headers, **kwargs)

    def _error_for(self, reply: HttpReply) -> Err:
        """An ``Err`` for a non-2xx answer, keeping SOLAPI's ``errorCode``."""
        body = reply.body if reply.json_ok and isinstance(reply.body, dict) else {}
        vendor_code = body.get("errorCode") or f"HTTP_{reply.status}"
        vendor_text = body.get("errorMessage")
        generic = self.http_failure(reply)
        if generic is not None:
            error = generic.error
            return Err(
                SendError.of(
                    error.code,
                    error.message,
                    accepted=error.accepted,
                    vendor_code=vendor_code,
                    vendor_text=vendor_text,
                    http_status=reply.status,
                    retry_after_ms=error.retry_after_ms,
                    raw=error.raw,
                )
            )
        if not body.get("errorCode") and reply.status not in (401, 403):
            # Not SOLAPI's error shape: a proxy or a wrong base URL answered, not the API.
            return Err(
                SendError.of(
                    ErrorCode.NETWORK_ERROR,
                    f"unexpected HTTP {reply.status} without a SOLAPI error; check the base URL",
                    accepted=Acceptance.NOT_ACCEPTED,
                    vendor_code=vendor_code,
                    http_status=reply.status,
                    raw=self.redact(reply.body or reply.text[:500]),
                )
            )
        entry = map_vendor_code("solapi", vendor_code, http_status=reply.status)
        return self.vendor_failure(
            entry.code, reply, vendor_code=vendor_code, vendor_text=vendor_text
        )

    def _read(self, reply: HttpReply | SendError) -> Result[Any]:
        """Generic read call: ``Ok(json)`` on 2xx, else a normalized error."""
        if isinstance(reply, SendError):
            return Err(reply)
        if not 200 <= reply.status < 300:
            return self._error_for(reply)
        if not reply.json_ok:
            return Err(
                SendError.of(
                    ErrorCode.PROVIDER_ERROR,
                    "SOLAPI answered with an unreadable body",
                    accepted=Acceptance.NOT_ACCEPTED,
                    http_status=reply.status,
                )
            )
        return Ok(reply.body)

    # -- sending ----------------------------------------------------------------
    def send(self, message: Message) -> SendOutcome:
        """Send one message; never raises."""
        built = self._item(message)
        if isinstance(built, Err):
            self.log_send(message, built)
            return built
        item, warnings = built
        body = self._body([item], message.scheduled_at)
        reply = self._call("POST", SEND_PATH, json=body)
        outcome = self._interpret_send(message, reply, warnings)
        self.log_send(message, outcome)
        return outcome

    def send_many(self, messages: Sequence[Message]) -> list[SendOutcome]:
        """Send ``messages`` (one schedule, at most ``max_batch``) in one send-many request;
        an outcome per message, in order; never raises.

        Each message carries its console id in ``customFields`` (SOLAPI echoes a message's
        custom fields in both answer lists; the accepted list has no number to match by).
        A request that fails as a whole fails every message the same way; a message in
        neither list of a 2xx answer may have been taken: its outcome is unknown.
        """
        if len(messages) > self.max_batch:
            raise ValueError(f"at most {self.max_batch} messages per request")
        if len({m.scheduled_at for m in messages}) > 1:
            raise ValueError("one request carries one schedule")
        outcomes: dict[int, SendOutcome] = {}
        items: list[dict[str, Any]] = []
        sent: dict[str, tuple[int, list[MessageWarning]]] = {}
        for index, message in enumerate(messages):
            built = self._item(message)
            if isinstance(built, Err):
                outcomes[index] = built
                continue
            item, warnings = built
            item["customFields"] = {BATCH_ID_FIELD: message.message_id}
            items.append(item)
            sent[message.message_id] = (index, warnings)
        if items:
            reply = self._call("POST", SEND_PATH, json=self._body(items, messages[0].scheduled_at))
            for index, outcome in self._interpret_many(messages, sent, reply):
                outcomes[index] = outcome
        results = [outcomes[index] for index in range(len(messages))]
        for message, outcome in zip(messages, results, strict=True):
            self.log_send(message, outcome)
        return results

    def _interpret_many(
        self,
        messages: Sequence[Message],
        sent: dict[str, tuple[int, list[MessageWarning]]],
        reply: HttpReply | SendError,
    ) -> Iterator[tuple[int, SendOutcome]]:
        """Each sent message's outcome from one send-many answer, by its ``customFields``."""
        whole: SendOutcome | None = None
        if isinstance(reply, SendError):
            whole = Err(reply)
        elif not 200 <= reply.status < 300:
            whole = self._error_for(reply)
        elif not reply.json_ok or not isinstance(reply.body, dict):
            whole = self.unreadable_success(reply)
        if whole is not None:
            for index, _warnings in sent.values():
                yield index, whole
            return
        assert isinstance(reply, HttpReply)
        body = reply.body
        group = body.get("groupInfo") if isinstance(body.get("groupInfo"), dict) else {}
        answered: set[str] = set()
        for entry in _entries(body.get("failedMessageList")):
            found = self._batch_entry(entry, sent)
            if found is None:
                continue
            index, _warnings = found
            answered.add(messages[index].message_id)
            vendor_code = normalize_vendor_code(entry.get("statusCode"))
            code = map_vendor_code("solapi", vendor_code, http_status=reply.status).code
            text = entry.get("statusMessage")
            yield (
                index,
                Err(
                    SendError.of(
                        code,
                        f"{self.vendor} refused the message: {text or ''} (code {vendor_code})",
                        accepted=Acceptance.NOT_ACCEPTED,
                        vendor_code=vendor_code,
                        vendor_text=text,
                        http_status=reply.status,
                        raw=self.redact({"groupId": group.get("groupId"), **entry}),
                    )
                ),
            )
        for entry in _entries(body.get("messageList")):
            found = self._batch_entry(entry, sent)
            if found is None:
                continue
            index, warnings = found
            message = messages[index]
            answered.add(message.message_id)
            status = SendStatus.PENDING if message.scheduled_at is not None else SendStatus.SENT
            yield (
                index,
                Ok(
                    SendResult(
                        provider_id=self.id,
                        message_id=message.message_id,
                        type=message.type,
                        status=status,
                        provider_message_id=entry.get("messageId") or None,
                        warnings=tuple(warnings),
                        raw=self.redact({"groupId": group.get("groupId"), **entry}),
                        http_status=reply.status,
                        latency_ms=reply.latency_ms,
                    )
                ),
            )
        for message_id, (index, _warnings) in sent.items():
            if message_id not in answered:
                yield (
                    index,
                    Err(
                        SendError.of(
                            ErrorCode.PROVIDER_ERROR,
                            "SOLAPI's answer does not list this message; it may have been sent",
                            accepted=Acceptance.UNKNOWN,
                            http_status=reply.status,
                        )
                    ),
                )

    @staticmethod
    def _batch_entry(
        entry: dict[str, Any], sent: dict[str, tuple[int, list[MessageWarning]]]
    ) -> tuple[int, list[MessageWarning]] | None:
        fields = entry.get("customFields")
        message_id = fields.get(BATCH_ID_FIELD) if isinstance(fields, dict) else None
        return sent.get(message_id) if isinstance(message_id, str) else None

    def _item(self, message: Message) -> tuple[dict[str, Any], list[MessageWarning]] | Err:
        sender = message.from_ or self.config.get("default_from")
        item: dict[str, Any] = {"to": message.to, "type": _TYPE_CODES[message.type]}
        if sender:
            item["from"] = sender
        warnings: list[MessageWarning] = []
        if message.type.is_text:
            if not sender:
                return self.refused(
                    ErrorCode.INVALID_REQUEST, "SOLAPI needs a sender number (from) for SMS/LMS/MMS"
                )
            item["text"] = message.text
            if message.subject and message.type is not MessageType.SMS:
                item["subject"] = message.subject
            if message.type is MessageType.MMS and message.image is not None:
                uploaded = self._upload_image(message)
                if isinstance(uploaded, Err):
                    return uploaded
                item["imageId"] = uploaded
        else:
            pf_id = message.kakao.profile_id or self.config.get("kakao_pf_id")
            if not pf_id:
                return self.refused(
                    ErrorCode.INVALID_REQUEST, "SOLAPI needs a Kakao pfId for AlimTalk/FriendTalk"
                )
            kakao: dict[str, Any] = {"pfId": pf_id}
            if message.kakao.buttons:
                kakao["buttons"] = [dict(b) for b in message.kakao.buttons]
            if message.kakao.ad_flag is not None:
                kakao["adFlag"] = message.kakao.ad_flag
            if message.kakao.image_id:
                kakao["imageId"] = message.kakao.image_id
            if message.type is MessageType.ALIMTALK:
                kakao["templateId"] = message.template_id
                kakao["variables"] = {
                    f"#{{{k}}}": stringify_variable(v) for k, v in message.variables.items()
                }
                kakao["disableSms"] = self._disable_sms(message)
                if message.failover_enabled:
                    if not sender:
                        return self.refused(
                            ErrorCode.INVALID_REQUEST,
                            "SMS fallback needs a sender number (from or default_from)",
                        )
                    if message.failover.fallback_content:
                        item["text"] = message.failover.fallback_content
                    if message.failover.fallback_title:
                        item["subject"] = message.failover.fallback_title
                warnings = self.failover_warnings(message)
            else:
                item["text"] = message.text
                kakao["disableSms"] = True
            item["kakaoOptions"] = kakao
        return item, warnings

    def _body(self, items: list[dict[str, Any]], scheduled_at: datetime | None) -> dict[str, Any]:
        agent = {
            "sdkVersion": "kmsg-console/1",
            "osPlatform": f"{platform.system()} | python {platform.python_version()}",
        }
        if self.config.get("app_id"):
            agent["appId"] = self.config["app_id"]
        # The message object matches what SOLAPI's SDKs send (tests/conformance/test_solapi_wire);
        # the Python SDK's defaults ``country: "82"`` and ``autoTypeDetect`` are SOLAPI's own
        # defaults and are left out. ``showMessageList`` is asked for because the answer's
        # messageList carries the message id the console tracks delivery by.
        body: dict[str, Any] = {"messages": items, "agent": agent, "showMessageList": True}
        if scheduled_at is not None:
            body["scheduledDate"] = scheduled_at.isoformat()
        return body

    @staticmethod
    def _disable_sms(message: Message) -> bool:
        """SOLAPI falls back to SMS unless told not to; we only do so when asked."""
        if message.failover is not None:
            return not message.failover.enabled
        return True if message.kakao.disable_sms is None else message.kakao.disable_sms

    def _upload_image(self, message: Message) -> str | Err:
        image = message.image
        assert image is not None
        payload = {
            "file": base64.b64encode(image.data).decode(),
            "type": "MMS",
            "name": image.filename,
        }
        result = self._read(self._call("POST", "/storage/v1/files", json=payload))
        if isinstance(result, Err):
            # Whatever happened to the upload, the message itself was never sent.
            error = result.error
            return self.refused(
                error.code,
                f"image upload failed: {error.message}",
                vendor_code=error.vendor_code,
                vendor_text=error.vendor_text,
                http_status=error.http_status,
                retry_after_ms=error.retry_after_ms,
            )
        file_id = result.value.get("fileId") if isinstance(result.value, dict) else None
        if not file_id:
            return self.refused(ErrorCode.PROVIDER_ERROR, "SOLAPI image upload returned no fileId")
        return str(file_id)

    def _interpret_send(
        self, message: Message, reply: HttpReply | SendError, warnings: list[MessageWarning]
    ) -> SendOutcome:
        if isinstance(reply, SendError):
            return Err(reply)
        if not 200 <= reply.status < 300:
            return self._error_for(reply)
        body = reply.body
        if not reply.json_ok or not isinstance(body, dict):
            return self.unreadable_success(reply)
        failed = body.get("failedMessageList") or []
        accepted = body.get("messageList") or []
        if isinstance(accepted, dict):
            accepted = list(accepted.values())
        if failed and not accepted:
            first = failed[0] if isinstance(failed[0], dict) else {}
            vendor_code = normalize_vendor_code(first.get("statusCode"))
            entry = map_vendor_code("solapi", vendor_code, http_status=reply.status)
            return self.vendor_failure(
                entry.code, reply, vendor_code=vendor_code, vendor_text=first.get("statusMessage")
            )
        message_id = body.get("messageId")  # v5-style single answer
        if not message_id and accepted and isinstance(accepted[0], dict):
            message_id = accepted[0].get("messageId")
        if not message_id and not accepted and not _group_registered(body):
            # A 2xx object that is no SOLAPI answer at all ({}, a proxy's own JSON): nothing
            # says the message was taken, and nothing says it was not.
            return self.unreadable_success(reply)
        if not message_id:
            warnings = [
                *warnings,
                MessageWarning(
                    "MISSING_PROVIDER_MESSAGE_ID",
                    N_("SOLAPI accepted the message but returned no message id."),
                ),
            ]
        status = SendStatus.PENDING if message.scheduled_at is not None else SendStatus.SENT
        return self.ok(message, reply, message_id, status=status, warnings=warnings)

    # -- status, balance, health -------------------------------------------------
    def get_delivery_status(
        self, provider_message_id: str, message_type: MessageType, to: str, requested_at: datetime
    ) -> Result[DeliveryStatusResult | None]:
        """Look the message up in SOLAPI's message list (``messageList`` is keyed by id)."""
        result = self._read(
            self._call(
                "GET", "/messages/v4/list", params={"messageId": provider_message_id, "limit": 1}
            )
        )
        if isinstance(result, Err):
            return result
        listing = result.value.get("messageList") if isinstance(result.value, dict) else None
        if isinstance(listing, dict):
            item = listing.get(provider_message_id) or next(iter(listing.values()), None)
        elif isinstance(listing, list):
            item = next((m for m in listing if m.get("messageId") == provider_message_id), None)
        else:
            item = None
        if not isinstance(item, dict):
            return Ok(None)  # not visible yet: keep polling
        code = normalize_vendor_code(item.get("statusCode"))
        status = _STATUS.get(code or "", DeliveryStatus.FAILED)
        return Ok(
            DeliveryStatusResult(
                status=status,
                vendor_code=code,
                vendor_text=item.get("statusMessage"),
                sent_at=_parse_date(item.get("dateProcessed")),
                delivered_at=_parse_date(item.get("dateReceived") or item.get("dateReported"))
                if status is DeliveryStatus.DELIVERED
                else None,
                failed_at=_parse_date(item.get("dateReported") or item.get("dateProcessed"))
                if status is DeliveryStatus.FAILED
                else None,
                raw=self.redact(item),
            )
        )

    def get_balance(self) -> Result[BalanceResult]:
        """``balance`` (falling back to ``point``) in KRW."""
        result = self._read(self._call("GET", "/cash/v1/balance"))
        if isinstance(result, Err):
            return result
        body = result.value if isinstance(result.value, dict) else {}
        value = body.get("balance", body.get("point"))
        try:
            amount = Decimal(str(value))
        except (InvalidOperation, ValueError):
            return Err(
                SendError.of(
                    ErrorCode.UNKNOWN_ERROR,
                    f"SOLAPI balance is not a number: {value!r}",
                    accepted=Acceptance.NOT_ACCEPTED,
                )
            )
        return Ok(BalanceResult(self.id, amount, "KRW", raw=self.redact(body)))

    def list_sender_numbers(self) -> Result[list[VendorSenderNumber]]:
        """``GET /senderid/v1/numbers``: the account's sender numbers (발신번호) and their
        status; SOLAPI sends only from ``ACTIVE`` ones."""
        result = self._read(self._call("GET", "/senderid/v1/numbers"))
        if isinstance(result, Err):
            return result
        body = result.value if isinstance(result.value, dict) else {}
        rows = body.get("senderIds")
        if not isinstance(rows, list):
            return Err(
                SendError.of(
                    ErrorCode.PROVIDER_ERROR,
                    "SOLAPI sender number list has no senderIds",
                    accepted=Acceptance.NOT_ACCEPTED,
                )
            )
        numbers = []
        for row in rows:
            if not isinstance(row, dict) or not row.get("phoneNumber"):
                continue
            status = str(row.get("status") or "")
            numbers.append(
                VendorSenderNumber(
                    number=str(row["phoneNumber"]),
                    status=status,
                    usable=status.upper() == "ACTIVE",
                    expires_at=row.get("expireAt") or None,
                )
            )
        return Ok(numbers)

    def health_check(self) -> HealthResult:
        """A signed balance call: proves reachability, credentials and clock."""
        start = datetime.now(UTC)
        result = self.get_balance()
        return self.health_from(result, int((datetime.now(UTC) - start).total_seconds() * 1000))
