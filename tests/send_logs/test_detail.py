"""/send-logs/<id>: the error explained with the vendor's meaning and fix, attempts, timeline, text."""

from __future__ import annotations

import pytest

from kmsg_console.operators.models import Role
from tests.send_logs.conftest import PHONE


@pytest.fixture
def iwinv_failure(add_log, add_provider):
    """An SMS IWINV refused from an unregistered IP (206) after SOLAPI refused our key."""
    add_provider("solapi-main", "solapi")
    add_provider("iwinv-main", "iwinv")
    return add_log(
        status="FAILED",
        provider_code="iwinv-main",
        error_code="AUTHENTICATION_FAILED",
        vendor_code="206",
        vendor_text="unregistered IP",
        http_status=200,
        retryable=False,
        attempts=[
            {
                "provider_code": "solapi-main",
                "error_code": "AUTHENTICATION_FAILED",
                "vendor_code": "SignatureDoesNotMatch",
                "vendor_text": "signature mismatch",
                "http_status": 403,
                "raw": {"errorCode": "SignatureDoesNotMatch", "to": "010-****-1357"},
            },
            {
                "provider_code": "iwinv-main",
                "trigger": "failover",
                "error_code": "AUTHENTICATION_FAILED",
                "vendor_code": "206",
                "vendor_text": "unregistered IP",
                "http_status": 200,
            },
        ],
    )


def test_vendor_codes_are_explained_with_a_suggested_fix(console, iwinv_failure):
    console.login(Role.VIEWER)
    response = console.client.get(f"/send-logs/{iwinv_failure}")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Request from an IP address that is not registered." in text  # IWINV SMS 206
    assert "IP allow-list" in text  # its fix
    assert "The HMAC signature does not match (wrong API secret)." in text  # SOLAPI attempt 1
    assert "rejected the credentials" in text  # the normalized code's own help
    assert 'id="attempt-1"' in text and 'id="attempt-2"' in text and "Failover" in text
    assert "Raw answer" in text and "SignatureDoesNotMatch" in text
    assert "error_code=AUTHENTICATION_FAILED" in text  # drill-down to similar failures


def test_retry_button_only_for_operators_and_retryable_failures(console, add_log):
    retryable = add_log(
        status="FAILED", error_code="PROVIDER_ERROR", retryable=True, payload_enc="x"
    )
    final = add_log(status="FAILED", error_code="INVALID_REQUEST", retryable=False, payload_enc="x")
    console.login(Role.OPERATOR)
    assert f"/send-logs/{retryable}/retry" in console.client.get(
        f"/send-logs/{retryable}"
    ).get_data(as_text=True)
    assert "/retry" not in console.client.get(f"/send-logs/{final}").get_data(as_text=True)
    console.client.post("/logout", data={})
    viewer = console.app.test_client()
    viewer.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    console.client = viewer
    console.login(Role.VIEWER)
    assert "/retry" not in viewer.get(f"/send-logs/{retryable}").get_data(as_text=True)


def test_text_is_shown_to_operators_only(console, add_log):
    public_id = add_log(body="[샵] 김민수님 주문 12-345 접수")
    console.login(Role.VIEWER)
    viewer_page = console.client.get(f"/send-logs/{public_id}").get_data(as_text=True)
    assert (
        "김민수" not in viewer_page
        and "Only operators and admins can read message texts." in viewer_page
    )
    operator = console.app.test_client()
    operator.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    console.client = operator
    console.login(Role.OPERATOR)
    assert "김민수님 주문 12-345 접수" in operator.get(f"/send-logs/{public_id}").get_data(
        as_text=True
    )


def test_otp_code_never_appears_and_full_number_never_appears(app, console, sandbox):
    public_id = sandbox.send(text="[샵] 인증번호 482913 (3분)", sensitive_values=["482913"])
    console.login(Role.ADMIN)
    text = console.client.get(f"/send-logs/{public_id}").get_data(as_text=True)
    assert "482913" not in text
    assert "인증번호 ••••••" in text and "The one-time code was masked" in text
    digits = PHONE.replace("-", "")
    assert digits not in text and PHONE not in text and "010-****-1357" in text


def test_recipient_link_lists_the_same_numbers_messages(console, add_log):
    first = add_log()
    second = add_log()
    add_log(phone="010-9999-0000")
    console.login(Role.VIEWER)
    text = console.client.get(f"/send-logs/{first}").get_data(as_text=True)
    import re

    link = re.search(r'href="(/send-logs\?recipient=[0-9a-f]{64})"', text).group(1)
    listed = console.client.get(link).get_data(as_text=True)
    assert set(re.findall(r'id="message-([0-9a-f-]{36})"', listed)) == {first, second}


def test_unknown_message_is_404(console):
    console.login(Role.VIEWER)
    assert console.client.get("/send-logs/does-not-exist").status_code == 404
