"""One test per OTP engine rule, through the API and the real send engine (sandbox)."""

from __future__ import annotations

import logging
import re
import threading
from datetime import timedelta

import psycopg
import pytest
import sqlalchemy as sa

from kmsg_console import sending
from kmsg_console.api_keys.services import issue_key
from kmsg_console.extensions import db, dispose_engines
from kmsg_console.orm import utcnow
from kmsg_console.otp import services as otp
from kmsg_console.otp.models import Verification, VerificationPurpose
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.adapters.sandbox import SandboxAdapter, script_sandbox
from kmsg_console.providers.models import RoutingRule
from kmsg_console.sending.models import MessageAttempt, MessageLog
from kmsg_console.throttle.models import ThrottlePolicy
from kmsg_console.throttle.services import ensure_default_policies, policy_counters
from tests.api.openapi_check import OpenApiChecker

PHONE = "010-2222-3333"


@pytest.fixture
def otp_api(app, client):
    with app.test_request_context():
        provider_services.ensure_sandbox_provider()
        otp.ensure_default_purposes()
        ensure_default_policies()
        key = issue_key("app", ["otp"], actor_label="test").plaintext
        other = issue_key("other-app", ["otp"], actor_label="test").plaintext
        for purpose in db.session.scalars(sa.select(VerificationPurpose)):
            purpose.resend_cooldown_seconds = 0
        db.session.commit()
    checker = OpenApiChecker(client.get("/api/v1/openapi.json").get_json())

    class Api:
        def start(self, phone=PHONE, purpose="login", key_=None, **extra):
            response = client.post(
                "/api/v1/verifications",
                json={"phone": phone, "purpose": purpose, **extra},
                headers={"Authorization": f"Bearer {key_ or key}"},
            )
            checker.check("/verifications", "post", response)
            return response

        def check(self, verification_id, code, key_=None, **extra):
            response = client.post(
                f"/api/v1/verifications/{verification_id}/check",
                json={"code": code, **extra},
                headers={"Authorization": f"Bearer {key_ or key}"},
            )
            checker.check("/verifications/{id}/check", "post", response)
            return response

        def delivered_code(self, phone=PHONE):
            with app.test_request_context():
                text = sending.sandbox_inbox(phone, limit=1)[0]["text"]
            return re.search(r"\[(\d{4,10})\]", text).group(1)

    api = Api()
    api.key, api.other = key, other
    return api


def _wrong(code: str) -> str:
    return str((int(code) + 1) % 10 ** len(code)).zfill(len(code))


def test_start_sends_a_six_digit_code_and_check_approves(otp_api):
    started = otp_api.start()
    assert started.status_code == 201
    body = started.get_json()
    assert body["status"] == "pending" and body["channel"] == "sms" and body["purpose"] == "login"
    code = otp_api.delivered_code()
    assert len(code) == 6
    checked = otp_api.check(body["id"], code)
    assert checked.status_code == 200 and checked.get_json()["status"] == "approved"


def test_code_is_stored_only_as_a_hash_and_never_logged(app, otp_api, caplog):
    caplog.set_level(logging.DEBUG)
    verification_id = otp_api.start().get_json()["id"]
    code = otp_api.delivered_code()
    otp_api.check(verification_id, _wrong(code))
    otp_api.check(verification_id, code)
    with app.app_context():
        tables = [t for t in sa.inspect(db.engine).get_table_names() if t != "sandbox_delivery"]
        for table in tables:
            dump = str(db.session.execute(sa.text(f'SELECT * FROM "{table}"')).all())
            assert code not in dump, table
    assert code not in caplog.text


def test_sandbox_inbox_keeps_the_delivered_text_encrypted(app, otp_api):
    otp_api.start()
    code = otp_api.delivered_code()
    with app.app_context():
        assert code not in str(db.session.execute(sa.text("SELECT * FROM sandbox_delivery")).all())


def test_stored_message_body_has_the_code_masked(app, otp_api):
    otp_api.start()
    code = otp_api.delivered_code()
    with app.test_request_context():
        log = db.session.scalar(sa.select(MessageLog))
        body = sending.decrypt_body(log)
        assert (
            code not in body
            and sending.REDACTION in body
            and log.body_redacted
            and not log.retryable
        )


def test_code_expires_with_a_controllable_clock(otp_api, monkeypatch):
    verification_id = otp_api.start().get_json()["id"]
    code = otp_api.delivered_code()
    monkeypatch.setattr(otp, "clock", lambda: utcnow() + timedelta(seconds=181))
    response = otp_api.check(verification_id, code)
    assert response.status_code == 200 and response.get_json()["status"] == "expired"
    monkeypatch.setattr(otp, "clock", utcnow)
    assert otp_api.check(verification_id, code).get_json()["status"] == "expired"


