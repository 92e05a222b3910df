"""Property tests of the messaging core: carrier byte counting, the SMS/LMS decision, phone
normalization and ``#{var}`` templates.

Each property is checked against something the code does not share: Python's own CP949 codec,
Google's phone-number metadata, a hand-written placeholder scanner, or text assembled from known
pieces, so a property fails when the behaviour breaks, not only when it crashes.
"""

from __future__ import annotations

import codecs
import string

import phonenumbers
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from kmsg_console.messaging import phone
from kmsg_console.messaging.encoding import (
    LMS_MAX_BYTES,
    SMS_MAX_BYTES,
    count_bytes,
    decide_sms_or_lms,
)
from kmsg_console.messaging.phone import (
    InvalidPhoneNumber,
    is_valid_recipient,
    mask_phone,
    normalize_recipient,
    normalize_sender,
)
from kmsg_console.messaging.prepare import MessageValidationError, prepare_message
from kmsg_console.messaging.types import MessageType
from kmsg_console.messaging.variables import (
    PLACEHOLDER_RE,
    MissingVariablesError,
    ordered_values,
    placeholder_names,
    render_template,
    stringify_variable,
)

HANGUL = st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3)
ASCII = st.characters(min_codepoint=0x00, max_codepoint=0x7F)
#: Characters a Korean message is made of, plus ones CP949 cannot encode (emoji, other scripts,
#: unpaired surrogates, which JSON can carry), so both paths of the counter are exercised.
MESSAGE_CHARS = st.one_of(
    HANGUL,
    ASCII,
    st.sampled_from("①※☎℃ㄱㅏ똠뷁€¥“”…·"),
    st.characters(),
    st.sampled_from("😀👨\u200d🚀ไทยالع"),
    st.characters(categories=["Cs"]),
)
MESSAGE_TEXT = st.text(alphabet=MESSAGE_CHARS, max_size=120)


# -- EUC-KR / CP949 byte counting ---------------------------------------------------------------


def _two_bytes_per_unencodable(error: UnicodeEncodeError) -> tuple[bytes, int]:
    # The documented rule: a character CP949 cannot encode is charged two bytes.
    return b"??" * (error.end - error.start), error.end


codecs.register_error("kmsg-test-two-bytes", _two_bytes_per_unencodable)


def cp949_oracle(text: str) -> int:
    """Python's CP949 codec on the whole text, two bytes for each code point it cannot encode."""
    return len(text.encode("cp949", errors="kmsg-test-two-bytes"))


def encodable(char: str) -> bool:
    try:
        char.encode("cp949")
    except UnicodeEncodeError:
        return False
    return True


@given(st.text(alphabet=ASCII))
def test_ascii_is_one_byte_per_character(text):
    assert count_bytes(text).bytes == len(text)


@given(st.text(alphabet=HANGUL))
def test_hangul_syllables_are_two_bytes_each(text):
    # Every modern syllable (U+AC00..U+D7A3) is in CP949, at two bytes.
    assert count_bytes(text).bytes == 2 * len(text)
    assert count_bytes(text).unencodable_chars == ()


@given(MESSAGE_TEXT)
@example("코드 😀 OK")
@example("a\ud800b")
def test_count_agrees_with_pythons_cp949_codec(text):
    result = count_bytes(text)
    assert result.bytes == cp949_oracle(text)
    # Exactly the characters the codec refuses, each once, in order of first appearance.
    assert result.unencodable_chars == tuple(c for c in dict.fromkeys(text) if not encodable(c))
    assert result.encodable == all(encodable(c) for c in text)
    if result.encodable:
        assert result.bytes == len(text.encode("cp949"))


@given(MESSAGE_TEXT, MESSAGE_TEXT)
def test_counting_is_additive_and_never_crashes(left, right):
    assert count_bytes(left + right).bytes == count_bytes(left).bytes + count_bytes(right).bytes


@given(MESSAGE_TEXT)
def test_every_character_counts_one_or_two_bytes(text):
    assert len(text) <= count_bytes(text).bytes <= 2 * len(text)


# -- the SMS -> LMS decision --------------------------------------------------------------------


@given(MESSAGE_TEXT, st.integers(min_value=0, max_value=300))
def test_sms_exactly_when_the_text_fits_the_threshold(text, threshold):
    expected = MessageType.SMS if cp949_oracle(text) <= threshold else MessageType.LMS
    assert decide_sms_or_lms(text, threshold) is expected
    assert decide_sms_or_lms(text) is (
        MessageType.SMS if cp949_oracle(text) <= SMS_MAX_BYTES else MessageType.LMS
    )


@given(MESSAGE_TEXT.filter(bool))
def test_the_boundary_is_the_texts_own_byte_count(text):
    size = cp949_oracle(text)
    assert decide_sms_or_lms(text, size) is MessageType.SMS
    assert decide_sms_or_lms(text, size - 1) is MessageType.LMS


