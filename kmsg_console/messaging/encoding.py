"""Byte counting the way Korean carriers count message length.

Korean carriers measure SMS/LMS/MMS bodies in EUC-KR bytes: one byte per ASCII
character, two per Hangul syllable or other KS X 1001 character. We use CP949
(Microsoft's superset of EUC-KR, the encoding Korean SMS gateways actually
accept), so the 8,822 "extended" Hangul syllables such as ``똠`` count as two
bytes instead of breaking the count.

**Characters CP949 cannot encode** (emoji, most non-Korean scripts, rare
symbols) are counted as **2 bytes each** and reported in
``ByteCount.unencodable_chars``. Carriers either replace such characters with
``?`` or refuse the message; counting them as two bytes keeps our SMS/LMS
decision on the safe side (we never under-count and then get truncated), and
reporting them lets the console warn the operator before sending. Counting is
per Unicode code point, so an emoji built from several code points (flags,
ZWJ sequences, skin tones) counts two bytes per code point.
"""

from __future__ import annotations

from dataclasses import dataclass

from .types import MessageType

#: Carrier limit for one SMS body, in bytes.
SMS_MAX_BYTES = 90
#: Carrier limit for an LMS/MMS body, in bytes.
LMS_MAX_BYTES = 2000
#: Carrier limit for an LMS/MMS subject, in bytes.
SUBJECT_MAX_BYTES = 40
#: Bytes charged for a character CP949 cannot encode (see module docstring).
UNENCODABLE_CHAR_BYTES = 2

_ENCODING = "cp949"


@dataclass(frozen=True)
class ByteCount:
    """Length of a text in carrier bytes.

    ``unencodable_chars`` lists each distinct character that CP949 cannot
    encode, in order of first appearance; they are already included in
    ``bytes`` at :data:`UNENCODABLE_CHAR_BYTES` each.
    """

    bytes: int
    unencodable_chars: tuple[str, ...] = ()

    @property
    def encodable(self) -> bool:
        """True when every character can be sent as-is by a Korean carrier."""
        return not self.unencodable_chars


def count_bytes(text: str) -> ByteCount:
    """Count ``text`` in CP949 bytes; never raises.

    :param text: the final message body (after variable substitution).
    """
    try:
        return ByteCount(len(text.encode(_ENCODING)))
    except UnicodeEncodeError:
        pass  # slow path below, only for texts with unencodable characters
    total = 0
    unencodable: dict[str, None] = {}  # dict keeps first-seen order
    for char in text:
        try:
            total += len(char.encode(_ENCODING))
        except UnicodeEncodeError:
            total += UNENCODABLE_CHAR_BYTES
            unencodable.setdefault(char, None)
    return ByteCount(total, tuple(unencodable))


def decide_sms_or_lms(text: str, threshold: int = SMS_MAX_BYTES) -> MessageType:
    """Pick SMS when ``text`` fits in ``threshold`` bytes, else LMS.

    The caller passes the text *after* variable substitution: a template that
    fits in 90 bytes can overflow once a long name is filled in.
    """
    return MessageType.SMS if count_bytes(text).bytes <= threshold else MessageType.LMS
