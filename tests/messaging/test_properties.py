"""Property tests: byte counting, phone normalization, interpolation."""

import string

from hypothesis import given
from hypothesis import strategies as st

from kmsg_console.messaging.encoding import UNENCODABLE_CHAR_BYTES, count_bytes
from kmsg_console.messaging.phone import InvalidPhoneNumber, mask_phone, normalize_recipient
from kmsg_console.messaging.variables import PLACEHOLDER_RE, render_template

HANGUL = st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3)
ASCII = st.characters(min_codepoint=0x00, max_codepoint=0x7F)


@given(st.text(alphabet=ASCII))
def test_ascii_is_one_byte_per_character(text):
    assert count_bytes(text).bytes == len(text)


@given(st.text(alphabet=HANGUL))
def test_hangul_syllables_are_two_bytes_each(text):
    # Every modern syllable (U+AC00..U+D7A3) is in CP949, at two bytes.
    assert count_bytes(text).bytes == 2 * len(text)
    assert count_bytes(text).unencodable_chars == ()


@given(st.text(), st.text())
def test_counting_is_additive_and_never_crashes(left, right):
    assert count_bytes(left + right).bytes == count_bytes(left).bytes + count_bytes(right).bytes


@given(st.text())
def test_count_matches_per_character_rule(text):
    expected = 0
    for char in text:
        try:
            expected += len(char.encode("cp949"))
        except UnicodeEncodeError:
            expected += UNENCODABLE_CHAR_BYTES
    result = count_bytes(text)
    assert result.bytes == expected
    assert all(char in text for char in result.unencodable_chars)


four = st.text(alphabet=string.digits, min_size=4, max_size=4)
separator = st.sampled_from(["", "-", " ", "."])
spelling = st.sampled_from(
    [
        "010{s}{a}{s}{b}",
        "+82 10{s}{a}{s}{b}",
        "+8210{s}{a}{s}{b}",
        "82-10{s}{a}{s}{b}",
        "+82 010{s}{a}{s}{b}",
        "(010){s}{a}{s}{b}",
    ]
)


@given(four, four, separator, spelling)
def test_every_spelling_of_a_010_number_normalizes_to_the_same_digits(a, b, sep, pattern):
    assert normalize_recipient(pattern.format(s=sep, a=a, b=b)) == f"010{a}{b}"


@given(st.text(max_size=40))
def test_normalize_recipient_returns_mobile_digits_or_raises(raw):
    try:
        result = normalize_recipient(raw)
    except InvalidPhoneNumber as exc:
        assert str(exc)
        return
    assert result.isdigit() and result.startswith("01") and len(result) in (10, 11)
    assert normalize_recipient(result) == result  # idempotent


@given(four, four)
def test_mask_hides_the_middle_digits_of_a_mobile_number(a, b):
    masked = mask_phone(f"010{a}{b}")
    assert masked == f"010-****-{b}"


@given(st.text(max_size=30))
def test_mask_never_raises_and_never_shows_more_than_eight_digits(raw):
    assert sum(c.isdigit() for c in mask_phone(raw)) <= 8


names = st.text(alphabet=string.ascii_letters + "가나다_", min_size=1, max_size=8)
values = st.text(max_size=20)


@given(
    st.dictionaries(names, values, min_size=1, max_size=5),
    st.text(alphabet="abc 가\n", max_size=10),
)
def test_render_replaces_every_placeholder_with_its_value(variables, filler):
    template = filler.join(f"#{{{name}}}" for name in variables)
    rendered = render_template(template, variables)
    assert rendered == filler.join(variables.values())


@given(
    st.dictionaries(names, st.text(alphabet=string.ascii_letters, max_size=10), max_size=4),
    st.text(alphabet=string.ascii_letters + " ", max_size=30),
)
def test_render_leaves_no_placeholder_when_values_have_none(variables, text):
    template = text + "".join(f"#{{{name}}}" for name in variables)
    assert PLACEHOLDER_RE.search(render_template(template, variables)) is None
