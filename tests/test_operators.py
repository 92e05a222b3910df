"""Sign-in, throttling, operator administration, own password, preferences, audit."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import sqlalchemy as sa

from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.operators import passwords, throttle
from kmsg_console.operators.models import LoginFailure, Operator, Role
from kmsg_console.operators.services import find_by_email
from tests.conftest import PASSWORD, csrf_token_for


def _english_client(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _login(console, email, password):
    return console.post("/login", data={"email": email, "password": password})


def _audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_production_password_hashing_is_memory_hard():
    from argon2 import PasswordHasher
    from argon2.low_level import Type

    hasher = PasswordHasher()  # the parameters passwords.py uses outside tests
    assert hasher.type is Type.ID
    assert hasher.memory_cost >= 19 * 1024 and hasher.time_cost >= 2


def test_password_hash_is_not_the_password(app, console):
    console.create_operator("a@example.com", Role.ADMIN)
    with app.app_context():
        stored = find_by_email("a@example.com").password_hash
    assert PASSWORD not in stored and stored.startswith("$argon2id$")


def test_login_and_logout(app, console):
    console.create_operator("a@example.com", Role.OPERATOR)
    response = _login(console, "A@Example.com ", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert console.client.get("/").status_code == 200
    response = console.post("/logout")
    assert response.status_code == 302
    assert console.client.get("/").status_code == 302
    assert "auth.login" in _audit_actions(app)


def test_login_follows_only_local_next(console):
    console.create_operator("a@example.com", Role.OPERATOR)
    response = console.post(
        "/login?next=//evil.example/x", data={"email": "a@example.com", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"


def test_unknown_email_and_wrong_password_answer_identically(app, console):
    console.create_operator("known@example.com", Role.ADMIN)
    wrong = _login(console, "known@example.com", "not the password")
    unknown = _login(console, "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 200

    def body(response):  # the only differences allowed: the CSRF token and the typed e-mail
        text = response.get_data(as_text=True)
        import re

        text = re.sub(r'value="[^"]*"', 'value=""', text)
        return re.sub(r'"X-CSRFToken": "[^"]*"', "", text)

    assert body(wrong) == body(unknown)
    assert "not correct" in wrong.get_data(as_text=True)
    actions = _audit_actions(app)
    assert actions.count("auth.login_failed") == 2


def test_disabled_operator_cannot_sign_in(app, console):
    operator_id = console.create_operator("a@example.com", Role.OPERATOR)
    with app.app_context():
        db.session.get(Operator, operator_id).is_active = False
        db.session.commit()
    assert _login(console, "a@example.com", PASSWORD).status_code == 200


def test_repeated_failures_are_throttled_even_with_the_right_password(app, console):
    console.create_operator("a@example.com", Role.OPERATOR)
    for _ in range(5):
        assert _login(console, "a@example.com", "wrong password!").status_code == 200
    blocked = _login(console, "a@example.com", PASSWORD)
    assert blocked.status_code == 429
    assert blocked.headers["Retry-After"]
    assert console.client.get("/").status_code == 302  # still signed out
    # An unknown address is throttled exactly the same way.
    for _ in range(5):
        _login(console, "ghost@example.com", "wrong password!")
    assert _login(console, "ghost@example.com", "wrong password!").status_code == 429


def test_throttle_delay_grows_and_expires(app):
    with app.test_request_context():
        keys = throttle.throttle_keys("a@example.com", "10.0.0.1")
        start = throttle.utcnow()

        def at(seconds: float) -> timedelta | None:
            return throttle.claim_attempt(keys, now=start + timedelta(seconds=seconds))

        assert [at(i) for i in range(5)] == [None] * 5
        first = at(5)  # refused, and not counted
        assert first == timedelta(seconds=29)
        assert at(34) is None  # the first delay is over: one more attempt, a longer delay
        second = at(35)
        assert second == timedelta(seconds=59)
        assert at(34 + 60 + 3600 + 1) is None  # an hour after the last failure: forgotten
        with db.engines["throttle"].connect() as conn:
            failures = conn.scalar(
                sa.select(LoginFailure.failures).where(LoginFailure.key == keys[0][0])
            )
        assert failures == 1


def test_success_clears_the_account_counter(app, console):
    console.create_operator("a@example.com", Role.OPERATOR)
    for _ in range(3):
        _login(console, "a@example.com", "wrong password!")
    assert _login(console, "a@example.com", PASSWORD).status_code == 302
    with app.app_context():
        key = throttle.throttle_keys("a@example.com", None)[0][0]
        assert db.session.get(LoginFailure, key) is None


def test_per_ip_throttle_spans_accounts(app, console):
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 3
    for i in range(3):
        _login(console, f"user{i}@example.com", "wrong password!")
    console.create_operator("fresh@example.com", Role.OPERATOR)
    assert _login(console, "fresh@example.com", PASSWORD).status_code == 429


def test_admin_creates_operator_with_validation(app, console):
    console.login(Role.ADMIN)
    short = console.post(
        "/operators/new", data={"email": "n@example.com", "role": "viewer", "password": "short"}
    )
    assert short.status_code == 422 and "12" in short.get_data(as_text=True)
    bad_email = console.post(
        "/operators/new",
        data={"email": "not-an-email", "role": "viewer", "password": "long enough password"},
    )
    assert bad_email.status_code == 422
    ok = console.post(
        "/operators/new",
        data={"email": "n@example.com", "role": "operator", "password": "long enough password"},
    )
    assert ok.status_code == 302
    dup = console.post(
        "/operators/new",
        data={"email": "N@example.com", "role": "viewer", "password": "long enough password"},
    )
    assert dup.status_code == 422 and "already exists" in dup.get_data(as_text=True)
    with app.app_context():
        assert find_by_email("n@example.com").role == Role.OPERATOR
        event = db.session.scalar(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "operator.create")
            .order_by(AuditEvent.id.desc())
        )
        assert event.details["after"]["email"] == "n@example.com"
        assert "long enough password" not in str(event.details)


def test_role_change_ends_the_operators_sessions(app, console):
    from tests.conftest import Console

    console.login(Role.ADMIN)
    other = Console(app, _english_client(app))
    other_email = other.login(Role.OPERATOR)
    assert other.client.get("/").status_code == 200
    with app.app_context():
        other_id = find_by_email(other_email).id
    response = console.post(f"/operators/{other_id}/role", data={"role": "viewer"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Operator, other_id).role == Role.VIEWER
    assert other.client.get("/").status_code == 302  # signed out
    assert "operator.change_role" in _audit_actions(app)


def test_disable_ends_sessions_and_is_audited(app, console):
    from tests.conftest import Console

    console.login(Role.ADMIN)
    other = Console(app, _english_client(app))
    other_email = other.login(Role.OPERATOR)
    with app.app_context():
        other_id = find_by_email(other_email).id
    console.post(f"/operators/{other_id}/active")
    assert other.client.get("/").status_code == 302
    console.post(f"/operators/{other_id}/active")
    with app.app_context():
        assert db.session.get(Operator, other_id).is_active is True
    actions = _audit_actions(app)
    assert "operator.disable" in actions and "operator.enable" in actions


def test_last_admin_cannot_be_demoted_or_disable_self(app, console):
    email = console.login(Role.ADMIN)
    with app.app_context():
        admin_id = find_by_email(email).id
    console.post(f"/operators/{admin_id}/role", data={"role": "viewer"})
    console.post(f"/operators/{admin_id}/active")
    with app.app_context():
        admin = db.session.get(Operator, admin_id)
        assert admin.role == Role.ADMIN and admin.is_active


def test_change_own_password(app, console):
    email = console.login(Role.VIEWER)
    wrong = console.post(
        "/account/password",
        data={
            "pw-current_password": "nope",
            "pw-new_password": "a brand new secret",
            "pw-confirm": "a brand new secret",
        },
    )
    assert wrong.status_code == 422 and "not correct" in wrong.get_data(as_text=True)
    ok = console.post(
        "/account/password",
        data={
            "pw-current_password": PASSWORD,
            "pw-new_password": "a brand new secret",
            "pw-confirm": "a brand new secret",
        },
    )
    assert ok.status_code == 302
    assert console.client.get("/account").status_code == 200  # this session continues
    with app.app_context():
        assert passwords.verify_password(find_by_email(email).password_hash, "a brand new secret")
    actions = _audit_actions(app)
    assert actions.count("operator.change_password") == 2


def test_preferences_choose_language_and_zone(app, console):
    console.login(Role.VIEWER)
    page = console.client.get("/", headers={"Accept-Language": "en"})
    assert "Dashboard" in page.get_data(as_text=True)
    response = console.post(
        "/account/preferences", data={"prefs-locale": "ko", "prefs-timezone": "UTC"}
    )
    assert response.status_code == 302
    page = console.client.get("/", headers={"Accept-Language": "en"})
    assert "대시보드" in page.get_data(as_text=True)


def test_browser_language_is_used_without_a_setting(client):
    assert "로그인" in client.get("/login", headers={"Accept-Language": "ko-KR,ko;q=0.9"}).get_data(
        as_text=True
    )
    assert "Sign in" in client.get("/login", headers={"Accept-Language": "en-US"}).get_data(
        as_text=True
    )


def test_audit_log_filters(app, console):
    console.login(Role.ADMIN)
    _login_other = console.post(
        "/operators/new",
        data={"email": "x@example.com", "role": "viewer", "password": "long enough password"},
    )
    page = console.client.get("/audit-log?action=operator.create").get_data(as_text=True)
    assert "operator.create" in page and "auth.login</code>" not in page
    page = console.client.get("/audit-log?outcome=failure").get_data(as_text=True)
    assert "operator.create" not in page
    fragment = console.client.get("/audit-log?action=auth", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)
    assert "auth.login" in fragment.get_data(as_text=True)
    assert console.client.get("/audit-log?cursor=garbage").status_code == 400
    assert console.client.get("/audit-log?date_from=notadate").status_code == 200


def test_audit_log_pages_with_a_cursor(app, console):
    from kmsg_console.audit.services import record_audit

    console.login(Role.ADMIN)
    app.config["PAGE_SIZE"] = 3
    with app.test_request_context():
        for i in range(7):
            record_audit("test.event", target_type="n", target_id=i, actor_label="system")
        db.session.commit()
    seen = []
    url = "/audit-log?action=test.event"
    import re

    while url:
        text = console.client.get(url).get_data(as_text=True)
        seen += re.findall(r"<td>n (\d+)</td>", text)
        match = re.search(r'href="(/audit-log\?[^"]*cursor=[^"]*)"', text)
        url = match.group(1).replace("&amp;", "&") if match else None
    assert seen == [str(i) for i in range(6, -1, -1)]


def test_parallel_wrong_passwords_get_exactly_the_allowed_checks(app, monkeypatch):
    from tests.conftest import Console

    Console(app, app.test_client()).create_operator("a@example.com", Role.OPERATOR)
    attempts = 20
    allowed = app.config["LOGIN_MAX_FAILURES"]
    checks = []
    checks_lock = threading.Lock()
    real_verify = passwords.verify_password

    def counted_verify(password_hash, password):
        with checks_lock:
            checks.append(password)
        return real_verify(password_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counted_verify)
    # Each thread brings its own client (and CSRF token) and waits at the barrier, so the
    # attempts reach the server together instead of one after another.
    consoles = [Console(app, _english_client(app)) for _ in range(attempts)]
    forms = [
        {
            "email": "a@example.com",
            "password": f"wrong password {i}",
            "csrf_token": csrf_token_for(app, c.client),
        }
        for i, c in enumerate(consoles)
    ]
    start = threading.Barrier(attempts)

    def attempt(index: int) -> int:
        start.wait()
        return consoles[index].client.post("/login", data=forms[index]).status_code

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        statuses = list(pool.map(attempt, range(attempts)))

    assert len(checks) == allowed
    assert sorted(statuses) == [200] * allowed + [429] * (attempts - allowed)
    actions = _audit_actions(app)
    assert actions.count("auth.login_failed") == allowed
    assert actions.count("auth.login_throttled") == attempts - allowed
