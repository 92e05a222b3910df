"""Failed and unknown messages have a next step: a plain explanation and "send again as new".

A timed-out send ends UNKNOWN without the vendor's message id, so status checks cannot settle
it. The page says so in plain words (the adapter's exception text stays in a technical
section), and an operator may send the message again as a new one after confirming, the
two linked both ways. Never for OTP texts: a new code comes from a new verification.
"""

from __future__ import annotations

import re
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from kmsg_console import sending
from kmsg_console.audit.models import AuditEvent
from kmsg_console.audit.presentation import action_label
from kmsg_console.extensions import db, dispose_engines
from kmsg_console.operators.models import Role
from kmsg_console.providers.adapters.sandbox import sandbox_outbox
from kmsg_console.sending.models import MessageLog, MessageSource
from tests.conftest import csrf_token_for, make_app
from tests.worker.conftest import PHONE, clock, round_, route, send  # noqa: F401 - fixtures

SEND_AGAIN = "Send again as a new message"
MAY_HAVE_ARRIVED = "the first message may have arrived"


def _row(app, public_id: str) -> MessageLog:
    with app.app_context():
        log = db.session.scalar(sa.select(MessageLog).where(MessageLog.public_id == public_id))
        db.session.expunge_all()
        return log


def _sent_again_from(app, original: str) -> list[MessageLog]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                sa.select(MessageLog).where(
                    MessageLog.resent_from_id
                    == sa.select(MessageLog.id)
                    .where(MessageLog.public_id == original)
                    .scalar_subquery()
                )
            )
        )
        db.session.expunge_all()
        return rows


def _section(page: str, start: str, end: str) -> str:
    return page[page.index(start) : page.index(end, page.index(start))]


def _without_details(html: str) -> str:
    return re.sub(r"<details>.*?</details>", "", html, flags=re.S)


def test_a_timed_out_send_is_explained_in_plain_words(app, console, simulator, route, clock):
    app.config["PROVIDER_READ_TIMEOUT"] = 0.5
    route("solapi")
    simulator.control.inject("solapi", "timeout", ms=1500)
    message = send(app, to=PHONE)
    clock.advance(seconds=31)
    round_(app)  # no vendor id to look up: tracking stops at once
    log = _row(app, message)
    assert (log.status, log.error_code, log.tracking_note) == (
        "UNKNOWN",
        "NETWORK_TIMEOUT",
        "MISSING_PROVIDER_MESSAGE_ID",
    )
    assert log.vendor_text is None  # the vendor said nothing; the exception is the attempt's
    console.login(Role.OPERATOR)
    page = console.client.get(f"/send-logs/{message}").get_data(as_text=True)
    card = _section(page, 'id="error"', "</section>")
    attempts = _section(page, '<table class="table attempts">', "</table>")
    for shown in (card, _without_details(attempts)):
        assert "ReadTimeout" not in shown and "HTTPConnectionPool" not in shown
    assert "Vendor text" not in card
    assert "its status cannot be looked up" in card and "status checks" not in card
    assert "ReadTimeout" in attempts  # kept, in the attempt's technical detail
    assert SEND_AGAIN in page and f'href="/send-logs/{message}/send-again"' in page


def test_an_unknown_message_is_sent_again_after_confirming(app, console, sandbox):
    sandbox.script("timeout")
    original = sandbox.send()
    assert sandbox.log(original).status == "UNKNOWN"
    email = console.login(Role.OPERATOR)
    confirm = console.client.get(f"/send-logs/{original}/send-again")
    assert confirm.status_code == 200
    text = confirm.get_data(as_text=True)
    assert MAY_HAVE_ARRIVED in text and 'name="csrf_token"' in text
    assert f'action="/send-logs/{original}/send-again"' in text

    response = console.post(f"/send-logs/{original}/send-again")
    [new] = _sent_again_from(app, original)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/send-logs/{new.public_id}"
    old = _row(app, original)
    assert (new.status, new.type, new.to_hash, new.source) == (
        "SENT",
        "SMS",
        old.to_hash,
        "console",
    )
    assert new.public_id != original and len(sandbox_outbox("sandbox")) == 2
    with app.app_context():
        assert sending.decrypt_body(new) == sending.decrypt_body(old)
        audit = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "message.send_again")
        )
        assert (audit.actor_label, audit.target_id) == (email, original)
        assert audit.details["sent_again_as"] == new.public_id
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert action_label("message.send_again") == "Message sent again as a new message"

    new_page = console.client.get(f"/send-logs/{new.public_id}").get_data(as_text=True)
    assert "Sent again from" in new_page and f'href="/send-logs/{original}"' in new_page
    old_page = console.client.get(f"/send-logs/{original}").get_data(as_text=True)
    assert "Sent again as" in old_page and f'href="/send-logs/{new.public_id}"' in old_page
    assert f"/send-logs/{original}/send-again" not in old_page

    again = console.post(f"/send-logs/{original}/send-again")
    assert again.status_code == 303 and again.headers["Location"] == f"/send-logs/{original}"
    assert "already sent again" in console.client.get(f"/send-logs/{original}").get_data(
        as_text=True
    )
    assert len(_sent_again_from(app, original)) == 1 and len(sandbox_outbox("sandbox")) == 2