@given(MESSAGE_TEXT, MESSAGE_TEXT)
def test_longer_text_never_goes_back_to_sms(text, more):
    if decide_sms_or_lms(text) is MessageType.LMS:
        assert decide_sms_or_lms(text + more) is MessageType.LMS
        assert decide_sms_or_lms(more + text) is MessageType.LMS


SAFE_TEXT = st.text(
    alphabet=st.one_of(HANGUL, st.sampled_from(string.ascii_letters + string.digits + " .,!")),
    max_size=60,
)


@given(template_text=SAFE_TEXT, value=SAFE_TEXT, tail=SAFE_TEXT)
@example(template_text="가" * 40, value="나" * 6, tail="")  # 80 bytes as written, 92 once filled
def test_untyped_send_is_decided_on_the_text_after_substitution(template_text, value, tail):
    template = f"{template_text}#{{name}}{tail}"
    filled = f"{template_text}{value}{tail}"
    assume(filled.strip())  # an empty text is refused, whatever its type
    size = len(filled.encode("cp949"))
    prepared = prepare_message(to="010-1234-5678", text=template, variables={"name": value})
    assert prepared.message.text == filled
    assert prepared.byte_count.bytes == size
    assert prepared.type is (MessageType.SMS if size <= SMS_MAX_BYTES else MessageType.LMS)
    upgraded = any(w.code == "AUTO_LMS_UPGRADE" for w in prepared.warnings)
    assert upgraded == (size > SMS_MAX_BYTES)


