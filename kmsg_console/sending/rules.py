"""The Korean sending rules, checked after a request is prepared and routed and before any
provider is called: a registered sender number (발신번호 사전등록제), the advertising rules
of 정보통신망법 제50조 (label, sender, free 080 opt-out line, quiet hours, opt-outs) and the
duplicate-send window.

``check`` runs every rule in a fixed order and returns the provider chain the message may
use. A rule that refuses raises :class:`RuleRefusal`; the engine then writes the message as
FAILED with the rule's error code (no attempt, no provider called), so an operator finds the
refusal in the send log and the failure report with its explanation, and the caller gets the
error. Each rule lives in the package that owns its list (sender numbers, opt-outs, ...);
those packages never import the send engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from kmsg_console.kakao_channels import usage as kakao_profiles
from kmsg_console.messaging.router import Router
from kmsg_console.messaging.types import Message
from kmsg_console.orm import utcnow
from kmsg_console.sending import duplicates
from kmsg_console.sending.models import MessageSource
from kmsg_console.sending.request import SendRequest

#: The rules' clock; tests replace it to check the quiet-hour boundaries.
clock = utcnow


class RuleRefusal(Exception):
    """A rule refuses the message. ``code`` is the API error code and the send log's error
    code; ``field`` names the request field to fix (the console shows the message there)."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    @property
    def issues(self) -> list[dict[str, Any]]:
        if self.field is None:
            return []
        return [{"field": self.field, "code": self.code, "message": self.message}]


@dataclass(frozen=True)
class Candidate:
    """A message about to be sent, as the rules see it."""

    request: SendRequest
    message: Message
    #: The providers the router would try, in order.
    chain: list[str]
    router: Router
    source: MessageSource
    now: datetime = field(default_factory=lambda: clock())


def check(candidate: Candidate) -> list[str]:
    """Apply every rule to ``candidate``; return the chain to send through.

    :raises RuleRefusal: from the first rule that refuses.
    """
    # First the rules that narrow the chain, then those that look at the provider it starts with.
    candidate = replace(candidate, chain=_kakao_profile(candidate))
    duplicates.check(candidate)
    return candidate.chain


def _kakao_profile(candidate: Candidate) -> list[str]:
    """Kakao sends nothing from a blocked, dormant or deleted sender profile (발신프로필):
    providers that would use one leave the chain; none left refuses the message."""
    if not candidate.message.type.is_kakao:
        return candidate.chain
    chain = kakao_profiles.usable_chain(candidate.chain, candidate.message.kakao.profile_id)
    if isinstance(chain, kakao_profiles.Refusal):
        raise RuleRefusal(422, kakao_profiles.ERROR_CODE, chain.message, field=kakao_profiles.FIELD)
    return chain
