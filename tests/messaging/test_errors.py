"""Normalized error codes, retryability, acceptance, and the vendor tables."""

import pytest

from kmsg_console.messaging.errors import (
    FAILOVER_CODES,
    Acceptance,
    ErrorCode,
    SendError,
)
from kmsg_console.messaging.vendor_codes import (
    TABLES,
    explain,
    map_vendor_code,
    normalize_vendor_code,
)

E = ErrorCode


def test_exactly_the_seventeen_k_message_codes():
    assert {c.value for c in ErrorCode} == {
        "INVALID_REQUEST",
        "AUTHENTICATION_FAILED",
        "INSUFFICIENT_BALANCE",
        "TEMPLATE_NOT_FOUND",
        "RATE_LIMIT_EXCEEDED",
        "NETWORK_ERROR",
        "NETWORK_TIMEOUT",
        "NETWORK_SERVICE_UNAVAILABLE",
        "REQUEST_ABORTED",
        "PROVIDER_ERROR",
        "MESSAGE_SEND_FAILED",
        "CRYPTO_CONFIG_ERROR",
        "CRYPTO_ENCRYPT_FAILED",
        "CRYPTO_DECRYPT_FAILED",
        "CRYPTO_HASH_FAILED",
        "CRYPTO_POLICY_VIOLATION",
        "UNKNOWN_ERROR",
    }


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        (E.NETWORK_ERROR, True),
        (E.NETWORK_TIMEOUT, True),
        (E.RATE_LIMIT_EXCEEDED, True),
        (E.NETWORK_SERVICE_UNAVAILABLE, True),
        (E.UNKNOWN_ERROR, True),
        (E.PROVIDER_ERROR, True),
        (E.INVALID_REQUEST, False),
        (E.AUTHENTICATION_FAILED, False),
        (E.INSUFFICIENT_BALANCE, False),
        (E.TEMPLATE_NOT_FOUND, False),
        (E.REQUEST_ABORTED, False),
        (E.MESSAGE_SEND_FAILED, False),
        (E.CRYPTO_HASH_FAILED, False),
    ],
)
def test_default_retry_class(code, retryable):
    assert code.retryable_by_default is retryable
    assert SendError.of(code, "x", accepted=Acceptance.NOT_ACCEPTED).retryable is retryable


def test_unknown_outcome_is_never_retryable():
    error = SendError.of(E.NETWORK_TIMEOUT, "read timeout", accepted=Acceptance.UNKNOWN)
    assert error.retryable is False
    assert error.failover_eligible is False


def test_provider_error_on_a_2xx_business_answer_is_not_retryable():
    assert (
        SendError.of(
            E.PROVIDER_ERROR, "x", accepted=Acceptance.NOT_ACCEPTED, http_status=200
        ).retryable
        is False
    )
    assert (
        SendError.of(
            E.PROVIDER_ERROR, "x", accepted=Acceptance.NOT_ACCEPTED, http_status=502
        ).retryable
        is True
    )


def test_failover_eligibility():
    for code in ErrorCode:
        error = SendError.of(code, "x", accepted=Acceptance.NOT_ACCEPTED)
        assert error.failover_eligible is (code in FAILOVER_CODES)
    assert E.INVALID_REQUEST not in FAILOVER_CODES and E.TEMPLATE_NOT_FOUND not in FAILOVER_CODES


def test_vendor_code_is_stored_as_text():
    error = SendError.of(
        E.AUTHENTICATION_FAILED, "x", accepted=Acceptance.NOT_ACCEPTED, vendor_code=206
    )
    assert error.vendor_code == "206"
    assert error.to_dict()["accepted"] == "not_accepted"


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (200, "200"),
        ("200", "200"),
        (" 200 ", "200"),
        (200.0, "200"),
        ("0", "0"),
        (-101, "-101"),
        ("-101", "-101"),
        ("1.5", "1.5"),
        ("InvalidApiKey", "InvalidApiKey"),
        (None, None),
        ("", None),
        (True, None),
    ],
)
def test_normalize_vendor_code(raw, text):
    assert normalize_vendor_code(raw) == text