@given(st.text(alphabet=HANGUL, min_size=46, max_size=LMS_MAX_BYTES // 2))
def test_an_explicit_sms_over_90_bytes_is_refused_never_upgraded(text):
    with pytest.raises(MessageValidationError):
        prepare_message(to="01012345678", text=text, type="SMS")
    assert prepare_message(to="01012345678", text=text, type="LMS").type is MessageType.LMS


@given(st.text(alphabet=HANGUL, min_size=LMS_MAX_BYTES // 2 + 1, max_size=LMS_MAX_BYTES // 2 + 50))
def test_an_untyped_text_over_the_lms_limit_is_refused(text):
    with pytest.raises(MessageValidationError):
        prepare_message(to="01012345678", text=text)


# -- phone normalization ------------------------------------------------------------------------

DIGITS = string.digits
separator = st.sampled_from(["", "-", " ", ".", " - "])


@st.composite
def mobile_numbers(draw) -> str:
    """The domestic digits of a Korean mobile number: 010 + 8 digits, 011/016-019 + 7 or 8."""
    prefix = draw(st.sampled_from(["010", "011", "016", "017", "018", "019"]))
    if prefix == "010":
        middle = draw(st.text(DIGITS, min_size=4, max_size=4))
    else:
        middle = draw(st.text(DIGITS, min_size=3, max_size=4).filter(lambda m: m[0] != "0"))
    return prefix + middle + draw(st.text(DIGITS, min_size=4, max_size=4))


@st.composite
def spellings(draw, digits: str) -> str:
    """One of the accepted ways to write ``digits``."""
    prefix, middle, last = digits[:3], digits[3:-4], digits[-4:]
    sep = draw(separator)
    national = draw(
        st.sampled_from(
            [f"{prefix}{sep}{middle}{sep}{last}", f"({prefix}){sep or ' '}{middle}{sep}{last}"]
        )
    )
    international = f"{prefix[1:]}{sep}{middle}{sep}{last}"
    spelled = draw(
        st.sampled_from(
            [
                national,
                f"+82{draw(st.sampled_from(['', ' ', '-']))}{international}",
                f"+82 {prefix}{sep}{middle}{sep}{last}",  # a stray trunk zero after the country code
                f"82{sep}{international}",  # the country code without "+"
            ]
        )
    )
    return draw(st.sampled_from(["", " ", "\t"])) + spelled + draw(st.sampled_from(["", " ", "\n"]))


@given(st.data())
def test_every_spelling_of_a_mobile_number_normalizes_to_its_digits(data):
    digits = data.draw(mobile_numbers())
    spelled = data.draw(spellings(digits))
    assert normalize_recipient(spelled) == digits
    assert is_valid_recipient(spelled)
    # Two spellings of one number are the same recipient.
    assert normalize_recipient(data.draw(spellings(digits))) == normalize_recipient(spelled)


@given(
    mobile_numbers()
    | st.text(DIGITS, min_size=8, max_size=13)
    | st.text(DIGITS + "١٢", max_size=12)
)
@example("01012345678")
@example("0101234567")  # 010 wants eight more digits
@example("010١٢٣٤٥٦٧٨")  # digits of another script are refused, not read as 0-9
def test_the_shortcut_for_plain_mobile_digits_agrees_with_the_metadata_path(text):
    # Plain domestic mobile digits skip phonenumbers; every other text goes through it.
    def outcome(parse):
        try:
            return parse(text)
        except InvalidPhoneNumber as exc:
            return ("refused", exc.reason)

    assert outcome(phone._parse_text.__wrapped__) == outcome(phone._read_number)


@given(mobile_numbers())
def test_normalized_digits_agree_with_googles_metadata(digits):
    parsed = phonenumbers.parse(digits, "KR")
    assert parsed.country_code == 82 and "0" + str(parsed.national_number) == digits
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    assert normalize_recipient(e164) == digits
    # A mobile number is also a valid sender.
    assert normalize_sender(digits) == digits


@given(st.text(alphabet=DIGITS + "+-(). " + "abc가#*\x00١", max_size=24) | st.text(max_size=40))
def test_anything_else_is_refused_with_a_reason_never_a_crash(raw):
    try:
        result = normalize_recipient(raw)
    except InvalidPhoneNumber as exc:
        assert str(exc) and exc.reason
        assert not is_valid_recipient(raw)
        return
    # Accepted: domestic mobile digits that spell the same number again.
    assert result.isascii() and result.isdigit() and len(result) in (10, 11)
    assert result.startswith(("010", "011", "016", "017", "018", "019"))
    assert normalize_recipient(result) == result
    # Nothing is dropped or invented: the digits typed are the number's, domestic or behind +82.
    typed = "".join(c for c in raw if c.isdigit())
    assert typed in (result, "82" + result[1:], "82" + result)


@given(mobile_numbers(), st.sampled_from(["0", "00", "1", "9", "080", "0082", "8282"]), st.data())
def test_stray_leading_digits_are_refused_not_dropped(digits, junk, data):
    # phonenumbers alone strips prefixes such as "0" + "82..." and would send to another number.
    with pytest.raises(InvalidPhoneNumber):
        normalize_recipient(
            junk
            + data.draw(st.sampled_from([digits, "82" + digits[1:], f"{digits[:3]}-{digits[3:]}"]))
        )


@given(st.data())
def test_a_letter_or_symbol_anywhere_spoils_a_valid_number(data):
    spelled = data.draw(spellings(data.draw(mobile_numbers()))).strip()
    junk = data.draw(
        st.characters().filter(lambda c: c not in DIGITS + " ()-.+" and not c.isspace())
    )
    at = data.draw(st.integers(min_value=0, max_value=len(spelled)))
    with pytest.raises(InvalidPhoneNumber):
        normalize_recipient(spelled[:at] + junk + spelled[at:])


@given(mobile_numbers(), st.integers(min_value=-4, max_value=4).filter(bool), st.data())
def test_a_number_of_the_wrong_length_is_refused(digits, change, data):
    # Mobile numbers have 10 or 11 digits (010, 011, 016-019 and 7 or 8 more).
    changed = (
        digits[:change]
        if change < 0
        else digits + data.draw(st.text(DIGITS, min_size=change, max_size=change))
    )
    assume(len(changed) not in (10, 11))
    with pytest.raises(InvalidPhoneNumber):
        normalize_recipient(data.draw(spellings(changed)) if len(changed) >= 8 else changed)


@given(
    st.sampled_from(["02", "031", "032", "051", "064", "070", "080", "012"]),
    st.text(DIGITS, min_size=7, max_size=8),
    st.data(),
)
def test_landlines_and_other_services_are_never_recipients(prefix, rest, data):
    with pytest.raises(InvalidPhoneNumber):
        normalize_recipient(
            data.draw(spellings(prefix + rest)) if len(prefix) == 3 else prefix + rest
        )


@given(st.sampled_from(["1", "44", "81", "86", "855"]), st.text(DIGITS, min_size=8, max_size=10))
def test_foreign_numbers_are_refused(country, national):
    with pytest.raises(InvalidPhoneNumber):
        normalize_recipient(f"+{country} {national}")


@given(mobile_numbers())
def test_mask_hides_the_middle_digits_of_a_mobile_number(digits):
    masked = mask_phone(digits)
    assert masked == f"{digits[:3]}-{'*' * (len(digits) - 7)}-{digits[-4:]}"


@given(st.text(max_size=30))
def test_mask_never_raises_and_never_shows_more_than_eight_digits(raw):
    assert sum(c.isdigit() for c in mask_phone(raw)) <= 8


# -- #{var} templates ---------------------------------------------------------------------------


def scan_placeholders(text: str) -> list[str]:
    """An independent reading of K-Message's syntax: "#{", then anything up to the first "}"."""
    names, i = [], 0
    while True:
        start = text.find("#{", i)
        if start < 0:
            return names
        end = text.find("}", start + 2)
        if end < 0:
            return names
        names.append(text[start + 2 : end].strip())
        i = end + 1


TEMPLATE_CHARS = st.sampled_from("ab가 #{}\\$1\n")
#: Literal text between placeholders: anything, as long as it starts no placeholder itself.
literals = st.text(alphabet=st.one_of(TEMPLATE_CHARS, st.characters()), max_size=12).filter(
    lambda s: "#{" not in s and not s.endswith("#")
)
#: Placeholder names as written: any characters but "}", padded with spaces or not.
raw_names = st.builds(
    lambda pad, core, tail: pad + core + tail,
    st.sampled_from(["", " ", "  "]),
    st.text(alphabet=st.characters(exclude_characters="}"), max_size=8),
    st.sampled_from(["", " ", "\t"]),
)
#: Values as sent by the API: text that may itself look like a placeholder, numbers, flags, null.
values = st.one_of(
    st.text(alphabet=st.one_of(TEMPLATE_CHARS, st.characters()), max_size=12),
    st.integers(),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
)


@given(st.text(alphabet=st.one_of(TEMPLATE_CHARS, st.characters()), max_size=60))
@example("#{a#{b}}")
@example("#{ code }#{")
def test_placeholder_names_agree_with_an_independent_scanner(text):
    assert placeholder_names(text) == scan_placeholders(text)


@st.composite
def templates(draw):
    """(template, its placeholder names, literal pieces) built from known parts."""
    pieces = draw(st.lists(st.tuples(literals, raw_names), max_size=6))
    last = draw(literals)
    template = "".join(literal + "#{" + name + "}" for literal, name in pieces) + last
    return (
        template,
        [name.strip() for _, name in pieces],
        [literal for literal, _ in pieces] + [last],
    )


@given(templates(), st.data())
def test_render_fills_each_placeholder_with_its_value_and_nothing_else(built, data):
    template, names, literals_ = built
    variables = {
        name: data.draw(values, label=f"value of {name!r}") for name in dict.fromkeys(names)
    }
    assert placeholder_names(template) == names

    rendered = render_template(template, variables)

    expected = "".join(
        lit + stringify_variable(variables[n]) for lit, n in zip(literals_, names, strict=False)
    )
    assert rendered == expected + literals_[-1]
    # Values are inserted as they are: a value that reads "#{x}" is never expanded again.
    assert count_bytes(rendered).bytes == (
        sum(count_bytes(lit).bytes for lit in literals_)
        + sum(count_bytes(stringify_variable(variables[n])).bytes for n in names)
    )
    assert ordered_values(template, variables) == [
        stringify_variable(variables[n]) for n in dict.fromkeys(names)
    ]


@given(templates(), st.data())
def test_a_missing_variable_is_an_error_naming_every_missing_one_once(built, data):
    template, names, _ = built
    assume(names)
    supplied = data.draw(st.sets(st.sampled_from(names)))
    assume(set(names) - supplied)
    variables = {name: "v" for name in supplied}
    missing = tuple(dict.fromkeys(n for n in names if n not in supplied))
    with pytest.raises(MissingVariablesError) as info:
        render_template(template, variables)
    assert info.value.names == missing
    with pytest.raises(MissingVariablesError):
        ordered_values(template, variables)


@given(
    st.lists(
        st.text(alphabet=string.ascii_letters + "가나_", min_size=1, max_size=6),
        min_size=2,
        max_size=6,
        unique=True,
    )
)
def test_values_that_look_like_placeholders_are_inserted_literally(names):
    # Each variable's value names the next variable; a second pass would expand it.
    variables = {
        name: f"#{{{following}}}"
        for name, following in zip(names, names[1:] + names[:1], strict=True)
    }
    template = "/".join(f"#{{{name}}}" for name in names)
    assert render_template(template, variables) == "/".join(variables[name] for name in names)


@given(literals, st.dictionaries(st.text(max_size=5), values, max_size=4))
def test_text_without_placeholders_renders_to_itself(text, variables):
    assume(PLACEHOLDER_RE.search(text) is None)
    assert render_template(text, variables) == text
    assert ordered_values(text, variables) == []


@given(
    st.text(alphabet=st.characters(exclude_characters="}"), max_size=8),
    values,
    st.sampled_from(["", " ", "  "]),
    st.sampled_from(["", " ", "\t"]),
)
def test_names_are_trimmed(name, value, before, after):
    assume(name == name.strip())
    assert (
        render_template(f"<#{{{before}{name}{after}}}>", {name: value})
        == f"<{stringify_variable(value)}>"
    )


@given(values)
def test_values_are_written_the_way_k_message_writes_them(value):
    text = stringify_variable(value)
    if value is None:
        assert text == ""
    elif isinstance(value, bool):
        assert text == ("true" if value else "false")
    else:
        assert text == str(value)
        if isinstance(value, int):
            assert int(text) == value
