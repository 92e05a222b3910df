"""A message's timeline, warnings and attempt notes in the operator's language.

The send engine and the worker store each timeline event as a kind, the status the message
had and a detail sentence in English (``MessageEvent``), and rows are kept as they were
written. This module reads them: every detail those writers produce is recognised here and
shown as a translated sentence with its values (providers, codes, statuses by their labels);
what a vendor or an adapter said is kept apart, to be shown verbatim. A detail this module
does not know is shown as stored, so no row ever disappears from its timeline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from kmsg_console.i18n_markers import N_
from kmsg_console.messaging.advertising import PART_NAMES
from kmsg_console.messaging.errors import ErrorCode
from kmsg_console.messaging.rule_codes import RuleCode
from kmsg_console.send_logs.explanations import AD_PART_TEXTS, error_label
from kmsg_console.sending.models import MessageEvent, MessageLog, MessageStatus


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    #: What happened, translated.
    label: str
    #: The message's status the entry shows; none before a provider was called.
    status: MessageStatus | None
    #: The stored detail as a translated sentence (the stored text when it is not known).
    text: str
    #: A vendor's or adapter's own words, shown as they came.
    verbatim: str | None = None
    #: Another message the entry is about (the fallback that was sent, the message sent again).
    message_id: str | None = None


KIND_LABELS = {
    "accepted": N_("Received"),
    "status": N_("Status change"),
    "retry": N_("Retry"),
    "fallback": N_("SMS/LMS fallback"),
    "sent_again": N_("Sent again"),
    "refused": N_("Refused"),
}

#: How a status answer reached the console (``outcomes.apply_result``'s ``source``).
SOURCE_LABELS = {"polling": N_("status check"), "webhook": N_("delivery report")}

#: Tracking notes ``outcomes.give_up`` writes before its detail.
NOTE_TEXTS = {
    "TRACKING_TIMEOUT": N_("No final status within 24 hours; polling stopped"),
    "PROVIDER_NOT_FOUND": N_("The provider is no longer configured"),
    "MISSING_PROVIDER_MESSAGE_ID": N_(
        "The provider gave no message id, so its outcome cannot be looked up"
    ),
    "VENDOR_REPORTED_UNKNOWN": N_("The provider reported the outcome as unknown"),
    "TRACKING_ERROR": N_("The status query failed; polling stopped"),
}


def _status(value: str) -> str:
    try:
        return _(MessageStatus(value).label)
    except ValueError:
        return value


def _source(value: str) -> str:
    label = SOURCE_LABELS.get(value)
    return _(label) if label else value


def _code(value: str) -> str:
    return value if value and value != "-" else _("none")


#: What an advertising text lacked, as the refusal names it (``PART_NAMES``) and as shown.
_AD_PARTS = {english: AD_PART_TEXTS[part] for part, english in PART_NAMES.items()}


def _ad_parts(value: str) -> str:
    return ", ".join(
        _(_AD_PARTS[part]) if part in _AD_PARTS else part for part in value.split("; ")
    )


def _when(value: str) -> str:
    return _("it was to go out now") if value == "now is" else _("it was scheduled then")


_RULE = "(?P<rule>" + "|".join(code.value for code in RuleCode) + ")"
_ERROR = r"(?P<error>[A-Z][A-Z_]+)"
_WORD = r"(?P<provider>\S+)"


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    message: str
    #: Only for events that recorded one of these statuses (``None``: any).
    statuses: frozenset[str] | None = None
    #: Parameter name → how its stored value is shown.
    shown: Mapping[str, Callable[[str], str]] | None = None


def _rule(pattern: str, message: str, *statuses: str, **shown: Callable[[str], str]) -> _Rule:
    return _Rule(re.compile(pattern + r"\Z", re.S), message, frozenset(statuses) or None, shown)


_UNKNOWN, _FAILED = MessageStatus.UNKNOWN.value, MessageStatus.FAILED.value
_STATUSES = frozenset(status.value for status in MessageStatus)

#: The details of ``sending.engine``, ``worker.outcomes``, ``worker.interrupted`` and
#: ``worker.fallback``, most specific first. ``verbatim`` is a vendor's or adapter's text.
_RULES = (
    _rule(
        r"accepted for sending; outcome unknown until a provider answers",
        N_("Received; no provider has been called yet."),
    ),
    _rule(
        rf"accepted by {_WORD} \(recorded after the sending process ended\)",
        N_("Accepted by %(provider)s (recorded after the sending process had ended)."),
    ),
    _rule(rf"accepted by {_WORD}", N_("Accepted by %(provider)s.")),
    _rule(
        rf"REQUEST_ABORTED: the sending process ended while calling {_WORD}; "
        r"the provider may have the message, so it is not sent again",
        N_(
            "The sending process ended while calling %(provider)s; the provider may have "
            "the message, so it is not sent again."
        ),
    ),
    _rule(
        r"REQUEST_ABORTED: the sending process ended before another provider was called; "
        r"nothing was sent",
        N_("The sending process ended before another provider was called; nothing was sent."),
    ),
    _rule(
        r"REQUEST_ABORTED: the sending process ended before recording the outcome",
        N_("The sending process ended before recording the outcome."),
    ),
    _rule(
        rf"{_ERROR}: outcome unknown \((?P<verbatim>.*)\)",
        N_(
            "%(error)s: the provider did not confirm the message. It may still arrive, "
            "so it is not sent again; status checks will settle it."
        ),
        error=error_label,
    ),
    _rule(
        r"delivered \((?P<source>\w+), code (?P<code>.*)\)",
        N_("Delivered (%(source)s, vendor code %(code)s)."),
        source=_source,
        code=_code,
    ),
    _rule(
        r"delivery failed \((?P<source>\w+)\): (?P<code>\S+) ?(?P<verbatim>.*)",
        N_("Delivery failed (%(source)s, vendor code %(code)s)."),
        source=_source,
        code=_code,
    ),
    _rule(
        r"cancelled at the vendor \((?P<source>\w+)\)",
        N_("Cancelled at the vendor (%(source)s)."),
        source=_source,
    ),
    _rule(
        r"(?P<source>\w+): vendor reports (?P<status>[A-Z]+) \((?P<code>[^)]*)\)",
        N_("The vendor reports the message as %(status)s (%(source)s, vendor code %(code)s)."),
        source=_source,
        status=_status,
        code=_code,
    ),
    _rule(
        r"provider has no delivery-status API; tracking stopped",
        N_("This provider has no delivery-status API; tracking stopped."),
    ),
    _rule(
        r"provider has no delivery-status API",
        N_("This provider has no delivery-status API, so the outcome stays unknown."),
    ),
    _rule(
        r"(?P<note>TRACKING_TIMEOUT|PROVIDER_NOT_FOUND|MISSING_PROVIDER_MESSAGE_ID"
        r"|VENDOR_REPORTED_UNKNOWN|TRACKING_ERROR)(?:: (?P<verbatim>.*))?",
        "%(note)s.",
        note=lambda note: _(NOTE_TEXTS[note]),
    ),
    # The sending rules' refusals (``engine._write_refusal``: "<code>: <message>").
    _rule(
        r"ad_rules: AlimTalk carries informational messages only.*",
        N_("No provider was called: AlimTalk may not carry advertising."),
    ),
    _rule(
        r"ad_rules: An advertising message must begin with .*? Missing: (?P<parts>.*)\.",
        N_("No provider was called: the advertising text lacks %(parts)s."),
        parts=_ad_parts,
    ),
    _rule(
        r"ad_quiet_hours: Advertising \((?P<type>\w+)\) is not sent (?P<quiet>\S+) KST .*?, "
        r"and (?P<when>now is|scheduled_at falls) inside that window; .*?"
        r"e\.g\. (?P<next>\S+)T(?P<hour>\d\d:\d\d)\+09:00\.",
        N_(
            "No provider was called: %(type)s advertising is not sent "
            "%(quiet)s Korea time without separate consent, and %(when)s. The next allowed "
            "time is %(next)s %(hour)s."
        ),
        when=_when,
    ),
    _rule(
        r"recipient_opted_out: The recipient opted out of advertising \(all advertising\).*",
        N_("No provider was called: the recipient opted out of all advertising."),
    ),
    _rule(
        r"recipient_opted_out: The recipient opted out of advertising "
        r"\(the 080 line (?P<line>[0-9-]+)\).*",
        N_(
            "No provider was called: the recipient opted out of advertising "
            "naming the 080 line %(line)s."
        ),
    ),
    _rule(
        rf"{_RULE}: (?P<verbatim>.*)",
        N_("No provider was called: %(rule)s."),
        rule=error_label,
    ),
    _rule(
        rf"{_ERROR}: (?P<verbatim>.*)",
        N_("The status query failed (%(error)s); polling stopped."),
        _UNKNOWN,
        error=error_label,
    ),
    _rule(
        rf"{_ERROR}: (?P<verbatim>.*)",
        N_("Not sent: %(error)s."),
        _FAILED,
        error=error_label,
    ),
    _rule(r"retry requested by (?P<who>.+)", N_("Retry requested by %(who)s.")),
    _rule(
        r"sent again as (?P<message_id>[0-9a-f-]{36}) by (?P<who>.+)",
        N_("Sent again as a new message by %(who)s:"),
    ),
    _rule(
        r"recipient cannot get Kakao, but no fallback text was stored \(OTP codes never are\)",
        N_(
            "The recipient cannot get Kakao, but no fallback text was stored (OTP codes never are)."
        ),
    ),
    _rule(
        r"FALLBACK_CONTENT_MISSING: fallback was requested without a text",
        N_("A fallback was requested without a text."),
    ),
    _rule(
        r"the provider already sent its own substitute SMS",
        N_("The provider already sent its own substitute SMS."),
    ),
    _rule(
        rf"fallback is turned off for provider {_WORD}",
        N_("Fallback is turned off for provider %(provider)s."),
    ),
    _rule(
        r"recipient cannot get Kakao: SMS/LMS fallback scheduled",
        N_("The recipient cannot get Kakao; an SMS/LMS fallback is scheduled."),
    ),
    _rule(r"fallback claimed; sending", N_("The fallback is claimed and being sent.")),
    _rule(r"a fallback message already exists", N_("A fallback message already exists.")),
    _rule(
        r"fallback refused: (?P<code>[^:]+): (?P<verbatim>.*)",
        N_("The fallback was refused (%(code)s)."),
    ),
    _rule(
        r"fallback (?P<type>[A-Z]+) (?P<message_id>[0-9a-f-]{36}): (?P<status>[A-Z]+)",
        N_("Fallback %(type)s sent; its status: %(status)s."),
        status=_status,
    ),
)


def _read(detail: str, status: str | None) -> tuple[str, dict[str, Any]] | None:
    """The translated sentence of a stored detail and its other parts, if it is known."""
    for rule in _RULES:
        if rule.statuses is not None and status not in rule.statuses:
            continue
        match = rule.pattern.match(detail)
        if match is None:
            continue
        values = {k: v for k, v in match.groupdict().items() if v is not None}
        if "error" in values and values["error"] not in _ERROR_CODES:
            continue
        extra = {k: values.pop(k) for k in ("verbatim", "message_id") if k in values}
        for name, show in (rule.shown or {}).items():
            if name in values:
                values[name] = show(values[name])
        return _(rule.message, **values), extra
    return None


_ERROR_CODES = frozenset(code.value for code in ErrorCode)


def entry(event: MessageEvent) -> TimelineEntry:
    """One stored event as the timeline shows it."""
    label = KIND_LABELS.get(event.kind)
    status = None
    # The "received" entry is written before any provider is called: its stored UNKNOWN
    # means "not asked yet", which a badge would misstate as "no answer came".
    if event.kind != "accepted" and event.status in _STATUSES:
        status = MessageStatus(event.status)
    read = _read(event.detail, event.status) if event.detail else None
    text, extra = read if read is not None else (event.detail or "", {})
    return TimelineEntry(
        at=event.at,
        kind=event.kind,
        label=_(label) if label else event.kind,
        status=status,
        text=text,
        verbatim=extra.get("verbatim") or None,
        message_id=extra.get("message_id"),
    )


def timeline(log: MessageLog) -> list[TimelineEntry]:
    return [entry(event) for event in log.events]


#: What the interrupted-send job writes on an attempt it had to settle.
_ATTEMPT_NOTES = {
    "the sending process ended during the provider call": N_(
        "The sending process ended during the provider call."
    ),
}


def attempt_note(message: str | None) -> tuple[str | None, bool]:
    """An attempt's error message and whether it is the console's own (translated) text.

    Other messages are an adapter's account of the vendor's answer, shown verbatim.
    """
    if not message:
        return None, False
    note = _ATTEMPT_NOTES.get(message)
    return (_(note), True) if note else (message, False)


#: Warnings stored with their values filled in; the rest are stored as their message id.
_WARNINGS = {
    "AUTO_LMS_UPGRADE": N_(
        "The text is %(bytes)d bytes, over the %(limit)d-byte SMS limit, so it is sent as LMS."
    ),
}


def _pattern_of(message: str) -> re.Pattern[str]:
    parts = re.split(r"%\((\w+)\)[ds]", message)
    regex = "".join(
        re.escape(part) if i % 2 == 0 else rf"(?P<{part}>.+?)" for i, part in enumerate(parts)
    )
    return re.compile(regex + r"\Z")


_WARNING_PATTERNS = {code: (_pattern_of(m), m) for code, m in _WARNINGS.items()}


def warning_text(warning: Mapping[str, Any]) -> str:
    """A stored send warning in the operator's language."""
    message = str(warning.get("message") or "")
    known = _WARNING_PATTERNS.get(str(warning.get("code") or ""))
    if known is not None:
        match = known[0].match(message)
        if match is not None:
            values = {k: int(v) if v.isdigit() else v for k, v in match.groupdict().items()}
            return _(known[1], **values)
    return _(message) if message else ""
