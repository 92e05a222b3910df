"""CSRF, cookies, headers and session lifetime."""

from __future__ import annotations

import time

from kmsg_console.operators.models import Role
from tests.conftest import PASSWORD


def test_form_post_without_csrf_token_is_refused(console):
    console.login(Role.ADMIN)
    response = console.client.post(
        "/operators/new",
        data={"email": "new@example.com", "role": "viewer", "password": "long enough password"},
    )
    assert response.status_code == 400
    assert b"csrf" in response.data.lower() or b"form expired" in response.data.lower()


def test_htmx_post_without_csrf_header_is_refused(console):
    console.login(Role.ADMIN)
    response = console.client.post(
        "/operators/new", headers={"HX-Request": "true"}, data={"email": "new@example.com"}
    )
    assert response.status_code == 400


def test_htmx_post_with_csrf_header_is_accepted(console, app):
    console.login(Role.ADMIN)
    response = console.htmx_post(
        "/operators/new",
        data={"email": "new@example.com", "role": "viewer", "password": "long enough password"},
    )
    assert response.status_code == 302
    from kmsg_console.operators.services import find_by_email

    with app.app_context():
        assert find_by_email("new@example.com") is not None


def test_login_post_without_csrf_is_refused(console, app):
    console.create_operator("a@example.com", Role.ADMIN)
    response = console.client.post("/login", data={"email": "a@example.com", "password": PASSWORD})
    assert response.status_code == 400


def test_security_headers_on_pages(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "HX-Request" in response.headers["Vary"]
    assert response.headers["Cache-Control"] == "no-store"


def test_a_response_keeps_the_security_headers_it_set_itself(app):
    from flask import Response

    from kmsg_console.web.security import add_security_headers

    response = Response("framed on purpose", mimetype="text/plain")
    response.headers["x-frame-options"] = "SAMEORIGIN"
    with app.test_request_context("/somewhere", base_url="https://console.example"):
        add_security_headers(response)
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Permissions-Policy"].startswith("camera=()")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert len(response.headers.getlist("Content-Security-Policy")) == 1


def test_templates_carry_no_inline_script_or_style():
    from kmsg_console.paths import resource_dir

    offenders = []
    for path in resource_dir("templates").rglob("*.html"):
        text = path.read_text()
        if "<script>" in text or "<style" in text or " style=" in text or " onclick=" in text:
            offenders.append(path.name)
        if "<script" in text and "src=" not in text.split("<script", 1)[1].split(">", 1)[0]:
            offenders.append(path.name)
    assert offenders == []


def test_session_cookie_flags(console, app):
    console.login(Role.VIEWER)
    cookie = console.client.get_cookie("kmsg_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert cookie.secure is False  # plain HTTP in tests; KMSG_SECURE_COOKIES turns it on
    assert console.client.get_cookie("remember_token") is None


def test_secure_cookies_setting(database_url, instance_dir):
    from tests.conftest import make_app

    app = make_app(database_url, instance_dir, SECURE_COOKIES=True)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def _age_session(client, idle: int = 0, since_login: int = 0) -> None:
    with client.session_transaction() as session:
        session["seen_at"] -= idle
        session["login_at"] -= since_login


def test_idle_session_expires(console):
    console.login(Role.VIEWER)
    assert console.client.get("/").status_code == 200
    _age_session(console.client, idle=31 * 60, since_login=31 * 60)
    response = console.client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert console.client.get("/").status_code == 302


def test_active_session_ends_at_absolute_lifetime(console):
    console.login(Role.VIEWER)
    _age_session(console.client, idle=0, since_login=12 * 3600 + 5)
    response = console.client.get("/")
    assert response.status_code == 302


def test_activity_keeps_session_alive(console):
    console.login(Role.VIEWER)
    _age_session(console.client, idle=29 * 60, since_login=29 * 60)
    assert console.client.get("/").status_code == 200
    with console.client.session_transaction() as session:
        assert abs(session["seen_at"] - time.time()) < 5


def test_the_api_ignores_an_operator_session(console):
    # API requests authenticate with keys only: a signed-in operator's cookie neither
    # authenticates them nor is read, refreshed or re-sent by them.
    console.login(Role.ADMIN)
    _age_session(console.client, idle=60, since_login=60)
    with console.client.session_transaction() as session:
        seen_before = session["seen_at"]
    response = console.client.post(
        "/api/v1/verifications", json={"phone": "01012345678", "purpose": "login"}
    )
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert "Set-Cookie" not in response.headers
    with console.client.session_transaction() as session:
        assert session["seen_at"] == seen_before  # only console pages count as activity
    assert console.client.get("/").status_code == 200  # and the console session still works


def _session_cookie(client) -> str:
    return client.get_cookie("kmsg_session").value


def _client_with_cookie(app, value: str):
    client = app.test_client()
    client.set_cookie("kmsg_session", value)
    return client


def test_logout_ends_every_copy_of_the_session_cookie(app, console):
    import sqlalchemy as sa

    from kmsg_console.audit.models import AuditEvent
    from kmsg_console.extensions import db
    from kmsg_console.operators.services import find_by_email

    email = console.login(Role.VIEWER)
    copied = _session_cookie(console.client)
    assert _client_with_cookie(app, copied).get("/send-logs").status_code == 200
    assert console.post("/logout").status_code == 302

    replayed = _client_with_cookie(app, copied)
    page = replayed.get("/send-logs")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    fragment = _client_with_cookie(app, copied).get("/send-logs", headers={"HX-Request": "true"})
    assert fragment.status_code == 401 and fragment.headers["HX-Redirect"] == "/login"
    with app.app_context():
        operator_id = find_by_email(email).id
        logouts = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "auth.logout")
        ).all()
    assert [(e.actor_id, e.target_id, e.outcome) for e in logouts] == [
        (operator_id, str(operator_id), "success")
    ]


