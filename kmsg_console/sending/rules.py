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

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from kmsg_console.kakao_channels import usage as kakao_profiles
from kmsg_console.messaging import advertising
from kmsg_console.messaging.phone import format_opt_out_line
from kmsg_console.messaging.router import Router
from kmsg_console.messaging.rule_codes import RuleCode
from kmsg_console.messaging.types import Message, MessageType
from kmsg_console.opt_outs import services as opt_outs
from kmsg_console.orm import utcnow
from kmsg_console.sender_numbers import services as sender_numbers
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


class Lookups:
    """The lists the rules read that do not depend on the recipient (which provider may send
    from which number, each provider's duplicate window), read once per ``Lookups``.

    A single send makes a new one; a batch shares one across its messages, which mostly
    name the same sender and the same provider, so a campaign of thousands reads each list
    once per batch instead of once per message.
    """

    def __init__(self) -> None:
        self._usable: dict[frozenset[tuple[str, str]], set[tuple[str, str]]] = {}
        self._windows: dict[str | None, int] = {}

    def usable_pairs(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        key = frozenset(pairs)
        if key not in self._usable:
            self._usable[key] = sender_numbers.usable_pairs(key)
        return self._usable[key]

    def duplicate_window(self, provider_code: str | None) -> int:
        if provider_code not in self._windows:
            self._windows[provider_code] = duplicates.window_for(provider_code)
        return self._windows[provider_code]


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
    lookups: Lookups = field(default_factory=Lookups)


def check(candidate: Candidate) -> list[str]:
    """Apply every rule to ``candidate``; return the chain to send through.

    :raises RuleRefusal: from the first rule that refuses.
    """
    # First the rules that narrow the chain, then those that look at the provider it starts with.
    candidate = replace(candidate, chain=registered_senders(candidate, candidate.chain))
    candidate = replace(candidate, chain=_kakao_profile(candidate))
    check_advertising(candidate)
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


# -- advertising (정보통신망법 제50조) --------------------------------------------------------


def check_advertising(candidate: Candidate) -> None:
    """An advertising message: a type that may advertise, the label, the sender's name and a
    free 080 opt-out line in the text, outside the quiet hours, to a number not opted out.

    Transactional messages and OTPs (``ad`` false) are never affected.
    """
    if not candidate.request.ad:
        return
    message = candidate.message
    if not advertising.may_carry_ads(message.type):
        raise RuleRefusal(
            422,
            RuleCode.AD_RULES,
            "AlimTalk carries informational messages only and may not be sent as advertising; "
            "send advertising as FRIENDTALK, SMS, LMS or MMS.",
            field="ad",
        )
    found = advertising.check_text(message.text)
    if not found.ok:
        raise RuleRefusal(
            422,
            RuleCode.AD_RULES,
            "An advertising message must begin with (광고), then name the sender, and carry "
            "a free 080 opt-out line. Missing: "
            f"{advertising.missing_parts_text(found.missing)}.",
            field="text",
        )
    check_quiet_hours(message, candidate.now)
    opted_out = opt_outs.find_opt_out(message.to, found.opt_out_lines)
    if opted_out is not None:
        scope = (
            "all advertising"
            if opted_out.is_global
            else f"the 080 line {format_opt_out_line(opted_out.scope)}"
        )
        raise RuleRefusal(
            422,
            RuleCode.RECIPIENT_OPTED_OUT,
            f"The recipient opted out of advertising ({scope}); the message was not sent.",
            field="to",
        )


def check_quiet_hours(message: Message, now: datetime) -> None:
    """Refuse advertising at night: sent now inside the window, or scheduled into it."""
    window = advertising.quiet_hours(message.type)
    moment = message.scheduled_at or now
    if not window.contains(moment):
        return
    allowed = window.next_allowed(moment)
    when = "scheduled_at falls" if message.scheduled_at else "now is"
    raise RuleRefusal(
        422,
        RuleCode.AD_QUIET_HOURS,
        f"Advertising ({message.type.value}) is not sent {window.quiet} KST without the "
        f"recipient's separate consent, and {when} inside that window; schedule it "
        f"(scheduled_at) within {window.allowed} KST, e.g. {allowed:%Y-%m-%dT%H:%M}+09:00.",
        field="scheduled_at",
    )


# -- sender numbers (발신번호 사전등록제) ---------------------------------------------------


#: Types whose sender is a phone number; Kakao sends go out through a sender profile.
SENDER_CHECKED_TYPES = frozenset({MessageType.SMS, MessageType.LMS, MessageType.MMS})


class SenderNotRegistered(RuleRefusal):
    """``sender_not_registered``; its issue also names the number and providers (``params``),
    so a client or the console can say it in its own words."""

    def __init__(self, number: str | None, providers: list[str]) -> None:
        self.params = {
            "number": sender_numbers.display(number) if number else None,
            "providers": providers,
        }
        names = ", ".join(providers)
        if number:
            text = (
                f"Sender number {self.params['number']} is not a verified sender number of "
                f"{names}; register it under Sender numbers (발신번호) first."
            )
        else:
            text = (
                f"The message names no sender number and {names} has no default sender; "
                "give 'from' or set the provider's default sender."
            )
        super().__init__(422, "sender_not_registered", text, field="from")

    @property
    def issues(self) -> list[dict[str, Any]]:
        return [{**issue, "params": self.params} for issue in super().issues]


def registered_senders(candidate: Candidate, chain: list[str]) -> list[str]:
    """발신번호 사전등록제: keep the providers that may send from the message's sender (its
    ``from``, else each provider's default sender); a failover to another would be refused
    by that vendor anyway.

    :raises SenderNotRegistered: when no provider is left.
    """
    message = candidate.message
    if message.type not in SENDER_CHECKED_TYPES or not chain:
        return chain
    senders = {}
    for code in chain:
        adapter = candidate.router.providers.get(code)
        config = getattr(adapter, "config", None) or {}
        senders[code] = message.from_ or sender_numbers.default_sender_in(config)
    usable = candidate.lookups.usable_pairs(
        (code, number) for code, number in senders.items() if number
    )
    kept = [code for code in chain if (code, senders[code]) in usable]
    if kept:
        return kept
    number = senders[chain[0]]
    raise SenderNotRegistered(number, [code for code in chain if senders[code] == number])
