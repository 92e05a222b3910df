"""Korean phone numbers: normalize once, at the edge, to domestic digits.

Accepted spellings: ``01012345678``, ``010-1234-5678``, ``010 1234 5678``,
``010.1234.5678``, ``(02) 123-4567``, ``+82 10-1234-5678``, ``+821012345678``,
``+82 010-1234-5678`` (a stray trunk zero), ``82-10-1234-5678`` and
``821012345678`` (country code without ``+``). The result is always the
domestic form with its leading zero: ``01012345678``, ``0212345678``, or the
8-digit representative number ``15881234``.

Recipients must be mobile numbers (010, 011, 016–019). Senders may also be
landlines (02, 031…064), internet phones (070) and representative numbers
(15XX/16XX/18XX), which is what Korean carriers let businesses register.
Validation is delegated to Google's ``phonenumbers`` metadata so the rules
stay current with the numbering plan.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumberType

from kmsg_console.i18n_markers import N_

_ALLOWED = re.compile(r"^\+?[0-9 ()\-.]+$")
_DIGITS = frozenset("0123456789")
_MOBILE_PREFIXES = ("010", "011", "016", "017", "018", "019")
#: Shapes of Korean mobile numbers: 010 + 8 digits, or the older 011/016-019 + 7-8 digits
#: (ASCII digits: ``\d`` would also match other scripts' digits). Use with ``fullmatch``.
_MOBILE = re.compile(r"010[0-9]{8}|01[16-9][0-9]{7,8}")
_REPRESENTATIVE = re.compile(r"^1[568]\d{6}$")
_SENDER_TYPES = {
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.VOIP,
}
#: Purpose of the keyed hash under which recipients are looked up (the send log's ``to_hash``,
#: OTP phones, the opt-out list): one purpose, so one number matches across all of them.
PHONE_HASH_PURPOSE = "phone"
#: Longest input we look at; real numbers with separators are far shorter.
_MAX_INPUT_LENGTH = 32


class InvalidPhoneNumber(ValueError):
    """The input is not an acceptable Korean number.

    ``reason`` is an ``N_()`` template formatted with ``params``.
    """

    def __init__(self, reason: str, **params: Any) -> None:
        self.reason = reason
        self.params: Mapping[str, Any] = params
        super().__init__(reason % params if params else reason)


def _parse(raw: str) -> tuple[str, int]:
    """Parse ``raw`` as a Korean number; return its domestic digits and ``PhoneNumberType``."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidPhoneNumber(N_("Phone number is empty."))
    return _parse_text(raw.strip())


#: A send normalizes the same recipient and sender several times (at the API's edge, in the
#: message preparation, in its validation); the answer depends on the text alone.
@lru_cache(maxsize=4096)
def _parse_text(text: str) -> tuple[str, int]:
    if _MOBILE.fullmatch(text):
        # Already domestic mobile digits (what an API client or the console itself sends):
        # phonenumbers would read the same national number and give back these digits.
        return text, PhoneNumberType.MOBILE
    return _read_number(text)


def _read_number(text: str) -> tuple[str, int]:
    """``_parse`` of stripped text, through the numbering plan's metadata."""
    if len(text) > _MAX_INPUT_LENGTH or not _ALLOWED.match(text):
        # phonenumbers would read letters as a keypad ("010-CALL-NOW"); refuse instead.
        raise InvalidPhoneNumber(
            N_("Phone number may contain only digits, spaces, hyphens and a leading +.")
        )
    typed = text
    digits = re.sub(r"\D", "", text)
    if not text.startswith("+") and digits.startswith("82") and len(digits) >= 10:
        # Domestic numbers start with 0 or 1, so a leading 82 is the country code typed without "+".
        text = "+" + digits
    try:
        number = phonenumbers.parse(text, "KR")
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber(N_("Phone number could not be read.")) from None
    if number.country_code != 82:
        raise InvalidPhoneNumber(
            N_("Only Korean numbers (+82) are supported, not +%(code)s."), code=number.country_code
        )
    trunk = "0" + str(number.national_number)
    if _MOBILE.fullmatch(trunk):
        # Every 010 + 8 digit number is a mobile number; the library's metadata marks a few
        # unallocated blocks invalid, and refusing a real customer's phone is worse than
        # letting the carrier reject a number that does not exist.
        domestic, kind = trunk, PhoneNumberType.MOBILE
    elif phonenumbers.is_valid_number(number):
        domestic = re.sub(
            r"\D", "", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        )
        kind = phonenumbers.number_type(number)
    else:
        raise InvalidPhoneNumber(
            N_("%(digits)s is not a valid Korean phone number."), digits=mask_as_typed(typed)
        )
    # phonenumbers is lenient (it drops stray prefixes such as "082..."); accept only
    # the digits themselves, or the same number behind the 82 country code.
    if digits not in (domestic, "82" + domestic.removeprefix("0"), "82" + domestic):
        raise InvalidPhoneNumber(
            N_("%(digits)s is not a valid Korean phone number."), digits=mask_as_typed(typed)
        )
    return domestic, kind


