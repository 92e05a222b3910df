"""Sandbox provider: always available, never touches the network.

Every message it "sends" lands in a process-wide outbox the console can show,
and its behaviour can be scripted — per provider id, as a queue of steps —
either from code (:func:`script_sandbox`) or from the provider's ``script``
setting, so a console can store a script in the database. When the queue is
empty, sends succeed.

Script syntax (comma-separated, consumed left to right; ``*N`` repeats a step):
``ok``, ``delay:MS`` (succeed after MS milliseconds), ``fail`` (PROVIDER_ERROR),
``fail:CODE[:VENDOR_CODE[:HTTP_STATUS]]``, ``timeout`` (NETWORK_TIMEOUT, outcome
unknown: the message *is* recorded, as a vendor that timed out may still
deliver), ``down`` (NETWORK_ERROR before anything was sent).
Example: ``fail:PROVIDER_ERROR,timeout,ok`` or ``down*3``.

The script queue lives in this process only; with several web processes each
has its own queue (good enough for a sandbox).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from kmsg_console.i18n_markers import N_
from kmsg_console.messaging.errors import Acceptance, ErrorCode, SendError
from kmsg_console.messaging.provider import DeliveryStatus, DeliveryStatusResult, HealthResult
from kmsg_console.messaging.result import Err, Ok, Result, SendOutcome, SendStatus
from kmsg_console.messaging.types import Message, MessageType
from kmsg_console.messaging.variables import MissingVariablesError, render_template

from .base import BaseAdapter
from .config import ConfigField, ProviderConfigError, Timeouts

OUTBOX_LIMIT = 1000
#: The sender a sandbox uses when a message names none. It delivers nothing, so the number
#: only has to pass the sender-number rules like any provider's: installation registers it.
SANDBOX_DEFAULT_SENDER = "0212345678"

StepOutcome = Literal["ok", "fail", "timeout", "down"]


@dataclass(frozen=True)
class Step:
    """One scripted send outcome."""

    outcome: StepOutcome = "ok"
    code: ErrorCode = ErrorCode.PROVIDER_ERROR
    vendor_code: str | None = None
    vendor_text: str | None = None
    http_status: int | None = None
    delay_ms: int = 0
    retry_after_ms: int | None = None


@dataclass(frozen=True)
class SandboxDelivery:
    """A message the sandbox took; ``outcome`` is ``timeout`` when the caller was told so."""

    provider_id: str
    provider_message_id: str
    message_id: str
    to: str
    type: MessageType
    text: str
    subject: str | None
    template_id: str | None
    sent_at: datetime
    outcome: str = "sent"


class _SandboxState:
    """Process-wide, thread-safe outbox and script queues."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.outbox: deque[SandboxDelivery] = deque(maxlen=OUTBOX_LIMIT)
        self.scripts: dict[str, deque[Step]] = {}
        self.script_sources: dict[str, str] = {}


_STATE = _SandboxState()


def sandbox_outbox(provider_id: str | None = None) -> list[SandboxDelivery]:
    """Messages the sandbox took, oldest first (optionally of one provider)."""
    with _STATE.lock:
        return [d for d in _STATE.outbox if provider_id is None or d.provider_id == provider_id]


def sandbox_clear() -> None:
    """Forget every recorded delivery and every script."""
    with _STATE.lock:
        _STATE.outbox.clear()
        _STATE.scripts.clear()
        _STATE.script_sources.clear()


def script_sandbox(provider_id: str, steps: Iterable[Step | str]) -> None:
    """Replace the queue of outcomes for ``provider_id``.

    Steps are :class:`Step` objects or script strings: ``["fail:PROVIDER_ERROR", "ok"]``.
    """
    parsed: list[Step] = []
    for step in steps:
        parsed.extend(parse_script(step) if isinstance(step, str) else [step])
    with _STATE.lock:
        _STATE.scripts[provider_id] = deque(parsed)
        _STATE.script_sources.pop(provider_id, None)


def parse_script(text: str) -> list[Step]:
    """Parse the ``script`` setting (see the module docstring).

    :raises ValueError: with the offending step.
    """
    steps: list[Step] = []
    for token in (t.strip() for t in (text or "").split(",")):
        if not token:
            continue
        token, _, repeat = token.partition("*")
        count = int(repeat) if repeat.strip().isdigit() else (1 if not repeat else -1)
        if count < 1:
            raise ValueError(f"bad repeat count in {token}*{repeat}")
        steps.extend([_parse_step(token.strip())] * count)
    return steps


