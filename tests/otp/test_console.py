"""The operator's test-OTP console: issue, follow, check, cancel; recent list; purposes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from kmsg_console import sending
from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.operators.models import Operator, Role
from kmsg_console.otp import queries
from kmsg_console.otp import services as otp
from kmsg_console.otp.models import Verification, VerificationPurpose
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.sandbox import sandbox_clear, script_sandbox
from kmsg_console.throttle.services import ensure_default_policies
from tests.conftest import Console

PHONE = "010-4444-5555"
SANDBOX_PANEL = re.compile(r'<pre class="message-text" id="sandbox-text">.*?</pre>', re.S)


@pytest.fixture
def otp_ready(app):
    with app.test_request_context():
        provider_services.ensure_sandbox_provider()
        otp.ensure_default_purposes()
        ensure_default_policies()
        for purpose in db.session.scalars(sa.select(VerificationPurpose)):
            purpose.resend_cooldown_seconds = 0
        db.session.commit()
    yield
    sandbox_clear()


@pytest.fixture
def operator(console, otp_ready):
    email = console.login(Role.OPERATOR)
    with console.app.app_context():
        return db.session.scalar(sa.select(Operator.id).where(Operator.email == email))


def _set_purpose(app, code="login", **values):
    with app.app_context():
        purpose = db.session.scalar(
            sa.select(VerificationPurpose).where(VerificationPurpose.code == code)
        )
        for name, value in values.items():
            setattr(purpose, name, value)
        db.session.commit()
        return purpose.id


def _issue(console, phone=PHONE, purpose="login"):
    return console.post("/otp", data={"phone": phone, "purpose": purpose})


def _issued(console, **kwargs) -> str:
    response = _issue(console, **kwargs)
    assert response.status_code == 303, response.data[:800]
    match = re.fullmatch(r"/otp/verifications/([0-9a-f-]{36})", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def _delivered_code(app, phone=PHONE) -> str:
    with app.test_request_context():
        text = sending.sandbox_inbox(phone, limit=1)[0]["text"]
    return re.search(r"\[(\d{4,10})\]", text).group(1)


def _verification(app, public_id) -> Verification:
    with app.app_context():
        found = db.session.scalar(
            sa.select(Verification).where(Verification.public_id == public_id)
        )
        db.session.expunge(found)
        return found


def _audit(app, action):
    with app.app_context():
        return db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()


def _wrong(code: str) -> str:
    return str((int(code) + 1) % 10 ** len(code)).zfill(len(code))


# -- access and headers ---------------------------------------------------------------------


def test_viewer_is_refused_everywhere_under_otp(app, console, otp_ready):
    console.login(Role.VIEWER)
    assert console.client.get("/otp").status_code == 403
    assert console.client.get("/otp/purposes").status_code == 403
    assert _issue(console).status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Verification)) == 0


def test_otp_pages_are_never_cached_nor_kept_in_htmx_history(app, console, operator):
    page = console.client.get("/otp")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert 'hx-history="false"' in page.get_data(as_text=True)
    public_id = _issued(console)
    for response in (
        console.client.get(f"/otp/verifications/{public_id}"),
        console.client.get(f"/otp/verifications/{public_id}", headers={"HX-Request": "true"}),
        console.client.get("/otp/purposes"),
    ):
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert 'hx-history="false"' in response.get_data(as_text=True)


def test_navigation_leads_to_the_console(console, operator):
    html = console.client.get("/").get_data(as_text=True)
    assert 'href="/otp"' in html
    assert "Test OTP" in console.client.get("/otp").get_data(as_text=True)


# -- issuing ----------------------------------------------------------------------------------


def test_issuing_creates_a_verification_by_the_operator_and_an_audit_row_without_the_code(
    app, console, operator
):
    public_id = _issued(console)
    verification = _verification(app, public_id)
    assert verification.operator_id == operator
    assert verification.status == "pending" and verification.phone_masked == "010-****-5555"
    code = _delivered_code(app)
    events = _audit(app, "otp.test_start")
    assert len(events) == 1 and events[0].actor_id == operator and events[0].outcome == "success"
    assert events[0].target_id == public_id
    assert code not in str(events[0].details) and "4444" not in str(events[0].details)
    page = console.client.get(f"/otp/verifications/{public_id}")
    assert "Test code sent to 010-****-5555." in page.get_data(as_text=True)


def test_invalid_number_is_refused_under_the_field(app, console, operator):
    response = _issue(console, phone="010-12")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="field has-error"' in html and 'value="010-12"' in html
    assert "010-12 is not a valid Korean phone number." in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Verification)) == 0


def test_disabled_purpose_cannot_be_chosen(app, console, operator):
    _set_purpose(app, enabled=False)
    response = _issue(console)
    assert response.status_code == 422
    start_select = re.search(
        r'<select id="purpose".*?</select>', response.get_data(as_text=True), re.S
    ).group(0)
    assert 'value="login"' not in start_select and 'value="signup"' in start_select


def test_throttle_refusal_shows_429_with_retry_after_and_sends_nothing(app, console, operator):
    phone = "010-7777-0001"
    for _ in range(3):  # the default policy: 3 starts per phone per 10 minutes
        _issued(console, phone=phone)
    response = _issue(console, phone=phone)
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert 'data-status="429"' in html and "Refused by a throttle policy; nothing was sent." in html
    with app.test_request_context():
        assert len(sending.sandbox_inbox(phone)) == 3
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Verification)) == 3
    refused = [e for e in _audit(app, "otp.test_start") if e.outcome == "failure"]
    assert len(refused) == 1 and refused[0].details["error"] == "throttled"


def test_resend_cooldown_is_shown_with_its_wait(app, console, operator):
    _set_purpose(app, resend_cooldown_seconds=60)
    _issued(console)
    response = _issue(console)
    assert response.status_code == 429
    assert 55 <= int(response.headers["Retry-After"]) <= 60
    assert "resend cooldown" in response.get_data(as_text=True)


def test_send_failure_shows_502_and_links_the_canceled_verification(app, console, operator):
    script_sandbox("sandbox", ["fail:PROVIDER_ERROR"])
    response = _issue(console)
    html = response.get_data(as_text=True)
    assert response.status_code == 502
    assert 'data-status="502"' in html and "The code could not be sent (PROVIDER_ERROR)." in html
    with app.app_context():
        verification = db.session.scalar(sa.select(Verification))
        assert verification.status == "canceled"
        assert f"/otp/verifications/{verification.public_id}" in html
    assert _audit(app, "otp.test_start")[0].outcome == "failure"


# -- following it live ----------------------------------------------------------------------


def test_verification_page_polls_and_shows_the_sandbox_delivery(app, console, operator):
    public_id = _issued(console)
    code = _delivered_code(app)
    html = console.client.get(f"/otp/verifications/{public_id}").get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in html
    assert code in SANDBOX_PANEL.search(html).group(0)
    assert "Code sent" in html and "by SMS" in html
    assert "0 / 5" in html and "5 left" in html


def _other_console(app) -> Console:
    other = Console(app, app.test_client())
    other.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return other


def test_an_api_verification_delivered_by_the_sandbox_never_shows_its_code(app, console, operator):
    """Its code guards an end user's sign-in; operators must not be able to read it."""
    with app.test_request_context():
        public_id = otp.start(phone=PHONE, purpose_code="login").public_id
        db.session.commit()
    code = _delivered_code(app)  # the sandbox took it, as on a fresh install
    for fragment in ({}, {"HX-Request": "true"}):
        html = console.client.get(f"/otp/verifications/{public_id}", headers=fragment).get_data(
            as_text=True
        )
        assert code not in html and SANDBOX_PANEL.search(html) is None
        assert "Started through the API: its code is never shown in the console." in html


