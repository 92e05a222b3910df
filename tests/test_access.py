"""Every route declares a role rule, and the rules hold for anonymous users and viewers."""

from __future__ import annotations

import re

import pytest

from kmsg_console.operators.models import Role
from kmsg_console.web.access import AccessRule

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
#: Viewers may change their own account and sign out; nothing else.
SELF_SERVICE = {"operators.logout", "account.change_password", "account.update_preferences"}


def _sample_path(rule) -> str:
    """A concrete URL for a rule, with every converter filled by a plausible value."""
    path = rule.rule
    path = re.sub(r"<int:[^>]+>", "1", path)
    path = re.sub(r"<(?:string:)?[^>]+>", "x", path)
    return path


def _routes(app):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        yield rule, view, getattr(view, "access_rule", None)


def test_every_route_declares_an_access_rule(app):
    missing = [
        rule.endpoint for rule, _view, access in _routes(app) if not isinstance(access, AccessRule)
    ]
    assert missing == []


def test_a_route_without_a_rule_is_refused(app, console):
    def undeclared():
        return "should never be served"

    app.add_url_rule("/undeclared", "undeclared", undeclared)
    console.login(Role.ADMIN)
    assert console.client.get("/undeclared").status_code == 403


def test_console_routes_redirect_anonymous_users_to_login(app, client):
    checked = 0
    for rule, _view, access in _routes(app):
        if access.public or access.api:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            # CSRF would answer 400 first for a POST; sign-in must win for anonymous users.
            response = client.open(_sample_path(rule), method=method)
            if method in STATE_CHANGING:
                assert response.status_code in {302, 400}, (rule.rule, method)
                if response.status_code == 302:
                    assert "/login" in response.headers["Location"]
            else:
                assert response.status_code == 302, (rule.rule, method)
                assert response.headers["Location"].startswith("/login")
            checked += 1
    assert checked >= 10


def test_anonymous_post_with_valid_csrf_is_sent_to_login(app, console):
    response = console.post("/operators/new", data={"email": "x@example.com"})
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_viewer_is_refused_on_admin_pages_and_every_state_change(app, console):
    console.login(Role.VIEWER)
    refused = 0
    for rule, _view, access in _routes(app):
        if access.public or access.api:
            continue
        path = _sample_path(rule)
        if access.read == Role.ADMIN and "GET" in rule.methods:
            assert console.client.get(path).status_code == 403, rule.rule
            refused += 1
        for method in rule.methods & STATE_CHANGING:
            if rule.endpoint in SELF_SERVICE:
                continue
            response = console.client.open(
                path, method=method, data={"csrf_token": _token(app, console)}
            )
            assert response.status_code == 403, (rule.rule, method)
            refused += 1
    assert refused >= 5


def _token(app, console):
    from tests.conftest import csrf_token_for

    return csrf_token_for(app, console.client)


def test_operator_cannot_open_admin_pages(console):
    console.login(Role.OPERATOR)
    assert console.client.get("/operators").status_code == 403
    assert console.client.get("/audit-log").status_code == 403
    assert console.client.get("/").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/send-logs",
        "/send",
        "/otp",
        "/templates",
        "/throttle-policies",
        "/providers",
        "/api-keys",
        "/operators",
        "/audit-log",
    ],
)
def test_admin_reaches_every_console_page(console, path):
    console.login(Role.ADMIN)
    assert console.client.get(path).status_code == 200


def test_htmx_request_without_session_gets_hx_redirect(client):
    response = client.get("/operators", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login"