def test_code_is_valid_just_before_expiry(otp_api, monkeypatch):
    verification_id = otp_api.start().get_json()["id"]
    code = otp_api.delivered_code()
    monkeypatch.setattr(otp, "clock", lambda: utcnow() + timedelta(seconds=175))
    assert otp_api.check(verification_id, code).get_json()["status"] == "approved"


def test_replay_of_a_used_code_never_approves_again(otp_api):
    verification_id = otp_api.start().get_json()["id"]
    code = otp_api.delivered_code()
    assert otp_api.check(verification_id, code).get_json()["status"] == "approved"
    replay = otp_api.check(verification_id, code)
    assert replay.status_code == 409 and replay.get_json()["error"]["code"] == "already_approved"


def test_code_of_one_purpose_never_approves_another(otp_api):
    login_id = otp_api.start(purpose="login").get_json()["id"]
    login_code = otp_api.delivered_code()
    payment_id = otp_api.start(purpose="payment").get_json()["id"]
    payment_code = otp_api.delivered_code()
    if payment_code != login_code:
        assert otp_api.check(payment_id, login_code).get_json()["status"] == "pending"
    assert otp_api.check(login_id, login_code).get_json()["status"] == "approved"


def test_code_of_one_phone_never_approves_another(otp_api):
    first = otp_api.start(phone="01011110000").get_json()["id"]
    first_code = otp_api.delivered_code("01011110000")
    second = otp_api.start(phone="01022220000").get_json()["id"]
    second_code = otp_api.delivered_code("01022220000")
    if first_code != second_code:
        assert otp_api.check(second, first_code).get_json()["status"] == "pending"
    assert otp_api.check(first, first_code).get_json()["status"] == "approved"


def test_attempt_cap_kills_the_verification(otp_api):
    verification_id = otp_api.start().get_json()["id"]
    code = otp_api.delivered_code()
    lefts = [otp_api.check(verification_id, _wrong(code)).get_json() for _ in range(5)]
    assert [item.get("attempts_left") for item in lefts[:4]] == [4, 3, 2, 1]
    assert lefts[4]["status"] == "max_attempts"
    assert otp_api.check(verification_id, code).get_json()["status"] == "max_attempts"


def _failed_checks_counted(app) -> int:
    with app.app_context():
        policies = db.session.scalars(sa.select(ThrottlePolicy)).all()
        return sum(
            view.used
            for policy in policies
            if "otp_check_failure" in policy.actions
            for view in policy_counters(policy)
        )


@pytest.mark.parametrize("malformed", ["12ab", "12345", "1234567", " ", "１２３４５６"])
def test_a_malformed_code_is_refused_without_spending_an_attempt(app, otp_api, malformed):
    verification_id = otp_api.start().get_json()["id"]
    code = otp_api.delivered_code()
    response = otp_api.check(verification_id, malformed)
    assert response.status_code == 422
    assert response.get_json()["error"] == {
        "code": "invalid_code",
        "message": "The code is 6 digits (0-9); it was not checked and no attempt was used.",
        "details": {"code_length": 6},
    }
    with app.app_context():
        assert db.session.scalar(sa.select(Verification.checks)) == 0
    assert _failed_checks_counted(app) == 0
    assert otp_api.check(verification_id, _wrong(code)).get_json()["attempts_left"] == 4
    assert otp_api.check(verification_id, code).get_json()["status"] == "approved"


def test_a_code_of_the_length_issued_is_checked_after_the_purpose_changed_it(app, otp_api):
    verification_id = otp_api.start().get_json()["id"]
    code = otp_api.delivered_code()
    with app.app_context():
        purpose = db.session.scalar(
            sa.select(VerificationPurpose).where(VerificationPurpose.code == "login")
        )
        purpose.code_length = 8
        db.session.commit()
    assert otp_api.check(verification_id, code).get_json()["status"] == "approved"


def test_concurrent_correct_checks_approve_exactly_once(app, otp_api, database_url, instance_dir):
    from tests.conftest import make_app

    verification_id = otp_api.start().get_json()["id"]
    code = otp_api.delivered_code()
    key = otp_api.key
    outcomes = []
    # Apps are built before the threads start: building them concurrently trips a CPython
    # 3.11 ast thread-safety bug in werkzeug's routing.
    workers = [make_app(database_url, instance_dir) for _ in range(6)]
    barrier = threading.Barrier(len(workers), timeout=60)

    def check(worker):
        client = worker.test_client()
        barrier.wait()
        response = client.post(
            f"/api/v1/verifications/{verification_id}/check",
            json={"code": code},
            headers={"Authorization": f"Bearer {key}"},
        )
        outcomes.append(response.get_json().get("status") or response.get_json()["error"]["code"])
        with worker.app_context():
            dispose_engines()

    threads = [threading.Thread(target=check, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("approved") == 1
    assert set(outcomes) <= {"approved", "already_approved"}


def test_resend_replaces_the_code(otp_api):
    first = otp_api.start().get_json()["id"]
    first_code = otp_api.delivered_code()
    second = otp_api.start().get_json()["id"]
    second_code = otp_api.delivered_code()
    assert first != second
    assert otp_api.check(first, first_code).get_json()["status"] == "canceled"
    assert otp_api.check(second, second_code).get_json()["status"] == "approved"


def test_resend_cooldown_refuses_with_retry_after_and_sends_nothing(app, otp_api):
    with app.app_context():
        db.session.scalar(
            sa.select(VerificationPurpose).where(VerificationPurpose.code == "login")
        ).resend_cooldown_seconds = 30
        db.session.commit()
    otp_api.start()
    again = otp_api.start()
    assert again.status_code == 429 and int(again.headers["Retry-After"]) > 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MessageLog)) == 1


