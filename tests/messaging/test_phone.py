"""Phone normalization, refusal of invalid numbers, and masking."""

import pytest

from kmsg_console.messaging.phone import (
    InvalidPhoneNumber,
    is_valid_recipient,
    mask_phone,
    normalize_recipient,
    normalize_sender,
)


@pytest.mark.parametrize(
    "raw",
    [
        "01012345678",
        "010-1234-5678",
        "010 1234 5678",
        "010.1234.5678",
        "(010) 1234-5678",
        "  010-1234-5678  ",
        "+82 10-1234-5678",
        "+821012345678",
        "+82 010-1234-5678",
        "82-10-1234-5678",
        "821012345678",
    ],
)
def test_recipient_formats_normalize_to_domestic_digits(raw):
    assert normalize_recipient(raw) == "01012345678"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("011-123-4567", "0111234567"),
        ("016-1234-5678", "01612345678"),
        ("019 123 4567", "0191234567"),
        ("010-5970-0000", "01059700000"),
    ],  # phonenumbers' metadata wrongly calls this block unallocated
)
def test_other_mobile_numbers_are_recipients(raw, expected):
    assert normalize_recipient(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason_fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("010-CALL-NOW", "only digits"),
        ("010-1234-567a", "only digits"),
        ("010-1234", "not a valid"),
        ("0101234567890", "not a valid"),
        ("+1 650-253-0000", "+1"),
        ("+81 90-1234-5678", "+81"),
        ("02-123-4567", "mobile numbers"),
        ("1588-1234", "mobile numbers"),
        ("012-1234-5678", "mobile numbers"),  # IoT numbers cannot receive our SMS
        ("070-1234-5678", "mobile numbers"),
        ("0821012345678", "not a valid"),  # phonenumbers alone would accept this
        ("++821012345678", "only digits"),
        ("--", "could not be read"),
        ("1" * 40, "only digits"),
    ],
)
def test_invalid_recipients_are_refused_with_a_reason(raw, reason_fragment):
    with pytest.raises(InvalidPhoneNumber) as info:
        normalize_recipient(raw)
    assert reason_fragment in str(info.value)
    assert not is_valid_recipient(raw)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("010-12", "010-12"),  # too short to identify anyone: shown as typed
        (" 010-12 ", "010-12"),
        ("0101234567890", "010******7890"),
        ("010-1234-56789", "010-****-*6789"),
        ("+82 10-1234-56789", "+82 1*-****-*6789"),
        ("82-10-1234-56789", "82-1*-****-*6789"),
    ],
)
def test_an_invalid_number_is_named_as_typed_with_its_middle_masked(raw, shown):
    with pytest.raises(InvalidPhoneNumber) as info:
        normalize_recipient(raw)
    assert str(info.value) == f"{shown} is not a valid Korean phone number."


def test_error_message_never_contains_the_full_number():
    with pytest.raises(InvalidPhoneNumber) as info:
        normalize_recipient("0101234567890")
    assert "0101234567890" not in str(info.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("02-123-4567", "021234567"),
        ("02-1234-5678", "0212345678"),
        ("031-123-4567", "0311234567"),
        ("+82 2-123-4567", "021234567"),
        ("1588-1234", "15881234"),
        ("1600-1234", "16001234"),
        ("1800 1234", "18001234"),
        ("070-1234-5678", "07012345678"),
        ("010-1234-5678", "01012345678"),
    ],
)
def test_sender_accepts_landlines_and_representative_numbers(raw, expected):
    assert normalize_sender(raw) == expected


@pytest.mark.parametrize(
    "raw", ["080-123-4567", "1234-5678", "012-1234-5678", "abc", "+1 650-253-0000"]
)
def test_sender_refuses_other_numbers(raw):
    with pytest.raises(InvalidPhoneNumber):
        normalize_sender(raw)


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("01012345678", "010-****-5678"),
        ("010-1234-5678", "010-****-5678"),
        ("0111234567", "011-***-4567"),
        ("0212345678", "02-****-5678"),
        ("021234567", "02-***-4567"),
        ("15881234", "1588-****"),
        ("123", "***"),
        ("", ""),
        (None, ""),
        ("999912345678901", "***********8901"),
    ],
)
def test_mask_phone(raw, masked):
    assert mask_phone(raw) == masked
