"""CP949 byte counting and the SMS/LMS boundary."""

import pytest

from kmsg_console.messaging.encoding import (
    LMS_MAX_BYTES,
    SMS_MAX_BYTES,
    UNENCODABLE_CHAR_BYTES,
    ByteCount,
    count_bytes,
    decide_sms_or_lms,
)
from kmsg_console.messaging.types import MessageType


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("hello", 5),
        ("인증번호", 8),  # four Hangul syllables, two bytes each
        ("인증번호 123456", 15),
        ("똠방각하", 8),  # 똠 is outside EUC-KR's 2,350 syllables but inside CP949
        ("A가\n", 4),
        ("①", 2),  # KS X 1001 symbol
    ],
)
def test_counts_real_cp949_bytes(text, expected):
    assert count_bytes(text) == ByteCount(expected, ())


def test_emoji_counts_two_bytes_and_is_reported():
    result = count_bytes("코드 😀 OK")
    assert result.bytes == 4 + 1 + UNENCODABLE_CHAR_BYTES + 1 + 2
    assert result.unencodable_chars == ("😀",)
    assert not result.encodable


def test_unencodable_characters_are_listed_once_in_order():
    result = count_bytes("🙂a🙂b🚀")
    assert result.unencodable_chars == ("🙂", "🚀")
    assert result.bytes == 3 * UNENCODABLE_CHAR_BYTES + 2


def test_zwj_emoji_counts_every_code_point():
    family = "👨\u200d👩\u200d👧"  # five code points
    assert count_bytes(family).bytes == 5 * UNENCODABLE_CHAR_BYTES


def test_lone_surrogate_does_not_crash():
    result = count_bytes("a\ud800b")
    assert result.bytes == 2 + UNENCODABLE_CHAR_BYTES
    assert result.unencodable_chars == ("\ud800",)


def test_90_bytes_is_sms_and_91_is_lms():
    assert decide_sms_or_lms("가" * 45) is MessageType.SMS  # 90 bytes
    assert decide_sms_or_lms("가" * 45 + "a") is MessageType.LMS  # 91 bytes
    assert decide_sms_or_lms("a" * SMS_MAX_BYTES) is MessageType.SMS
    assert decide_sms_or_lms("a" * (SMS_MAX_BYTES + 1)) is MessageType.LMS


def test_korean_character_count_is_not_the_limit():
    # K-Message's core comment says "~90 Korean characters"; the carriers say 45.
    assert decide_sms_or_lms("가" * 46) is MessageType.LMS


def test_custom_threshold():
    assert decide_sms_or_lms("abcd", threshold=3) is MessageType.LMS
    assert decide_sms_or_lms("abc", threshold=3) is MessageType.SMS


def test_limits_are_the_carrier_limits():
    assert (SMS_MAX_BYTES, LMS_MAX_BYTES) == (90, 2000)
