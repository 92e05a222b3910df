"""prepare_message: normalization, interpolation, SMS/LMS choice and per-type rules."""

from datetime import UTC, datetime

import pytest

from kmsg_console.messaging.prepare import prepare_message
from kmsg_console.messaging.types import (
    Failover,
    FallbackChannel,
    MediaImage,
    Message,
    MessageType,
    MessageValidationError,
)
from kmsg_console.messaging.validation import validate_message


def issue_codes(exc_info):
    return {(issue.field, issue.code) for issue in exc_info.value.issues}


def test_untyped_short_text_is_sms_with_normalized_phones():
    prepared = prepare_message(to="+82 10-1234-5678", from_="02-123-4567", text="hello")
    assert prepared.type is MessageType.SMS
    assert prepared.message.to == "01012345678"
    assert prepared.message.from_ == "021234567"
    assert prepared.warnings == ()


def test_upgrade_is_decided_after_substitution():
    # 88 bytes as written; 82 or 97 bytes once the name is filled in.
    template = "#{name}님 " + "가" * 39
    short = prepare_message(to="01012345678", text=template, variables={"name": "A"})
    long = prepare_message(to="01012345678", text=template, variables={"name": "가나다라마바사아"})
    assert short.type is MessageType.SMS
    assert long.type is MessageType.LMS
    assert [w.code for w in long.warnings] == ["AUTO_LMS_UPGRADE"]
    assert long.warnings[0].details["bytes"] == 97
    assert "97 bytes" in str(long.warnings[0])


def test_long_placeholder_names_do_not_force_lms():
    # 92 bytes as written (K-Message would upgrade), 67 bytes once filled: SMS.
    template = "#{customer_full_name_here}" + "가" * 33
    prepared = prepare_message(
        to="01012345678", text=template, variables={"customer_full_name_here": "A"}
    )
    assert prepared.type is MessageType.SMS
    assert prepared.byte_count.bytes == 67


def test_90_and_91_byte_boundary_when_type_is_omitted():
    assert prepare_message(to="01012345678", text="가" * 45).type is MessageType.SMS
    assert prepare_message(to="01012345678", text="가" * 45 + "!").type is MessageType.LMS


def test_explicit_type_is_kept_and_sms_over_90_bytes_is_refused():
    assert prepare_message(to="01012345678", text="short", type="lms").type is MessageType.LMS
    with pytest.raises(MessageValidationError) as info:
        prepare_message(to="01012345678", text="가" * 46, type=MessageType.SMS)
    assert ("text", "SMS_TOO_LONG") in issue_codes(info)


def test_missing_variable_refuses_the_message():
    with pytest.raises(MessageValidationError) as info:
        prepare_message(to="01012345678", text="인증번호 #{code}")
    assert ("text", "MISSING_VARIABLE") in issue_codes(info)


def test_text_is_interpolated_for_friendtalk():
    prepared = prepare_message(
        to="01012345678", type="FRIENDTALK", text="#{n}님", variables={"n": "김"}
    )
    assert prepared.message.text == "김님"


def test_every_problem_is_reported_at_once():
    with pytest.raises(MessageValidationError) as info:
        prepare_message(to="not a phone", from_="12", text="#{x}", type="SMS")
    assert {
        ("to", "INVALID_PHONE_NUMBER"),
        ("from", "INVALID_PHONE_NUMBER"),
        ("text", "MISSING_VARIABLE"),
    } <= issue_codes(info)


def test_unknown_type_is_refused():
    with pytest.raises(MessageValidationError) as info:
        prepare_message(to="01012345678", text="x", type="FAX")
    assert ("type", "UNSUPPORTED_TYPE") in issue_codes(info)


def test_lms_body_2000_bytes_ok_and_2001_refused():
    assert (
        prepare_message(to="01012345678", type="LMS", text="가" * 1000).message.text == "가" * 1000
    )
    with pytest.raises(MessageValidationError) as info:
        prepare_message(to="01012345678", type="LMS", text="가" * 1000 + "a")
    assert ("text", "TEXT_TOO_LONG") in issue_codes(info)


def test_subject_40_bytes_ok_and_41_refused():
    ok = prepare_message(to="01012345678", type="LMS", text="body", subject="가" * 20)
    assert ok.message.subject == "가" * 20
    with pytest.raises(MessageValidationError) as info:
        prepare_message(to="01012345678", type="LMS", text="body", subject="가" * 20 + "a")
    assert ("subject", "SUBJECT_TOO_LONG") in issue_codes(info)