def _parse_step(token: str) -> Step:
    name, *args = token.split(":")
    name = name.lower()
    try:
        if name == "ok" and not args:
            return Step("ok")
        if name == "delay" and len(args) == 1:
            return Step("ok", delay_ms=int(args[0]))
        if name == "timeout" and len(args) <= 1:
            return Step("timeout", ErrorCode.NETWORK_TIMEOUT, delay_ms=int(args[0]) if args else 0)
        if name == "down" and not args:
            return Step("down", ErrorCode.NETWORK_ERROR)
        if name == "fail" and len(args) <= 3:
            code = ErrorCode(args[0].upper()) if args else ErrorCode.PROVIDER_ERROR
            return Step(
                "fail",
                code,
                vendor_code=args[1] if len(args) > 1 else None,
                http_status=int(args[2]) if len(args) > 2 else None,
            )
    except ValueError:
        pass
    raise ValueError(f"bad sandbox script step {token!r}")


class SandboxAdapter(BaseAdapter):
    """A provider for development, demos and tests: records instead of sending."""

    vendor = "sandbox"
    label = N_("Sandbox (no real messages)")
    supported_types = frozenset(MessageType)
    supports_delivery_status = True
    failover_support = "unsupported"
    uses_http = False
    CONFIG_FIELDS = (
        ConfigField(
            "default_from",
            N_("Default sender number"),
            help=N_("Registered sender number used when a message has none."),
            default=SANDBOX_DEFAULT_SENDER,
        ),
        ConfigField(
            "script",
            N_("Scripted outcomes"),
            help=N_(
                "Comma-separated outcomes for the next sends; empty: every send succeeds. "
                "For example:"
            ),
            example="fail:PROVIDER_ERROR,timeout,ok",
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
        source = self.config.get("script") or ""
        try:
            steps = parse_script(source)
        except ValueError as exc:
            raise ProviderConfigError("script", str(exc)) from None
        with _STATE.lock:
            # Rebuilding the adapter from the same stored config must not restart the script.
            if source and _STATE.script_sources.get(provider_id) != source:
                _STATE.scripts[provider_id] = deque(steps)
                _STATE.script_sources[provider_id] = source

    def _next_step(self) -> Step:
        with _STATE.lock:
            queue = _STATE.scripts.get(self.id)
            return queue.popleft() if queue else Step("ok")

    def send(self, message: Message) -> SendOutcome:
        """Follow the script (or succeed) and record what was "sent"; never raises."""
        step = self._next_step()
        if step.delay_ms:
            time.sleep(step.delay_ms / 1000)
        if step.outcome == "down":
            outcome: SendOutcome = self.refused(
                ErrorCode.NETWORK_ERROR, "sandbox: scripted connection failure"
            )
        elif step.outcome == "fail":
            outcome = Err(
                SendError.of(
                    step.code,
                    f"sandbox: scripted {step.code.value}",
                    accepted=Acceptance.NOT_ACCEPTED,
                    vendor_code=step.vendor_code,
                    vendor_text=step.vendor_text,
                    http_status=step.http_status,
                    retry_after_ms=step.retry_after_ms,
                )
            )
        else:
            outcome = self._deliver(message, timed_out=step.outcome == "timeout")
        self.log_send(message, outcome)
        return outcome

    def _deliver(self, message: Message, *, timed_out: bool) -> SendOutcome:
        text = message.text or ""
        if message.type is MessageType.ALIMTALK:
            if message.template_content is not None:
                try:
                    text = render_template(message.template_content, message.variables)
                except MissingVariablesError as exc:
                    return self.refused(ErrorCode.INVALID_REQUEST, str(exc))
            else:
                text = f"[{message.template_id}] " + json.dumps(
                    {k: str(v) for k, v in message.variables.items()}, ensure_ascii=False
                )
        vendor_id = f"sandbox-{uuid.uuid4().hex[:16]}"
        delivery = SandboxDelivery(
            self.id,
            vendor_id,
            message.message_id,
            message.to,
            message.type,
            text,
            message.subject,
            message.template_id,
            datetime.now(UTC),
            "timeout" if timed_out else "sent",
        )
        with _STATE.lock:
            _STATE.outbox.append(delivery)
        if timed_out:
            return Err(
                SendError.of(
                    ErrorCode.NETWORK_TIMEOUT,
                    "sandbox: scripted read timeout",
                    accepted=Acceptance.UNKNOWN,
                )
            )
        status = SendStatus.PENDING if message.scheduled_at is not None else SendStatus.SENT
        return self.ok(
            message, None, vendor_id, status=status, warnings=self.failover_warnings(message)
        )

    def get_delivery_status(
        self, provider_message_id: str, message_type: MessageType, to: str, requested_at: datetime
    ) -> Result[DeliveryStatusResult | None]:
        """Anything in the outbox counts as delivered."""
        found = next(
            (d for d in sandbox_outbox(self.id) if d.provider_message_id == provider_message_id),
            None,
        )
        if found is None:
            return Ok(None)
        return Ok(
            DeliveryStatusResult(
                DeliveryStatus.DELIVERED,
                "DELIVERED",
                None,
                sent_at=found.sent_at,
                delivered_at=found.sent_at,
            )
        )

    def health_check(self) -> HealthResult:
        """The sandbox is always healthy."""
        return HealthResult(True, 0)
