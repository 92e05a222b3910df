"""The console: tracking state on a message, "check status now", fallback links, worker health."""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template

from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role
from kmsg_console.worker import jobs
from tests.worker.conftest import NON_KAKAO, alimtalk, load, round_, send


def test_operator_sees_tracking_and_checks_status_now(app, console, simulator, route):
    route("sandbox")
    message = send(app)
    console.login(Role.OPERATOR)
    page = console.client.get(f"/send-logs/{message}").get_data(as_text=True)
    assert "Delivery tracking" in page and "Waiting for the provider" in page
    assert "Check status now" in page and "Status checks" in page
    response = console.post(f"/send-logs/{message}/check-status")
    assert response.status_code == 303 and response.headers["Location"].endswith(
        f"/send-logs/{message}"
    )
    log = load(app, message)
    assert (log.status, log.check_count) == ("DELIVERED", 1)
    with app.app_context():
        audit = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "message.check_status")
        ).one()
        assert audit.target_id == message and audit.details["after"]["status"] == "DELIVERED"
    page = console.client.get(f"/send-logs/{message}").get_data(as_text=True)
    assert "Final status reached" in page and "Check status now" not in page
    again = console.post(f"/send-logs/{message}/check-status")
    assert again.status_code == 303 and load(app, message).check_count == 1


def test_viewer_sees_tracking_but_cannot_check(app, console, simulator, route):
    route("sandbox")
    message = send(app)
    console.login(Role.VIEWER)
    page = console.client.get(f"/send-logs/{message}").get_data(as_text=True)
    assert "Delivery tracking" in page and "Check status now" not in page
    assert console.post(f"/send-logs/{message}/check-status").status_code == 403
    assert console.post("/send-logs/no-such-message/check-status").status_code == 403


def test_fallback_and_original_link_to_each_other(app, console, simulator, route, clock):
    route("solapi")
    message = alimtalk(app, to=NON_KAKAO)
    simulator.control.set_status("solapi", load(app, message).provider_message_id, "non_kakao_user")
    clock.advance(seconds=31)
    round_(app)
    parent = load(app, message)
    with app.app_context():
        from kmsg_console.sending.models import MessageLog

        child = db.session.scalar(
            sa.select(MessageLog.public_id).where(MessageLog.fallback_of_id == parent.id)
        )
    console.login(Role.VIEWER)
    original_page = console.client.get(f"/send-logs/{message}").get_data(as_text=True)
    assert "SMS/LMS fallback" in original_page and f"/send-logs/{child}" in original_page
    child_page = console.client.get(f"/send-logs/{child}").get_data(as_text=True)
    assert "Fallback of" in child_page and f"/send-logs/{message}" in child_page


def test_health_fragment_shows_last_run_and_backlog(app, simulator, route):
    route("sandbox")
    send(app)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        idle = render_template("worker/_health.html")
        jobs.run_once(app, names=("delivery_tracking",))
        busy = render_template("worker/_health.html")
    assert "Not running" in idle and "Status checks due" in idle
    assert "Running" in busy and "Delivery status polling and fallback" in busy


def test_providers_page_links_to_delivery_settings(app, console, simulator, route):
    route("solapi")
    console.login(Role.ADMIN)
    page = console.client.get("/providers").get_data(as_text=True)
    assert "/delivery" in page and "Delivery tracking" in page