def _set_cooldown(app, seconds):
    with app.app_context():
        db.session.scalar(
            sa.select(VerificationPurpose).where(VerificationPurpose.code == "login")
        ).resend_cooldown_seconds = seconds
        db.session.commit()


def test_cooldown_counts_a_start_whose_send_failed(app, otp_api):
    _set_cooldown(app, 30)
    script_sandbox("sandbox", ["fail:PROVIDER_ERROR"])
    assert otp_api.start().status_code == 502  # the verification is canceled, the start counted
    again = otp_api.start()
    assert again.status_code == 429 and again.get_json()["error"]["code"] == "resend_cooldown"
    assert 1 <= int(again.headers["Retry-After"]) <= 30


def test_after_the_cooldown_a_new_start_cancels_the_pending_code(app, otp_api, monkeypatch):
    _set_cooldown(app, 30)
    first = otp_api.start().get_json()["id"]
    first_code = otp_api.delivered_code()
    # Past the cooldown, within the first code's lifetime: the first is still pending.
    monkeypatch.setattr(otp, "clock", lambda: utcnow() + timedelta(seconds=31))
    second = otp_api.start()
    assert second.status_code == 201
    assert second.get_json()["purpose"] == "login"
    assert otp_api.check(first, first_code).get_json()["status"] == "canceled"
    with app.app_context():
        statuses = dict(
            db.session.execute(sa.select(Verification.public_id, Verification.status)).all()
        )
    assert statuses == {first: "canceled", second.get_json()["id"]: "pending"}


def test_a_code_approved_while_a_new_start_runs_stays_approved(app, otp_api, monkeypatch):
    first = otp_api.start().get_json()["id"]
    first_code = otp_api.delivered_code()
    read = otp._earlier_starts

    def approved_meanwhile(*args, **kwargs):
        found = read(*args, **kwargs)  # the new start sees the first code pending ...
        assert [start.pending for start in found] == [True]
        # ... and the user enters it before the new start writes anything.
        assert otp_api.check(first, first_code).get_json()["status"] == "approved"
        return found

    monkeypatch.setattr(otp, "_earlier_starts", approved_meanwhile)
    second = otp_api.start()
    assert second.status_code == 201
    with app.app_context():
        statuses = dict(
            db.session.execute(sa.select(Verification.public_id, Verification.status)).all()
        )
    # Replacing cancels only codes still pending: the approval is not undone.
    assert statuses == {first: "approved", second.get_json()["id"]: "pending"}


def test_a_start_reads_its_purpose_once(app, otp_api):
    otp_api.start(phone="01077770000")  # warm: API key last-used stamp, router
    selects = []

    def count(conn, cursor, statement, params, context, executemany):
        if "FROM verification_purpose" in statement:
            selects.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert otp_api.start().status_code == 201
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    # The answer names the purpose after the send's commits without reading it again.
    assert len(selects) == 1


def test_answers_do_not_reveal_whether_a_number_was_seen(otp_api):
    fresh = otp_api.start(phone="01055550000").get_json()
    otp_api.start(phone="01066660000")
    seen = otp_api.start(phone="01066660000").get_json()
    assert set(fresh) == set(seen) and fresh["status"] == seen["status"] == "pending"


def test_bad_input(otp_api):
    assert otp_api.start(phone="12").status_code == 422
    short = otp_api.start(phone="010-12").get_json()["error"]
    assert short == {
        "code": "invalid_phone",
        "message": "010-12 is not a valid Korean phone number.",
    }
    assert otp_api.start(purpose="nope").get_json()["error"]["code"] == "unknown_purpose"
    verification_id = otp_api.start().get_json()["id"]
    assert otp_api.check("missing", "123456").status_code == 404
    assert otp_api.check(verification_id, "123456", key_=otp_api.other).status_code == 404