def test_logout_leaves_the_operators_other_sessions_signed_in(app, console):
    from tests.conftest import Console

    email = console.login(Role.VIEWER)
    elsewhere = Console(app, app.test_client())
    response = elsewhere.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302
    assert console.post("/logout").status_code == 302
    assert console.client.get("/send-logs").status_code == 302
    assert elsewhere.client.get("/send-logs").status_code == 200


def test_a_session_without_an_id_is_refused(console):
    # A cookie that carries no session id cannot be signed out, so it is not accepted.
    console.login(Role.VIEWER)
    with console.client.session_transaction() as session:
        session.pop("sid", None)
    response = console.client.get("/send-logs")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_sign_out_keeps_revocations_only_for_the_session_lifetime(app):
    from datetime import timedelta

    import sqlalchemy as sa

    from kmsg_console.extensions import db
    from kmsg_console.operators.models import RevokedSession
    from kmsg_console.operators.services import create_operator, sign_out
    from kmsg_console.orm import utcnow

    lifetime = timedelta(hours=app.config["SESSION_MAX_HOURS"])
    with app.test_request_context():
        operator = create_operator("a@example.com", PASSWORD, Role.VIEWER)
        sign_out(operator, "expired", utcnow() - lifetime - timedelta(minutes=1))
        sign_out(operator, "current", utcnow() - lifetime + timedelta(minutes=1))
        sign_out(operator, "current", utcnow())  # signed out twice (a double click)
        db.session.commit()
        kept = db.session.scalars(sa.select(RevokedSession.session_id)).all()
    assert kept == ["current"]


def test_the_audit_log_names_a_sign_out(app, console):
    from tests.conftest import Console

    viewer = Console(app, app.test_client())
    viewer.login(Role.VIEWER)
    assert viewer.post("/logout").status_code == 302
    console.login(Role.ADMIN)
    english = console.client.get("/audit-log?action=auth.logout").get_data(as_text=True)
    assert "Signed out" in english and "auth.logout</code>" in english
    korean = console.client.get(
        "/audit-log?action=auth.logout", headers={"Accept-Language": "ko"}
    ).get_data(as_text=True)
    assert "로그아웃" in korean
