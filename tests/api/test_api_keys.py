"""API keys: shown once, stored hashed, scoped, revocable, audited."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import jsonify

from kmsg_console.api.auth import require_api_key
from kmsg_console.api.errors import ApiError
from kmsg_console.api_keys.models import ApiKey, Scope
from kmsg_console.api_keys.services import LAST_USED_RESOLUTION, issue_key
from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.operators.models import Role


@pytest.fixture
def protected(app):
    """A test-only endpoint that needs the ``otp`` scope."""

    @require_api_key(Scope.OTP)
    def probe():
        from kmsg_console.api.auth import current_api_key

        return jsonify(key=current_api_key().name)

    app.add_url_rule("/api/v1/_probe", "probe", probe)
    app.register_error_handler(ApiError, lambda exc: exc.response())
    return "/api/v1/_probe"


def _issue(app, scopes):
    with app.test_request_context():
        issued = issue_key("shop", scopes, actor_label="test")
        db.session.commit()
        return issued.plaintext


def test_key_is_stored_only_as_a_hash(app):
    plaintext = _issue(app, ["otp"])
    secret = plaintext.split("_", 2)[2]
    with app.app_context():
        row = db.session.execute(sa.text("SELECT * FROM api_key")).mappings().one()
        assert all(secret not in str(value) for value in row.values())
        assert plaintext not in str(db.session.scalars(sa.select(AuditEvent.details)).all())


def test_valid_key_with_scope_is_accepted_and_marks_last_use(app, client, protected):
    plaintext = _issue(app, ["otp"])
    response = client.get(protected, headers={"Authorization": f"Bearer {plaintext}"})
    assert response.status_code == 200 and response.get_json() == {"key": "shop"}
    with app.app_context():
        assert db.session.scalar(sa.select(ApiKey.last_used_at)) is not None


def test_last_use_is_written_at_most_once_per_resolution(app, client, protected):
    plaintext = _issue(app, ["otp"])
    headers = {"Authorization": f"Bearer {plaintext}"}

    def last_use():
        with app.app_context():
            return db.session.execute(sa.select(ApiKey.last_used_at, ApiKey.last_used_ip)).one()

    assert (
        client.get(
            protected, headers=headers, environ_base={"REMOTE_ADDR": "192.0.2.1"}
        ).status_code
        == 200
    )
    first_at, first_ip = last_use()
    assert first_ip == "192.0.2.1"
    # Within LAST_USED_RESOLUTION the row is not written again...
    assert (
        client.get(
            protected, headers=headers, environ_base={"REMOTE_ADDR": "192.0.2.2"}
        ).status_code
        == 200
    )
    assert last_use() == (first_at, "192.0.2.1")
    # ...after it, the next request records its time and address.
    with app.app_context():
        db.session.execute(
            sa.update(ApiKey).values(last_used_at=first_at - LAST_USED_RESOLUTION * 2)
        )
        db.session.commit()
    assert (
        client.get(
            protected, headers=headers, environ_base={"REMOTE_ADDR": "192.0.2.3"}
        ).status_code
        == 200
    )
    at, ip = last_use()
    assert ip == "192.0.2.3" and at >= first_at


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer nonsense", "Basic abc", "Bearer kmsg_000000000000_wrong"]
)
def test_missing_or_bad_key_is_401_json(app, client, protected, header):
    _issue(app, ["otp"])
    headers = {"Authorization": header} if header else {}
    response = client.get(protected, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert "Bearer" in response.headers["WWW-Authenticate"]


def test_wrong_secret_for_a_real_key_id_is_refused(app, client, protected):
    plaintext = _issue(app, ["otp"])
    tampered = plaintext[:-2] + ("AA" if not plaintext.endswith("AA") else "BB")
    assert client.get(protected, headers={"Authorization": f"Bearer {tampered}"}).status_code == 401


def test_key_without_the_scope_is_403(app, client, protected):
    plaintext = _issue(app, ["send"])
    response = client.get(protected, headers={"Authorization": f"Bearer {plaintext}"})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"


def test_console_creates_shows_once_and_revokes(app, console, protected):
    console.login(Role.ADMIN)
    bad = console.post("/api-keys", data={"name": ""})
    assert bad.status_code == 422
    created = console.post("/api-keys", data={"name": "billing", "scopes": ["otp", "send"]})
    assert created.status_code == 200
    plaintext = re.search(r'id="issued-key">([^<]+)<', created.get_data(as_text=True)).group(1)
    assert (
        console.client.get(protected, headers={"Authorization": f"Bearer {plaintext}"}).status_code
        == 200
    )
    listing = console.client.get("/api-keys").get_data(as_text=True)
    assert plaintext not in listing and "billing" in listing
    with app.app_context():
        key_id = db.session.scalar(sa.select(ApiKey.id).where(ApiKey.name == "billing"))
    assert console.post(f"/api-keys/{key_id}/revoke").status_code == 302
    assert (
        console.client.get(protected, headers={"Authorization": f"Bearer {plaintext}"}).status_code
        == 401
    )
    with app.app_context():
        actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"api_key.create", "api_key.revoke"} <= actions


def test_operator_cannot_manage_keys(console):
    console.login(Role.OPERATOR)
    assert console.client.get("/api-keys").status_code == 403
    assert console.post("/api-keys", data={"name": "x", "scopes": ["otp"]}).status_code == 403


def test_cli_prints_the_key_once(app):
    result = app.test_cli_runner().invoke(
        args=["api-keys", "create", "batch", "--scope", "otp", "--scope", "send"]
    )
    assert result.exit_code == 0, result.output
    plaintext = result.output.strip().splitlines()[-1]
    assert plaintext.startswith("kmsg_")
    with app.app_context():
        key = db.session.scalar(sa.select(ApiKey))
        assert key.scopes == ["otp", "send"] and plaintext.split("_", 2)[2] not in key.secret_hash
