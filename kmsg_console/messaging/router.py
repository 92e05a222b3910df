"""Provider selection and real failover.

Selection follows K-Message: an explicit ``provider_id`` on the message, then
the ``by_type`` list for the message type, then the default provider, then
the first registered provider that supports the type.

Unlike K-Message (which selects once), a ``by_type`` list is a failover
chain: when a provider fails with **proof it did not take the message**
(``Acceptance.NOT_ACCEPTED``) and the failure is about that provider (network,
5xx, credentials, balance, throttling), the next provider in the list is
tried. A validation failure stops the chain (it would fail everywhere), and
an ``UNKNOWN`` outcome stops it too: that message may already be on its way,
and sending it again elsewhere could reach the user twice.

The sandbox never follows a live provider in a chain: it delivers nothing, so
failing over to it would turn a real message (an OTP code a user waits for)
into one nobody receives.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from kmsg_console.i18n_markers import N_

from .errors import Acceptance, ErrorCode, SendError
from .provider import BatchProvider, Provider
from .result import Err, SendOutcome
from .types import Message, MessageType

logger = logging.getLogger(__name__)

#: The vendor of providers that record messages instead of delivering them.
SANDBOX_VENDOR = "sandbox"


@dataclass(frozen=True)
class Attempt:
    """One provider call: who, what came back, and when."""

    provider_id: str
    outcome: SendOutcome
    started_at: datetime
    finished_at: datetime
    latency_ms: int

    @property
    def ok(self) -> bool:
        """True when this provider took the message."""
        return self.outcome.ok


@dataclass(frozen=True)
class RouteOutcome:
    """The final outcome of a routed send, with every attempt made."""

    outcome: SendOutcome
    attempts: tuple[Attempt, ...]

    @property
    def ok(self) -> bool:
        """True when some provider took the message."""
        return self.outcome.ok

    @property
    def provider_id(self) -> str | None:
        """The provider of the last attempt (the one that decided the outcome)."""
        return self.attempts[-1].provider_id if self.attempts else None

    @property
    def outcome_unknown(self) -> bool:
        """True when the message may or may not have been sent: resolve it by status polling."""
        return isinstance(self.outcome, Err) and self.outcome.error.accepted is Acceptance.UNKNOWN


def _no_provider(message: str) -> Err:
    return Err(SendError.of(ErrorCode.INVALID_REQUEST, message, accepted=Acceptance.NOT_ACCEPTED))


class Router:
    """Pick providers for a message and fail over between them safely."""

    def __init__(
        self,
        providers: Mapping[str, Provider],
        by_type: Mapping[MessageType, Sequence[str]] | None = None,
        default_provider_id: str | None = None,
    ) -> None:
        """
        :param providers: provider id → provider, in registration order.
        :param by_type: message type → provider ids, in failover order.
        :param default_provider_id: used when a type has no ``by_type`` entry.
        """
        self.providers = dict(providers)
        self.by_type = {MessageType(k): list(v) for k, v in (by_type or {}).items()}
        self.default_provider_id = default_provider_id

    def _supports(self, provider_id: str, kind: MessageType) -> bool:
        provider = self.providers.get(provider_id)
        return provider is not None and kind in provider.supported_types

    def candidates(self, message: Message) -> list[str] | Err:
        """The ordered provider ids to try for ``message``, or why there are none."""
        kind = message.type
        if message.provider_id:
            if message.provider_id not in self.providers:
                return _no_provider(N_("Unknown provider %s.") % message.provider_id)
            if not self._supports(message.provider_id, kind):
                return _no_provider(
                    N_("Provider %(id)s does not send %(type)s.")
                    % {"id": message.provider_id, "type": kind.value}
                )
            return [message.provider_id]  # an explicit choice is honoured, never replaced
        chain = self._chain(kind)
        if chain:
            return chain
        if self.default_provider_id and self._supports(self.default_provider_id, kind):
            return [self.default_provider_id]
        for pid in self.providers:
            if self._supports(pid, kind):
                return [pid]
        return _no_provider(N_("No provider available for type %s.") % kind.value)

    def _chain(self, kind: MessageType) -> list[str]:
        """The ``by_type`` failover chain of ``kind`` without a sandbox after a live provider."""
        chain: list[str] = []
        for pid in dict.fromkeys(self.by_type.get(kind, ())):
            if not self._supports(pid, kind):
                continue
            if self.is_sandbox(pid) and any(not self.is_sandbox(p) for p in chain):
                continue
            chain.append(pid)
        return chain

    def is_sandbox(self, provider_id: str) -> bool:
        """True when ``provider_id`` records messages instead of delivering them."""
        return getattr(self.providers.get(provider_id), "vendor", None) == SANDBOX_VENDOR

    def send(
        self,
        message: Message,
        *,
        on_attempt_start: Callable[[str], None] | None = None,
        on_attempt_done: Callable[[Attempt], None] | None = None,
        chain: list[str] | None = None,
    ) -> RouteOutcome:
        """Send ``message`` through the chain; stop at the first decisive outcome.

        ``on_attempt_start(provider_id)`` runs before each provider call (the
        send engine writes its log row there; if it raises, that provider is
        not called and the exception propagates). ``on_attempt_done(attempt)``
        runs after each call. ``chain`` replaces ``candidates(message)`` when the
        caller narrowed it (the send engine's rules drop providers a sender number
        is not registered with).
        """
        if chain is None:
            chain = self.candidates(message)
        if isinstance(chain, Err):
            return RouteOutcome(chain, ())
        attempts: list[Attempt] = []
        for position, provider_id in enumerate(chain):
            if on_attempt_start is not None:
                on_attempt_start(provider_id)
            attempt = self._attempt(provider_id, message)
            attempts.append(attempt)
            if on_attempt_done is not None:
                on_attempt_done(attempt)
            outcome = attempt.outcome
            if outcome.ok or not outcome.error.failover_eligible:
                break
            if position + 1 < len(chain):
                logger.warning(
                    "provider %s failed with %s before accepting message %s; trying %s",
                    provider_id,
                    outcome.error.code,
                    message.message_id,
                    chain[position + 1],
                )
        return RouteOutcome(attempts[-1].outcome, tuple(attempts))

    def batch_size(self, provider_id: str) -> int:
        """How many messages one request to ``provider_id`` may carry (1: no batch endpoint)."""
        provider = self.providers.get(provider_id)
        return provider.max_batch if isinstance(provider, BatchProvider) else 1

    def send_batch(self, provider_id: str, messages: Sequence[Message]) -> list[Attempt]:
        """First attempts of ``messages`` at ``provider_id`` in one batch request (at most
        ``batch_size``); an attempt per message, in order. Failover is the caller's: each
        message then goes on through :meth:`send` with the rest of its chain."""
        provider = self.providers[provider_id]
        if not isinstance(provider, BatchProvider):
            return [self._attempt(provider_id, message) for message in messages]
        started_at = datetime.now(UTC)
        start = time.monotonic()
        try:
            outcomes = provider.send_many(messages)
        except Exception as exc:  # a broken adapter must not break the send
            logger.exception("provider %s raised while sending a batch", provider_id)
            broken = Err(
                SendError.of(
                    ErrorCode.UNKNOWN_ERROR,
                    f"{type(exc).__name__}: {exc}",
                    accepted=Acceptance.UNKNOWN,
                )
            )
            outcomes = [broken] * len(messages)
        latency_ms = int((time.monotonic() - start) * 1000)
        finished_at = datetime.now(UTC)
        return [
            Attempt(provider_id, outcome, started_at, finished_at, latency_ms)
            for outcome in outcomes
        ]

    def _attempt(self, provider_id: str, message: Message) -> Attempt:
        provider = self.providers[provider_id]
        started_at = datetime.now(UTC)
        start = time.monotonic()
        try:
            outcome = provider.send(message)
        except Exception as exc:  # a broken adapter must not break the send
            logger.exception(
                "provider %s raised while sending message %s", provider_id, message.message_id
            )
            # We cannot tell how far the adapter got, so the message may have left.
            outcome = Err(
                SendError.of(
                    ErrorCode.UNKNOWN_ERROR,
                    f"{type(exc).__name__}: {exc}",
                    accepted=Acceptance.UNKNOWN,
                )
            )
        latency_ms = int((time.monotonic() - start) * 1000)
        return Attempt(provider_id, outcome, started_at, datetime.now(UTC), latency_ms)