def test_failed_send_cancels_the_verification(app, otp_api):
    script_sandbox("sandbox", ["fail:PROVIDER_ERROR"])
    response = otp_api.start()
    assert response.status_code == 502 and response.get_json()["error"]["code"] == "send_failed"
    with app.app_context():
        assert db.session.scalar(sa.select(Verification.status)) == "canceled"


def test_a_live_provider_never_fails_an_otp_over_to_the_sandbox_on_an_old_route(app, otp_api):
    """There the code would reach no handset while the start answered 201 pending."""
    with app.test_request_context():
        provider_services.save_provider(
            None,
            vendor="solapi",
            code="down",
            name="down",
            enabled=True,
            actor=None,
            values={
                "api_key": "k",
                "api_secret": "s",
                "default_from": "0212345678",
                "base_url": "http://127.0.0.1:9",  # connection refused: nothing was sent
            },
        )
        # Written directly, as a route saved before such routes were refused would be.
        db.session.add(
            RoutingRule(message_type="SMS", provider_codes=["down", "sandbox"], updated_at=utcnow())
        )
        db.session.commit()
    response = otp_api.start()
    assert response.status_code == 502 and response.get_json()["error"]["code"] == "send_failed"
    with app.test_request_context():
        assert list(db.session.scalars(sa.select(MessageAttempt.provider_code))) == ["down"]
        assert sending.sandbox_inbox(PHONE) == []
        assert db.session.scalar(sa.select(Verification.status)) == "canceled"


def test_a_send_refused_before_anything_was_written_still_records_both_cancellations(app, otp_api):
    _set_cooldown(app, 0)
    first = otp_api.start().get_json()["id"]
    with app.app_context():
        purpose = db.session.scalar(
            sa.select(VerificationPurpose).where(VerificationPurpose.code == "login")
        )
        purpose.channel, purpose.alimtalk_template_code = "alimtalk", "NO_SUCH_TEMPLATE"
        db.session.commit()
    response = otp_api.start()  # refused by the send path (unknown template) before any commit
    assert response.status_code == 502 and response.get_json()["error"]["code"] == "send_failed"
    refused = response.get_json()["error"]["details"]["verification_id"]
    with app.app_context():
        rows = {v.public_id: v for v in db.session.scalars(sa.select(Verification))}
        assert {key: v.status for key, v in rows.items()} == {
            first: "canceled",
            refused: "canceled",
        }
        assert [(e.kind, e.detail) for e in rows[refused].events] == [
            ("pending", "code sent by alimtalk"),
            ("canceled", "send refused: unknown_template"),
        ]
        assert [(e.kind, e.detail) for e in rows[first].events][1:] == [
            ("canceled", "replaced by a new verification")
        ]  # once: the rows computed first were dropped
        assert rows[refused].message_public_id is None
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(MessageLog)) == 1
        )  # the first start's


def test_purpose_settings_are_validated():
    assert otp.validate_purpose_settings(6, 180, 5, 30, "[x] #{code}") == []
    problems = dict(otp.validate_purpose_settings(3, 601, 0, -1, "no code"))
    assert set(problems) == {
        "code_length",
        "lifetime_seconds",
        "max_checks",
        "resend_cooldown_seconds",
        "message_template",
    }


def test_codes_are_uniform_and_the_right_length():
    codes = [otp.generate_code(6) for _ in range(2000)]
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(set(codes)) > 1900
    assert len(otp.generate_code(10)) == 10 and len(otp.generate_code(4)) == 4


def test_no_transaction_is_open_while_the_throttle_decides_or_the_vendor_answers(
    otp_api, monkeypatch
):
    """The database sees no open transaction of the request's session meanwhile."""
    seen: list[tuple[str, bool]] = []
    decide, vendor_send = otp.check_and_consume, SandboxAdapter.send

    def transaction_open() -> bool:
        session = db.session()
        if not session.in_transaction():
            return False
        driver = session.connection().connection.driver_connection
        if db.engine.dialect.name == "sqlite":
            return driver.in_transaction  # sqlite3 begins only before a write
        return driver.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def watched_decide(*args, **kwargs):
        seen.append(("throttle", transaction_open()))
        return decide(*args, **kwargs)

    def watched_send(self, message):
        seen.append(("vendor", transaction_open()))
        return vendor_send(self, message)

    monkeypatch.setattr(otp, "check_and_consume", watched_decide)
    monkeypatch.setattr(SandboxAdapter, "send", watched_send)
    started = otp_api.start()
    assert started.status_code == 201
    wrong = otp_api.check(started.get_json()["id"], _wrong(otp_api.delivered_code()))
    assert wrong.status_code == 200 and wrong.get_json()["status"] == "pending"
    # start: its throttle decision, the vendor call; wrong check: the gate, then the count.
    assert seen == [
        ("throttle", False),
        ("vendor", False),
        ("throttle", False),
        ("throttle", False),
    ]
