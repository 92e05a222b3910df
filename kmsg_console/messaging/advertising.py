"""Advertising messages under 정보통신망법 제50조: what the text must carry and when it may go.

Framework-free checks the send rules (``kmsg_console.sending.rules``) and the console use.

The text of an advertising message must

1. **begin with the label** ``(광고)`` — exactly these four characters; only blank space may
   come before them (KISA's guide calls spellings such as ``(광 고)`` or ``[광고]`` breaches);
2. **name the sender right after the label**, on the same line: at least one letter or digit
   follows ``(광고)`` before the line ends (``(광고) 케이샵``, ``(광고)케이샵 겨울 세일``);
3. **carry a free opt-out line**: ``무료거부`` or ``무료수신거부`` (spaces and a colon allowed)
   followed by a free 080 number (``무료수신거부 080-123-4567``), which is the line the
   recipient calls to opt out of this sender's advertising.

Advertising may not be sent at night without the recipient's separate consent: no text
message from 21:00 to 08:00 Korea time, no Kakao FriendTalk/Brand Message from 20:00 to 08:00.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from enum import StrEnum

from kmsg_console.messaging.phone import InvalidPhoneNumber, normalize_opt_out_line
from kmsg_console.messaging.types import MessageType

KST = timezone(timedelta(hours=9), "KST")
LABEL = "(광고)"
#: The opt-out line's wording the console writes in front of the 080 number.
OPT_OUT_WORDING = "무료수신거부"

_OPT_OUT = re.compile(
    r"무료\s*(?:수신\s*)?거부\s*[:：]?\s*"
    r"((?:\+?82[ .\-]?)?0?80[ .\-]?[0-9]{3,4}[ .\-]?[0-9]{4})(?![0-9])"
)
_NAME_CHAR = re.compile(r"\w")


class AdPart(StrEnum):
    """A part an advertising text must carry."""

    LABEL = "label"
    SENDER_NAME = "sender_name"
    OPT_OUT_LINE = "opt_out_line"


#: English names of the parts, for the API's refusal message (the console translates its own).
PART_NAMES = {
    AdPart.LABEL: "the (광고) label at the very beginning",
    AdPart.SENDER_NAME: "the sender's name right after (광고)",
    AdPart.OPT_OUT_LINE: "a free opt-out line with an 080 number (e.g. 무료수신거부 080-123-4567)",
}


@dataclass(frozen=True)
class AdTextCheck:
    """What an advertising text carries and lacks."""

    missing: tuple[AdPart, ...]
    #: Digits of the 080 lines the text names (``0801234567``), in order.
    opt_out_lines: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.missing


def opt_out_lines(text: str) -> tuple[str, ...]:
    """The free 080 lines ``text`` names after ``무료거부``/``무료수신거부``, as digits."""
    lines: list[str] = []
    for match in _OPT_OUT.finditer(text or ""):
        try:
            digits = normalize_opt_out_line(match.group(1))
        except InvalidPhoneNumber:
            continue
        if digits not in lines:
            lines.append(digits)
    return tuple(lines)


def check_text(text: str | None) -> AdTextCheck:
    """Check an advertising text for the label, the sender's name and the opt-out line."""
    body = (text or "").lstrip()
    missing: list[AdPart] = []
    if not body.startswith(LABEL):
        missing.append(AdPart.LABEL)
        # Without the label there is nothing the name could follow.
        missing.append(AdPart.SENDER_NAME)
    else:
        first_line = body[len(LABEL) :].split("\n", 1)[0]
        if not _NAME_CHAR.search(_OPT_OUT.sub("", first_line)):
            missing.append(AdPart.SENDER_NAME)
    lines = opt_out_lines(body)
    if not lines:
        missing.append(AdPart.OPT_OUT_LINE)
    return AdTextCheck(tuple(missing), lines)


def missing_parts_text(missing: tuple[AdPart, ...]) -> str:
    """The API's English list of what an advertising text lacks."""
    return "; ".join(PART_NAMES[part] for part in missing)


def with_label_and_footer(text: str | None, sender_name: str, opt_out_line: str) -> str:
    """``text`` with ``(광고) <sender name>`` in front and ``무료수신거부 <080 line>`` at the end.

    Parts the text already has are not added twice. ``opt_out_line`` is shown as given
    (``080-123-4567``).
    """
    body = (text or "").strip()
    found = check_text(body)
    if AdPart.LABEL in found.missing:
        body = f"{LABEL} {sender_name}\n{body}" if body else f"{LABEL} {sender_name}"
    elif AdPart.SENDER_NAME in found.missing:
        # The label's line holds no name (only blanks or punctuation): the name goes there.
        first_line, newline, remainder = body[len(LABEL) :].partition("\n")
        body = f"{LABEL} {sender_name}{first_line.rstrip()}{newline}{remainder}"
    if AdPart.OPT_OUT_LINE in found.missing:
        body = f"{body}\n{OPT_OUT_WORDING} {opt_out_line}"
    return body


# -- quiet hours -----------------------------------------------------------------------------

QUIET_END = time(8, 0)
TEXT_QUIET_START = time(21, 0)
KAKAO_QUIET_START = time(20, 0)


@dataclass(frozen=True)
class QuietHours:
    """The night window in which advertising of one kind may not be sent (Korea time)."""

    start: time
    end: time = QUIET_END

    def contains(self, moment: datetime) -> bool:
        """True when ``moment`` (timezone-aware) falls inside the window in Korea time."""
        local = moment.astimezone(KST).time()
        return local >= self.start or local < self.end

    def next_allowed(self, moment: datetime) -> datetime:
        """The first moment at or after ``moment`` outside the window (Korea time)."""
        local = moment.astimezone(KST)
        if not self.contains(local):
            return local
        day = local.date() if local.time() < self.end else local.date() + timedelta(days=1)
        return datetime.combine(day, self.end, tzinfo=KST)

    @property
    def allowed(self) -> str:
        """The allowed window as ``08:00–21:00``."""
        return f"{self.end:%H:%M}–{self.start:%H:%M}"

    @property
    def quiet(self) -> str:
        """The quiet window as ``21:00–08:00``."""
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


def quiet_hours(message_type: MessageType) -> QuietHours:
    """The night window for advertising of ``message_type`` (Kakao's starts at 20:00)."""
    if message_type is MessageType.FRIENDTALK:
        return QuietHours(KAKAO_QUIET_START)
    return QuietHours(TEXT_QUIET_START)


def may_carry_ads(message_type: MessageType) -> bool:
    """AlimTalk is informational only (Kakao's rule); every other type may advertise."""
    return message_type is not MessageType.ALIMTALK