def test_a_test_code_is_shown_only_to_the_operator_who_started_it(app, console, operator):
    public_id = _issued(console)
    code = _delivered_code(app)
    colleague = _other_console(app)
    colleague.login(Role.ADMIN)
    html = colleague.client.get(f"/otp/verifications/{public_id}").get_data(as_text=True)
    assert code not in html and SANDBOX_PANEL.search(html) is None
    assert "Only the operator who started this test sees its code." in html
    own = console.client.get(f"/otp/verifications/{public_id}").get_data(as_text=True)
    assert code in SANDBOX_PANEL.search(own).group(0)


def test_status_fragment_polls_while_pending_and_stops_afterwards(app, console, operator):
    public_id = _issued(console)
    fragment = console.client.get(f"/otp/verifications/{public_id}", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<section id="otp-live"') and 'hx-trigger="every 2s"' in html
    assert 'data-status="pending"' in html and "hx-swap-oob" not in html

    console.post(f"/otp/verifications/{public_id}/check", data={"code": _delivered_code(app)})
    html = console.client.get(
        f"/otp/verifications/{public_id}", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert 'data-status="approved"' in html and "hx-trigger" not in html
    # The check form next to the panel is replaced too: a finished verification takes no codes.
    assert 'id="otp-actions" hx-swap-oob="true"' in html and 'name="code"' not in html


def test_a_pending_verification_past_its_lifetime_shows_as_expired(
    app, console, operator, monkeypatch
):
    public_id = _issued(console)
    monkeypatch.setattr(otp, "clock", lambda: otp.utcnow() + timedelta(seconds=181))
    html = console.client.get(
        f"/otp/verifications/{public_id}", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert 'data-status="expired"' in html and "hx-trigger" not in html
    assert _verification(app, public_id).status == "pending"  # reading never writes


# -- checking and canceling -----------------------------------------------------------------


def test_right_code_approves_and_a_second_check_answers_409(app, console, operator):
    public_id = _issued(console)
    code = _delivered_code(app)
    response = console.post(f"/otp/verifications/{public_id}/check", data={"code": code})
    assert response.status_code == 303
    verification = _verification(app, public_id)
    assert verification.status == "approved" and verification.approved_at is not None
    page = console.client.get(f"/otp/verifications/{public_id}").get_data(as_text=True)
    assert "Code accepted: the verification is approved." in page
    assert [e.details for e in _audit(app, "otp.test_check")] == [{"result": "approved"}]

    again = console.post(f"/otp/verifications/{public_id}/check", data={"code": code})
    html = again.get_data(as_text=True)
    assert again.status_code == 409
    assert "This verification was already approved." in html
    assert f'value="{code}"' not in html


def test_wrong_code_shows_attempts_left_and_is_not_echoed(app, console, operator):
    public_id = _issued(console)
    wrong = _wrong(_delivered_code(app))
    response = console.post(f"/otp/verifications/{public_id}/check", data={"code": wrong})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Wrong code. 4 attempts left." in html
    assert wrong not in SANDBOX_PANEL.sub("", html)
    assert _verification(app, public_id).checks == 1
    assert _audit(app, "otp.test_check")[0].outcome == "failure"


def test_last_wrong_code_kills_the_verification(app, console, operator):
    _set_purpose(app, max_checks=1)
    public_id = _issued(console)
    wrong = _wrong(_delivered_code(app))
    response = console.post(f"/otp/verifications/{public_id}/check", data={"code": wrong})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "that was the last attempt" in html and 'name="code"' not in html
    assert _verification(app, public_id).status == "max_attempts"


def test_empty_code_is_a_field_error(app, console, operator):
    public_id = _issued(console)
    response = console.post(f"/otp/verifications/{public_id}/check", data={"code": " "})
    assert response.status_code == 422
    assert _verification(app, public_id).checks == 0


def test_a_malformed_code_is_a_field_error_that_spends_no_attempt(app, console, operator):
    public_id = _issued(console)
    code = _delivered_code(app)
    response = console.post(f"/otp/verifications/{public_id}/check", data={"code": "12ab"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="field has-error"' in html
    assert "Enter the 6-digit code, digits only. It was not checked; no attempt was used." in html
    assert 'value="12ab"' not in html
    assert _verification(app, public_id).checks == 0
    assert _audit(app, "otp.test_check") == []
    wrong = console.post(f"/otp/verifications/{public_id}/check", data={"code": _wrong(code)})
    assert "Wrong code. 4 attempts left." in wrong.get_data(as_text=True)


def test_cancel_stops_the_code(app, console, operator):
    public_id = _issued(console)
    code = _delivered_code(app)
    response = console.post(f"/otp/verifications/{public_id}/cancel")
    assert response.status_code == 303
    assert _verification(app, public_id).status == "canceled"
    assert len(_audit(app, "otp.cancel")) == 1
    checked = console.post(f"/otp/verifications/{public_id}/check", data={"code": code})
    assert checked.status_code == 422 and "canceled" in checked.get_data(as_text=True)
    assert _verification(app, public_id).status == "canceled"
    console.post(f"/otp/verifications/{public_id}/cancel")
    page = console.client.get(f"/otp/verifications/{public_id}").get_data(as_text=True)
    assert "Only a pending verification can be canceled." in page
    assert len(_audit(app, "otp.cancel")) == 1


def test_unknown_verification_is_404(console, operator):
    assert console.client.get("/otp/verifications/nope").status_code == 404
    assert console.post("/otp/verifications/nope/check", data={"code": "123456"}).status_code == 404


# -- the code stays in the sandbox panel ----------------------------------------------------


def test_the_code_appears_in_no_page_but_the_sandbox_panel(app, console, operator):
    _set_purpose(app, code_length=8)
    public_id = _issued(console)
    code = _delivered_code(app)
    console.post(f"/otp/verifications/{public_id}/check", data={"code": _wrong(code)})
    console.post(f"/otp/verifications/{public_id}/check", data={"code": code})
    message_id = _verification(app, public_id).message_public_id
    detail = console.client.get(f"/otp/verifications/{public_id}").get_data(as_text=True)
    assert code in SANDBOX_PANEL.search(detail).group(0)
    assert code not in SANDBOX_PANEL.sub("", detail)
    pages = [
        "/otp",
        "/otp?status=approved",
        "/otp/purposes",
        f"/send-logs/{message_id}",
        "/send-logs",
    ]
    for path in pages:
        response = console.client.get(path)
        assert response.status_code == 200, path
        assert code not in response.get_data(as_text=True), path
    admin = Console(app, app.test_client())
    admin.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    admin.login(Role.ADMIN)
    audit_page = admin.client.get("/audit-log").get_data(as_text=True)
    assert "otp.test_start" in audit_page and code not in audit_page


# -- recent verifications and conversion ------------------------------------------------------


def test_recent_list_pages_with_a_cursor_and_filters(app, console, operator):
    app.config["PAGE_SIZE"] = 2
    ids = [_issued(console, phone=f"010-5555-000{n}") for n in range(3)]
    first = console.client.get("/otp", headers={"HX-Request": "true"})
    html = first.get_data(as_text=True)
    assert "<html" not in html and html.count('id="verification-') == 2
    assert (
        ids[2] in html and ids[0] not in html and "010-****-0002" in html and "5555-000" not in html
    )
    cursor = re.search(r'hx-get="/otp\?cursor=([^"]+)"', html).group(1)
    older = console.client.get(f"/otp?cursor={cursor}", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert older.count('id="verification-') == 1 and ids[0] in older
    assert console.client.get("/otp?cursor=garbage").status_code == 400
    console.post(f"/otp/verifications/{ids[1]}/cancel")
    canceled = console.client.get("/otp?status=canceled", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert canceled.count('id="verification-') == 1 and ids[1] in canceled
    signup = console.client.get("/otp?purpose=signup", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert "No verifications yet." in signup


def test_conversion_per_purpose_and_day(app, console, operator):
    approved_id = _issued(console, phone="010-5555-1001")
    console.post(
        f"/otp/verifications/{approved_id}/check",
        data={"code": _delivered_code(app, "010-5555-1001")},
    )
    _issued(console, phone="010-5555-1002")
    old_id = _issued(console, phone="010-5555-1003", purpose="signup")
    with app.test_request_context():
        old = db.session.scalar(sa.select(Verification).where(Verification.public_id == old_id))
        old.created_at -= timedelta(days=2)
        ancient = db.session.scalar(
            sa.select(Verification).where(Verification.public_id == approved_id)
        )
        db.session.commit()
        result = queries.conversion()
        rows = {row.code: row for row in result.purposes}
        assert (result.per_day[-1].started, result.per_day[-1].approved) == (2, 1)
        assert result.per_day[-1].rate == 0.5
        assert (result.per_day[-3].started, result.per_day[-3].approved) == (1, 0)
        assert (rows["login"].total.started, rows["login"].total.approved) == (2, 1)
        assert rows["signup"].days[-3].started == 1 and rows["payment"].total.rate is None
        ancient.created_at -= timedelta(days=8)  # outside the window: not counted
        db.session.commit()
        assert queries.conversion().total.started == 2
    html = console.client.get("/otp").get_data(as_text=True)
    assert '<svg class="otp-chart"' in html and "Conversion per purpose and day" in html


# -- purposes -------------------------------------------------------------------------------

VALID = {
    "code": "withdrawal",
    "name": "Withdrawal",
    "enabled": "y",
    "code_length": "6",
    "lifetime_seconds": "180",
    "max_checks": "5",
    "resend_cooldown_seconds": "30",
    "channel": "sms",
    "alimtalk_template_code": "",
    "sms_fallback": "y",
    "brand": "Bank",
    "sender_number": "1588-1234",
    "message_template": "[#{brand}] 인증번호 [#{code}] (#{minutes}분)",
}


def test_admin_creates_a_purpose_and_it_is_audited(app, console, otp_ready):
    console.login(Role.ADMIN)
    response = console.post("/otp/purposes/new", data=VALID)
    assert response.status_code == 303 and response.headers["Location"] == "/otp/purposes"
    with app.app_context():
        purpose = db.session.scalar(
            sa.select(VerificationPurpose).where(VerificationPurpose.code == "withdrawal")
        )
        assert purpose.brand == "Bank" and purpose.sender_number == "15881234" and purpose.enabled
    event = _audit(app, "otp.purpose_create")[0]
    assert event.target_id == str(purpose.id)
    assert (
        event.details["after"]["purpose"] == "withdrawal" and event.details["after"]["digits"] == 6
    )
    assert "Withdrawal" in console.client.get("/otp/purposes").get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"code": "Bad Code"}, "code", "Use 2 to 40 lower-case letters, digits or underscores."),
        ({"code": "x"}, "code", "Use 2 to 40 lower-case letters, digits or underscores."),
        ({"code": "login"}, "code", "A purpose with this id already exists."),
        ({"name": ""}, "name", "This field is required."),
        ({"code_length": "3"}, "code_length", "Between 4 and 10 digits."),
        ({"code_length": "11"}, "code_length", "Between 4 and 10 digits."),
        ({"code_length": "six"}, "code_length", "Not a valid integer value."),
        ({"lifetime_seconds": "29"}, "lifetime_seconds", "Between 30 and 600 seconds"),
        ({"lifetime_seconds": "601"}, "lifetime_seconds", "Between 30 and 600 seconds"),
        ({"max_checks": "0"}, "max_checks", "Between 1 and 10 checks."),
        ({"max_checks": "11"}, "max_checks", "Between 1 and 10 checks."),
        (
            {"resend_cooldown_seconds": "-1"},
            "resend_cooldown_seconds",
            "Between 0 and 3600 seconds.",
        ),
        (
            {"resend_cooldown_seconds": "3601"},
            "resend_cooldown_seconds",
            "Between 0 and 3600 seconds.",
        ),
        (
            {"message_template": "인증번호를 입력하세요"},
            "message_template",
            "The text must contain #{code}.",
        ),
        (
            {"message_template": "#{code} #{name}"},
            "message_template",
            "Only #{code}, #{minutes} and #{brand} can be used.",
        ),
        (
            {"channel": "alimtalk"},
            "alimtalk_template_code",
            "AlimTalk needs the code of an approved template.",
        ),
        ({"channel": "fax"}, "channel", "Not a valid choice."),
        ({"sender_number": "12"}, "sender_number", "A sender must be a mobile, landline, 070"),
    ],
)
def test_purpose_rules_reject_bad_input_with_422_and_keep_it(
    app, console, otp_ready, changes, field, message
):
    console.login(Role.ADMIN)
    response = console.post("/otp/purposes/new", data={**VALID, **changes})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(rf'<div class="field has-error">\s*<label for="{field}".*?</div>', html, re.S)
    assert error and message in error.group(0), html[:3000]
    assert 'value="Bank"' in html  # what was typed is kept
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(VerificationPurpose)) == 4
    assert _audit(app, "otp.purpose_create") == []


def test_admin_edits_a_purpose_and_the_diff_is_audited(app, console, otp_ready):
    console.login(Role.ADMIN)
    purpose_id = _set_purpose(app)
    form = console.client.get(f"/otp/purposes/{purpose_id}/edit").get_data(as_text=True)
    assert 'value="180"' in form and 'name="code"' not in form.replace('name="code_length"', "")
    data = {
        **{k: v for k, v in VALID.items() if k != "code"},
        "name": "Login",
        "lifetime_seconds": "300",
        "code_length": "8",
        "brand": "kmsg",
        "sender_number": "",
    }
    response = console.post(f"/otp/purposes/{purpose_id}/edit", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with app.app_context():
        purpose = db.session.get(VerificationPurpose, purpose_id)
        assert (
            purpose.code == "login" and purpose.lifetime_seconds == 300 and purpose.code_length == 8
        )
    diff = _audit(app, "otp.purpose_update")[0].details["diff"]
    assert diff["before"]["lifetime_seconds"] == 180 and diff["after"]["lifetime_seconds"] == 300
    assert diff["before"]["digits"] == 6 and diff["after"]["digits"] == 8
    assert "name" not in diff["after"]


def test_edit_with_a_bad_value_keeps_the_input_and_changes_nothing(app, console, otp_ready):
    console.login(Role.ADMIN)
    purpose_id = _set_purpose(app)
    data = {k: v for k, v in VALID.items() if k != "code"}
    response = console.post(
        f"/otp/purposes/{purpose_id}/edit", data={**data, "lifetime_seconds": "900"}
    )
    assert response.status_code == 422 and 'value="900"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(VerificationPurpose, purpose_id).lifetime_seconds == 180
    assert _audit(app, "otp.purpose_update") == []


def test_operator_reads_purposes_but_cannot_change_them(app, console, operator):
    purpose_id = _set_purpose(app)
    listing = console.client.get("/otp/purposes").get_data(as_text=True)
    assert "password_reset" in listing and "/otp/purposes/new" not in listing
    form = console.client.get(f"/otp/purposes/{purpose_id}/edit")
    assert form.status_code == 200 and "disabled" in form.get_data(as_text=True)
    assert (
        console.post(f"/otp/purposes/{purpose_id}/edit", data={**VALID, "name": "x"}).status_code
        == 403
    )
    assert console.post("/otp/purposes/new", data=VALID).status_code == 403
    assert console.htmx_post("/otp/purposes/preview", data=VALID).status_code == 403
    with app.app_context():
        assert db.session.get(VerificationPurpose, purpose_id).name == "Login"


def test_preview_renders_the_sms_with_a_sample_code_and_counts_bytes(console, otp_ready):
    console.login(Role.ADMIN)
    short = console.htmx_post("/otp/purposes/preview", data=VALID).get_data(as_text=True)
    assert "[Bank] 인증번호 [123456] (3분)" in short and "SMS" in short and "LMS" not in short
    assert f"{len('[Bank] 인증번호 [123456] (3분)'.encode('cp949'))} bytes" in short
    long_text = {
        **VALID,
        "code_length": "8",
        "message_template": "[#{brand}] " + "가" * 40 + " #{code}",
    }
    long = console.htmx_post("/otp/purposes/preview", data=long_text).get_data(as_text=True)
    assert "12345678" in long and "goes out as LMS" in long
    unknown = console.htmx_post(
        "/otp/purposes/preview", data={**VALID, "message_template": "#{nope}"}
    )
    assert "Only #{code}, #{minutes} and #{brand} can be used." in unknown.get_data(as_text=True)