def normalize_recipient(raw: str) -> str:
    """Return the domestic digits of a Korean **mobile** number.

    :raises InvalidPhoneNumber: for anything that is not a 010/011/016–019 mobile number.
    """
    digits, kind = _parse(raw)
    if kind != PhoneNumberType.MOBILE or not digits.startswith(_MOBILE_PREFIXES):
        raise InvalidPhoneNumber(
            N_("Messages can only be sent to mobile numbers (010, 011, 016-019).")
        )
    return digits


def normalize_sender(raw: str) -> str:
    """Return the domestic digits of a number that may be registered as a sender.

    Mobile (01X), landline (02, 031…), internet phone (070) and
    representative numbers (15XX/16XX/18XX) are accepted.

    :raises InvalidPhoneNumber: otherwise.
    """
    digits, kind = _parse(raw)
    if _REPRESENTATIVE.match(digits):
        return digits
    if kind in _SENDER_TYPES and (
        kind != PhoneNumberType.MOBILE or digits.startswith(_MOBILE_PREFIXES)
    ):
        return digits
    raise InvalidPhoneNumber(
        N_("A sender must be a mobile, landline, 070 or 15XX/16XX/18XX number.")
    )


def is_valid_recipient(raw: str) -> bool:
    """True when :func:`normalize_recipient` would accept ``raw``."""
    try:
        normalize_recipient(raw)
    except InvalidPhoneNumber:
        return False
    return True


def mask_as_typed(text: str) -> str:
    """``text`` as the caller typed it, with every digit but the first 3 and the last 4 masked.

    For refusals of input that is not a number: ``mask_phone`` keeps only the last four
    digits of such input (``010-12`` would read ``*1012``, like another number), and the
    caller must recognise what they sent. Fewer than 8 digits identify no one: kept as typed.
    """
    total = sum(char in _DIGITS for char in text)
    shown, seen = [], 0
    for char in text:
        if char in _DIGITS:
            seen += 1
            if 3 < seen <= total - 4:
                char = "*"
        shown.append(char)
    return "".join(shown)


def mask_phone(value: str | None) -> str:
    """Mask the middle of a number for logs and screens; never raises.

    ``01012345678`` → ``010-****-5678``, ``0212345678`` → ``02-****-5678``,
    ``15881234`` → ``1588-****``. Unrecognized input keeps only its last
    four digits.
    """
    # Normalized digits (the common case) need no cleaning; ``isdecimal`` is what ``\d`` means.
    digits = value if value and value.isdecimal() else re.sub(r"\D", "", value or "")
    if not digits:
        return ""
    if _REPRESENTATIVE.match(digits):
        return f"{digits[:4]}-****"
    if digits.startswith("02") and 9 <= len(digits) <= 10:
        return f"02-{'*' * (len(digits) - 6)}-{digits[-4:]}"
    if digits.startswith("0") and 10 <= len(digits) <= 11:
        return f"{digits[:3]}-{'*' * (len(digits) - 7)}-{digits[-4:]}"
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


#: Free 080 opt-out lines: 080 and 7 or 8 digits (080-123-4567, 080-1234-5678).
_OPT_OUT_LINE = re.compile(r"080[0-9]{7,8}")


def normalize_opt_out_line(raw: str) -> str:
    """Return the domestic digits of a free 080 opt-out line (``0801234567``).

    Advertising must name such a line, and a recipient who calls it opts out of that
    sender's advertising only; ``+82 80-123-4567`` and ``080-123-4567`` are the same line.

    :raises InvalidPhoneNumber: for anything that is not an 080 number.
    """
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        raise InvalidPhoneNumber(N_("Phone number is empty."))
    if len(text) > _MAX_INPUT_LENGTH or not _ALLOWED.match(text):
        raise InvalidPhoneNumber(
            N_("Phone number may contain only digits, spaces, hyphens and a leading +.")
        )
    digits = re.sub(r"\D", "", text)
    if digits.startswith("82") and not digits.startswith("820"):
        digits = "0" + digits[2:]
    elif digits.startswith("820"):
        digits = digits[2:]
    if not _OPT_OUT_LINE.fullmatch(digits):
        raise InvalidPhoneNumber(N_("An opt-out line is an 080 number, e.g. 080-123-4567."))
    return digits


def format_opt_out_line(digits: str) -> str:
    """``0801234567`` → ``080-123-4567``; ``08012345678`` → ``080-1234-5678``."""
    return f"{digits[:3]}-{digits[3:-4]}-{digits[-4:]}"