def test_untyped_text_with_subject_is_sms_and_warns_the_subject_is_dropped():
    prepared = prepare_message(to="01012345678", text="hi", subject="title")
    assert prepared.type is MessageType.SMS
    assert prepared.message.subject is None
    assert [w.code for w in prepared.warnings] == ["SUBJECT_IGNORED"]


def test_untyped_message_with_image_is_mms():
    image = MediaImage(b"\xff\xd8\xff", "a.jpg")
    assert prepare_message(to="01012345678", text="pic", image=image).type is MessageType.MMS


def test_mms_needs_an_image():
    with pytest.raises(MessageValidationError) as info:
        prepare_message(to="01012345678", type="MMS", text="x")
    assert ("image", "IMAGE_REQUIRED") in issue_codes(info)


def test_emoji_produces_a_warning_not_an_error():
    prepared = prepare_message(to="01012345678", text="ok 👍")
    assert [w.code for w in prepared.warnings] == ["UNENCODABLE_CHARACTERS"]
    assert prepared.warnings[0].details["chars"] == ["👍"]


def test_alimtalk_needs_template_id_and_every_template_variable():
    with pytest.raises(MessageValidationError) as info:
        prepare_message(
            to="01012345678",
            type="ALIMTALK",
            template_content="#{name} #{code}",
            variables={"name": "x"},
        )
    assert {("template_id", "TEMPLATE_REQUIRED"), ("variables", "MISSING_VARIABLE")} <= issue_codes(
        info
    )


def test_alimtalk_text_is_not_interpolated_and_variables_are_kept():
    prepared = prepare_message(
        to="01012345678",
        type="ALIMTALK",
        template_id="T1",
        template_content="#{code}",
        variables={"code": "1"},
    )
    assert prepared.message.variables == {"code": "1"}
    assert prepared.message.text is None


def test_alimtalk_fallback_content_is_interpolated_and_limited():
    prepared = prepare_message(
        to="01012345678",
        type="ALIMTALK",
        template_id="T1",
        variables={"code": "123456"},
        failover=Failover(enabled=True, fallback_content="인증번호 #{code}"),
    )
    assert prepared.message.failover.fallback_content == "인증번호 123456"
    with pytest.raises(MessageValidationError) as info:
        prepare_message(
            to="01012345678",
            type="ALIMTALK",
            template_id="T1",
            failover=Failover(
                enabled=True, fallback_channel=FallbackChannel.SMS, fallback_content="가" * 46
            ),
        )
    assert ("failover.fallback_content", "TEXT_TOO_LONG") in issue_codes(info)


def test_failover_on_sms_is_dropped_with_a_warning():
    prepared = prepare_message(to="01012345678", text="x", failover=Failover(enabled=True))
    assert prepared.message.failover is None
    assert [w.code for w in prepared.warnings] == ["FAILOVER_IGNORED"]


def test_friendtalk_1000_characters():
    assert (
        prepare_message(to="01012345678", type="FRIENDTALK", text="가" * 1000).type
        is MessageType.FRIENDTALK
    )
    with pytest.raises(MessageValidationError):
        prepare_message(to="01012345678", type="FRIENDTALK", text="가" * 1001)


def test_naive_scheduled_time_is_refused():
    with pytest.raises(MessageValidationError) as info:
        prepare_message(to="01012345678", text="x", scheduled_at=datetime(2026, 1, 1, 9, 0))
    assert ("scheduled_at", "NAIVE_DATETIME") in issue_codes(info)
    aware = datetime(2026, 1, 1, tzinfo=UTC)
    assert (
        prepare_message(to="01012345678", text="x", scheduled_at=aware).message.scheduled_at
        == aware
    )


def test_message_id_defaults_to_a_fresh_uuid_and_can_be_given():
    first = prepare_message(to="01012345678", text="x").message.message_id
    second = prepare_message(to="01012345678", text="x").message.message_id
    assert first != second and len(first) == 36
    assert prepare_message(to="01012345678", text="x", message_id="m-1").message.message_id == "m-1"


def test_validate_message_flags_unnormalized_phone_built_by_hand():
    issues = validate_message(Message(type=MessageType.SMS, to="010-1234-5678", text="x"))
    assert [(i.field, i.code) for i in issues] == [("to", "PHONE_NOT_NORMALIZED")]


def test_validation_error_becomes_invalid_request_not_accepted():
    from kmsg_console.messaging.errors import Acceptance, ErrorCode, validation_error

    with pytest.raises(MessageValidationError) as info:
        prepare_message(to="x", text="y")
    error = validation_error(info.value)
    assert error.code is ErrorCode.INVALID_REQUEST
    assert error.accepted is Acceptance.NOT_ACCEPTED
    assert error.retryable is False
