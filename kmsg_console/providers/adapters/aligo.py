"""Aligo adapter: form posts with the credentials in the body.

Two hosts: SMS (``result_code == 1`` is success) and Kakao (``code == 0``,
message id in ``info.mid``). Both codes arrive as numbers or strings. Every Kakao
call also carries a token the Kakao host issues (:mod:`.aligo_token`).
Aligo has **no delivery-status API** and we do not read its balance, so
messages sent here stay PENDING until tracking gives up on them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from kmsg_console.i18n_markers import N_
from kmsg_console.messaging.errors import Acceptance, ErrorCode, SendError
from kmsg_console.messaging.provider import HealthResult
from kmsg_console.messaging.result import Err, Ok, Result, SendOutcome, SendStatus
from kmsg_console.messaging.types import Message, MessageType
from kmsg_console.messaging.variables import MissingVariablesError, render_template
from kmsg_console.messaging.vendor_codes import map_vendor_code, normalize_vendor_code

from .aligo_templates import AligoTemplatesMixin
from .aligo_token import ISSUE_PATH, KakaoTokenCache
from .base import BaseAdapter, to_kst
from .config import ConfigField, Timeouts
from .transport import HttpReply

#: Aligo's Kakao code for refused credentials, the token included.
KAKAO_CREDENTIALS_REFUSED = "-99"


def _text(body: Any) -> str | None:
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return None


class AligoAdapter(AligoTemplatesMixin, BaseAdapter):
    """SMS/LMS/MMS, AlimTalk and FriendTalk through Aligo."""

    vendor = "aligo"
    label = N_("Aligo")
    supported_types = frozenset(MessageType)
    supports_delivery_status = False  # Aligo offers no per-message status API
    supports_balance = False
    failover_support = "partial"
    CONFIG_FIELDS = (
        ConfigField("api_key", N_("API key"), required=True, secret=True),
        ConfigField("user_id", N_("User id"), required=True),
        ConfigField(
            "sender_key",
            N_("Kakao sender key"),
            help=N_("Kakao channel sender key for AlimTalk/FriendTalk."),
        ),
        ConfigField(
            "sender",
            N_("Sender number"),
            help=N_("Registered sender used when a message has none."),
        ),
        ConfigField(
            "test_mode",
            N_("Test mode"),
            kind="bool",
            default=False,
            help=N_("Aligo answers as if it sent, but delivers nothing."),
        ),
        ConfigField(
            "sms_base_url", N_("SMS API base URL"), kind="url", default="https://apis.aligo.in"
        ),
        ConfigField(
            "kakao_base_url",
            N_("Kakao API base URL"),
            kind="url",
            default="https://kakaoapi.aligo.in",
        ),
    )

    def __init__(
        self,
        provider_id: str,
        config: Mapping[str, Any] | None = None,
        *,
        timeouts: Timeouts | None = None,
    ) -> None:
        super().__init__(provider_id, config, timeouts=timeouts)
        self._kakao_token = KakaoTokenCache()

    # -- HTTP --------------------------------------------------------------------
    def _sms_auth(self) -> dict[str, str]:
        return {"key": self.config["api_key"], "user_id": self.config["user_id"]}

    def _kakao_auth(self) -> dict[str, str]:
        return {"apikey": self.config["api_key"], "userid": self.config["user_id"]}

    def _interpret(self, reply: HttpReply | SendError, api: str) -> Result[Any]:
        """``Ok(body)`` when Aligo says success, else a normalized error."""
        if isinstance(reply, SendError):
            return Err(reply)
        if reply.status >= 500 or reply.status == 429 or 300 <= reply.status < 400:
            return self.http_failure(reply)  # type: ignore[return-value]
        key, success, table = (
            ("result_code", "1", "aligo_sms") if api == "sms" else ("code", "0", "aligo_kakao")
        )
        body = reply.body if reply.json_ok else None
        code = normalize_vendor_code(body.get(key)) if isinstance(body, dict) else None
        if code is None:
            if 200 <= reply.status < 300:
                return self.unreadable_success(reply)
            return Err(
                SendError.of(
                    ErrorCode.NETWORK_ERROR,
                    f"Aligo answered HTTP {reply.status}",
                    accepted=Acceptance.NOT_ACCEPTED,
                    http_status=reply.status,
                    raw=self.redact(reply.text[:500]),
                )
            )
        if code == success and 200 <= reply.status < 300:
            return Ok(body)
        entry = map_vendor_code(table, code, http_status=reply.status)
        return self.vendor_failure(entry.code, reply, vendor_code=code, vendor_text=_text(body))

    def _issue_kakao_token(self) -> Result[str]:
        reply = self.http.request(
            "POST", self.config["kakao_base_url"] + ISSUE_PATH, data=self._kakao_auth()
        )
        result = self._interpret(reply, "kakao")
        if isinstance(result, Err):
            return result
        token = result.value.get("token") if isinstance(result.value, dict) else None
        if not isinstance(token, str) or not token:
            assert isinstance(reply, HttpReply)
            return self.vendor_failure(
                ErrorCode.PROVIDER_ERROR, reply, message="Aligo issued no Kakao API token"
            )
        return Ok(token)

    def _kakao_call(
        self, path: str, fields: dict[str, Any], files: dict[str, Any] | None = None
    ) -> tuple[HttpReply | None, Result[Any]]:
        """POST to the Kakao host with the provider's token.

        A token Aligo refuses (expired early, or issued before a restart of theirs) is
        replaced once and the call repeated: Aligo refuses it before looking at the call,
        so the repeat cannot send a message twice.
        """
        for attempt in (1, 2):
            token = self._kakao_token.get(self._issue_kakao_token)
            if isinstance(token, Err):
                return None, token
            reply = self.http.request(
                "POST",
                self.config["kakao_base_url"] + path,
                data={**self._kakao_auth(), "token": token.value, **fields},
                files=files,
            )
            result = self._interpret(reply, "kakao")
            if attempt == 1 and _token_refused(result):
                self._kakao_token.discard(token.value)
                continue
            return (reply if isinstance(reply, HttpReply) else None), result
        raise AssertionError("unreachable")

    def _kakao_post(self, path: str, fields: dict[str, Any]) -> Result[Any]:
        return self._kakao_call(path, fields)[1]

    # -- sending ---------------------------------------------------------------------
    def send(self, message: Message) -> SendOutcome:
        """Send one message; never raises. Aligo reports every accepted send as PENDING."""
        sender = message.from_ or self.config.get("sender")
        if not sender:
            outcome: SendOutcome = self.refused(
                ErrorCode.INVALID_REQUEST, "Aligo needs a sender number (from or sender)"
            )
        elif message.type.is_text:
            outcome = self._send_sms(message, sender)
        else:
            outcome = self._send_kakao(message, sender)
        self.log_send(message, outcome)
        return outcome

    def _send_sms(self, message: Message, sender: str) -> SendOutcome:
        fields: dict[str, Any] = {
            **self._sms_auth(),
            "sender": sender,
            "receiver": message.to,
            "msg": message.text or "",
            "msg_type": message.type.value,
            "testmode_yn": "Y" if self.config["test_mode"] else "N",
        }
        if message.subject and message.type is not MessageType.SMS:
            fields["title"] = message.subject
        if message.scheduled_at is not None:
            local = to_kst(message.scheduled_at)
            fields.update(rdate=local.strftime("%Y%m%d"), rtime=local.strftime("%H%M"))
        files = None
        if message.type is MessageType.MMS and message.image is not None:
            image = message.image
            files = {"image": (image.filename, image.data, image.content_type)}
        reply = self.http.request(
            "POST", self.config["sms_base_url"] + "/send/", data=fields, files=files
        )
        result = self._interpret(reply, "sms")
        if isinstance(result, Err):
            return result
        assert isinstance(reply, HttpReply)
        return self.ok(message, reply, result.value.get("msg_id"), status=SendStatus.PENDING)

    def _send_kakao(self, message: Message, sender: str) -> SendOutcome:
        sender_key = message.kakao.profile_id or self.config.get("sender_key")
        if not sender_key:
            return self.refused(
                ErrorCode.INVALID_REQUEST, "Aligo needs a Kakao sender key for AlimTalk/FriendTalk"
            )
        fields: dict[str, Any] = {
            "senderkey": sender_key,
            "sender": sender,
            "receiver_1": message.to,
            "testMode": "Y" if self.config["test_mode"] else "N",
        }
        if message.kakao.buttons:
            fields["button_1"] = json.dumps(
                {"button": [dict(b) for b in message.kakao.buttons]}, ensure_ascii=False
            )
        if message.scheduled_at is not None:
            # Aligo's Kakao API (its page and its aligoapi client) reserves with one
            # YYYYMMDDHHMMSS field; k-msg's reserve/reserve_date/reserve_time are not Aligo's.
            fields["senddate"] = to_kst(message.scheduled_at).strftime("%Y%m%d%H%M%S")
        warnings = []
        files = None
        if message.type is MessageType.ALIMTALK:
            if message.template_content is None:
                return self.refused(
                    ErrorCode.INVALID_REQUEST,
                    "Aligo needs the approved template text: message_1 must match it",
                )
            try:
                rendered = render_template(message.template_content, message.variables)
            except MissingVariablesError as exc:
                return self.refused(ErrorCode.INVALID_REQUEST, str(exc))
            fields.update(tpl_code=message.template_id, subject_1="알림톡", message_1=rendered)
            fallback = message.failover
            if message.failover_enabled and fallback is not None:
                fields.update(
                    failover="Y",
                    fsubject_1=fallback.fallback_title or "알림",
                    fmessage_1=fallback.fallback_content or rendered,
                )
            else:
                fields["failover"] = "N"
            warnings = self.failover_warnings(message)
            path = "/akv10/alimtalk/send/"
        else:
            fields.update(subject_1="친구톡", message_1=message.text or "")
            if message.kakao.ad_flag is not None:
                fields["advert"] = "Y" if message.kakao.ad_flag else "N"
            if message.image is not None:
                # Uploaded as the file "image", as aligoapi and Aligo's page do; k-msg's
                # image_1 reference string is no field of Aligo's.
                image = message.image
                files = {"image": (image.filename, image.data, image.content_type)}
            # Aligo's path (its page and aligoapi); k-msg's default /akv10/friendtalk/send/
            # does not exist there.
            path = "/akv10/friend/send/"
        reply, result = self._kakao_call(path, fields, files)
        if isinstance(result, Err):
            return result
        assert reply is not None
        info = result.value.get("info") if isinstance(result.value, dict) else None
        mid = info.get("mid") if isinstance(info, dict) else None
        return self.ok(message, reply, mid, status=SendStatus.PENDING, warnings=warnings)

    # -- health ------------------------------------------------------------------------
    def health_check(self) -> HealthResult:
        """Authenticated reads: SMS host ``/remain/``, plus the Kakao host given a sender key."""
        start = time.monotonic()
        reply = self.http.request(
            "POST", self.config["sms_base_url"] + "/remain/", data=self._sms_auth()
        )
        results = [self._interpret(reply, "sms")]
        if self.config.get("sender_key"):
            results.append(
                self._kakao_post("/akv10/profile/list/", {"senderkey": self.config["sender_key"]})
            )
        errors = [r.error for r in results if isinstance(r, Err)]
        latency = int((time.monotonic() - start) * 1000)
        if errors:
            return HealthResult(False, latency, tuple(e.message for e in errors), errors[0])
        return HealthResult(True, latency)


def _token_refused(result: Result[Any]) -> bool:
    # The token was issued to these very credentials, so a -99 now is about the token.
    return isinstance(result, Err) and result.error.vendor_code == KAKAO_CREDENTIALS_REFUSED