def test_a_failed_message_sent_again_is_no_longer_retried(app, console, sandbox):
    sandbox.script("fail:PROVIDER_ERROR")
    original = sandbox.send()
    assert sandbox.log(original).retryable
    console.login(Role.OPERATOR)
    confirm = console.client.get(f"/send-logs/{original}/send-again").get_data(as_text=True)
    assert MAY_HAVE_ARRIVED not in confirm and "was not sent" in confirm
    console.post(f"/send-logs/{original}/send-again")
    assert len(_sent_again_from(app, original)) == 1
    assert not _row(app, original).retryable
    console.post(f"/send-logs/{original}/retry")  # would reach the recipient a second time
    assert _row(app, original).attempt_count == 1 and len(sandbox_outbox("sandbox")) == 1


def test_otp_messages_are_not_sent_again(app, console, sandbox):
    sandbox.script("fail:PROVIDER_ERROR")
    original = sandbox.send(
        text="[샵] 인증번호 482913", sensitive_values=["482913"], source=MessageSource.OTP
    )
    console.login(Role.OPERATOR)
    page = console.client.get(f"/send-logs/{original}").get_data(as_text=True)
    assert "a new code must come from a new verification" in page
    assert f"/send-logs/{original}/send-again" not in page
    assert console.client.get(f"/send-logs/{original}/send-again").status_code == 303
    response = console.post(f"/send-logs/{original}/send-again")
    assert response.status_code == 303 and _sent_again_from(app, original) == []
    assert sandbox_outbox("sandbox") == []


def test_only_failed_or_unknown_messages_are_sent_again(app, console, sandbox):
    original = sandbox.send()
    console.login(Role.OPERATOR)
    assert SEND_AGAIN not in console.client.get(f"/send-logs/{original}").get_data(as_text=True)
    response = console.post(f"/send-logs/{original}/send-again")
    assert response.status_code == 303 and "Only failed messages" in console.client.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    assert _sent_again_from(app, original) == [] and len(sandbox_outbox("sandbox")) == 1


def test_viewers_cannot_and_csrf_is_required(app, console, sandbox):
    sandbox.script("fail:PROVIDER_ERROR")
    original = sandbox.send()
    console.login(Role.VIEWER)
    page = console.client.get(f"/send-logs/{original}").get_data(as_text=True)
    assert f"/send-logs/{original}/send-again" not in page
    assert console.client.get(f"/send-logs/{original}/send-again").status_code == 403
    assert console.post(f"/send-logs/{original}/send-again").status_code == 403
    operator = app.test_client()
    console.client = operator
    console.login(Role.OPERATOR)
    assert operator.post(f"/send-logs/{original}/send-again", data={}).status_code == 400
    assert _sent_again_from(app, original) == []


def test_the_database_refuses_a_second_message_sent_again_from_one(app, sandbox):
    sandbox.script("timeout")
    original = sandbox.send()
    with app.test_request_context():
        log = sending.find_by_public_id(original)
        first = sending.send(
            sending.SendRequest(to=PHONE, text="a"),
            source=MessageSource.CONSOLE,
            resent_from_id=log.id,
        )
        assert first.log.resent_from_id == log.id
        with pytest.raises(IntegrityError):
            sending.send(
                sending.SendRequest(to=PHONE, text="a"),
                source=MessageSource.CONSOLE,
                resent_from_id=log.id,
            )
    assert len(sandbox_outbox("sandbox")) == 2  # the timed-out one and the first resend


def test_two_operators_clicking_at_once_send_it_again_once(app, console, sandbox, instance_dir):
    sandbox.script("timeout")
    original = sandbox.send()
    console.login(Role.OPERATOR)
    token = csrf_token_for(app, console.client)
    cookie = console.client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    apps = [make_app(app.config["DATABASE_URL"], instance_dir) for _ in range(2)]
    for other in apps:
        other.secret_key = app.secret_key
    answers: list[int] = []
    gate = threading.Barrier(len(apps))

    def click(other) -> None:
        client = other.test_client()
        client.set_cookie(cookie.key, cookie.value)
        gate.wait()
        answers.append(
            client.post(f"/send-logs/{original}/send-again", data={"csrf_token": token}).status_code
        )
        with other.app_context():
            dispose_engines()

    threads = [threading.Thread(target=click, args=(other,)) for other in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [303, 303]
    assert len(_sent_again_from(app, original)) == 1 and len(sandbox_outbox("sandbox")) == 2