@pytest.mark.parametrize(
    ("table", "vendor_code", "code"),
    [
        ("iwinv_alimtalk", 206, E.AUTHENTICATION_FAILED),
        ("iwinv_alimtalk", "201", E.AUTHENTICATION_FAILED),
        ("iwinv_alimtalk", 429, E.RATE_LIMIT_EXCEEDED),
        ("iwinv_alimtalk", 519, E.INSUFFICIENT_BALANCE),
        ("iwinv_alimtalk", 501, E.TEMPLATE_NOT_FOUND),
        ("iwinv_alimtalk", 404, E.TEMPLATE_NOT_FOUND),
        ("iwinv_alimtalk", 505, E.INVALID_REQUEST),
        ("iwinv_alimtalk", 512, E.INVALID_REQUEST),  # inside the 502-517 validation range
        ("iwinv_alimtalk", 540, E.INVALID_REQUEST),
        ("iwinv_alimtalk", 518, E.PROVIDER_ERROR),
        ("iwinv_alimtalk", 599, E.PROVIDER_ERROR),
        ("iwinv_alimtalk", 300, E.INVALID_REQUEST),
        ("iwinv_sms", 15, E.AUTHENTICATION_FAILED),
        ("iwinv_sms", "14", E.AUTHENTICATION_FAILED),
        ("iwinv_sms", 13, E.INVALID_REQUEST),
        ("iwinv_sms", 50, E.INSUFFICIENT_BALANCE),
        ("iwinv_sms", 1, E.PROVIDER_ERROR),
        ("iwinv_sms", 99, E.PROVIDER_ERROR),
        ("aligo_sms", -101, E.AUTHENTICATION_FAILED),
        ("aligo_sms", "-102", E.INSUFFICIENT_BALANCE),
        ("aligo_sms", "-105", E.INVALID_REQUEST),
        ("aligo_sms", "-999", E.PROVIDER_ERROR),
        ("aligo_kakao", "-501", E.TEMPLATE_NOT_FOUND),
        ("aligo_kakao", -99, E.AUTHENTICATION_FAILED),
        ("aligo_kakao", "509", E.INVALID_REQUEST),
        ("solapi", "1030", E.INSUFFICIENT_BALANCE),
        ("solapi", 2230, E.INSUFFICIENT_BALANCE),
        ("solapi", "1062", E.INVALID_REQUEST),
        ("solapi", 1021, E.INVALID_REQUEST),
        ("solapi", "3104", E.MESSAGE_SEND_FAILED),
        ("solapi", "SignatureDoesNotMatch", E.AUTHENTICATION_FAILED),
    ],
)
def test_vendor_tables(table, vendor_code, code):
    assert map_vendor_code(table, vendor_code).code is code


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (401, E.AUTHENTICATION_FAILED),
        (403, E.AUTHENTICATION_FAILED),
        (429, E.RATE_LIMIT_EXCEEDED),
        (400, E.INVALID_REQUEST),
        (500, E.PROVIDER_ERROR),
    ],
)
def test_solapi_unknown_error_code_falls_back_on_http_status(status, code):
    # K-Message turns a server-side 401/403 into INVALID_REQUEST; we do not.
    assert map_vendor_code("solapi", "SomethingNew", http_status=status).code is code


def test_every_table_entry_has_a_meaning():
    for table in TABLES.values():
        for entry in table.values():
            assert entry.meaning.strip()


@pytest.mark.parametrize(
    ("vendor", "vendor_code", "message_type", "needle"),
    [
        ("iwinv", 206, None, "IP"),
        ("iwinv", "15", "SMS", "IP"),
        ("iwinv", 505, "ALIMTALK", "sender number"),
        ("iwinv", 13, "LMS", "sender number"),
        ("iwinv", 519, None, "Recharge"),
        ("iwinv", 50, "SMS", "Recharge"),
        ("iwinv", 501, None, "template code"),
        ("solapi", 3104, None, "KakaoTalk"),
        ("solapi", "1021", "SMS", "sender number"),
        ("aligo", "-101", None, "API key"),
    ],
)
def test_explain_gives_an_operator_fix(vendor, vendor_code, message_type, needle):
    explanation = explain(vendor, vendor_code, message_type)
    assert explanation is not None
    assert needle in explanation.fix


def test_explain_picks_the_iwinv_table_by_message_type():
    assert explain("iwinv", 1, "SMS").code is E.PROVIDER_ERROR
    assert explain("iwinv", 1, "ALIMTALK") is None
    assert explain("iwinv_sms", 50).code is E.INSUFFICIENT_BALANCE


def test_explain_unknown_code_or_vendor():
    assert explain("iwinv", "7777") is None
    assert explain("nobody", "1") is None
    assert explain("solapi", None) is None
