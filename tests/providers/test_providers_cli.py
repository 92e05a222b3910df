"""Scripted set-up: ``providers add|list|test`` and ``routes set|list`` on the real command line."""

from __future__ import annotations

import json
import os
import subprocess  # noqa: S404 - runs the installed kmsg-console entry point
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from kmsg_console.audit.models import AuditEvent
from kmsg_console.extensions import db
from kmsg_console.messaging.types import MessageType
from kmsg_console.operators.models import Role
from kmsg_console.providers import services
from kmsg_console.providers.adapters.registry import ADAPTERS
from kmsg_console.providers.models import Provider

SOLAPI_SECRET = "demo-api-secret"  # the simulator's public demo value
SENDER = "0212345678"  # registered at every simulator
RECIPIENT = "01055501234"


def run(app, *args: str, stdin: str | None = None):
    return app.test_cli_runner().invoke(args=list(args), input=stdin)


def ok(app, *args: str, stdin: str | None = None):
    result = run(app, *args, stdin=stdin)
    assert result.exit_code == 0, result.output
    return result


def add_solapi(app, simulator, code="solapi-main", secret=SOLAPI_SECRET, *extra: str):
    return run(
        app,
        "providers",
        "add",
        "solapi",
        code,
        "--api-key",
        "demo-api-key",
        "--default-from",
        SENDER,
        "--base-url",
        simulator.url("solapi"),
        "--secrets-stdin",
        *extra,
        stdin=f"api-secret={secret}\n",
    )


#: vendor -> (command-line options, stdin secrets) against the simulators' demo accounts.
def vendor_setup(vendor: str, simulator) -> tuple[list[str], str]:
    if vendor == "solapi":
        return (
            ["--api-key", "demo-api-key", "--default-from", SENDER]
            + ["--base-url", simulator.url("solapi")],
            f"api-secret={SOLAPI_SECRET}\n",
        )
    if vendor == "aligo":
        return (
            ["--user-id", "demo", "--default-from", SENDER]
            + ["--sms-base-url", simulator.url("aligo_sms")]
            + ["--kakao-base-url", simulator.url("aligo_kakao")],
            "# Aligo's one key\napi-key=demo-api-key\n",
        )
    return (
        ["--default-from", SENDER, "--sms-company-id", "demo"]
        + ["--alimtalk-base-url", simulator.url("iwinv_alimtalk")]
        + ["--sms-base-url", simulator.url("iwinv_sms")],
        "api-key=demo-api-key\nsms-api-key=demo-sms-key\n\nsms-auth-key=demo-sms-auth\n",
    )


SMS_PATHS = {
    "solapi": ("solapi", "/messages/v4/send-many/detail"),
    "aligo": ("aligo_sms", "/send/"),
    "iwinv": ("iwinv_sms", "/api/v2/send/"),
}


def stored(app, code: str) -> Provider:
    with app.app_context():
        provider = services.get_by_code(code)
        assert provider is not None, code
        db.session.expunge(provider)
        return provider


def audit_events(app) -> list[AuditEvent]:
    with app.app_context():
        events = list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))
        for event in events:
            db.session.expunge(event)
        return events


def snapshot(app):
    """Everything a refused command must leave as it was."""
    with app.app_context():
        providers = db.session.execute(
            sa.select(
                Provider.code,
                Provider.vendor,
                Provider.name,
                Provider.enabled,
                Provider.settings,
                Provider.secrets,
            ).order_by(Provider.id)
        ).all()
        events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        return providers, events, services.routes()


# -- the acceptance path --------------------------------------------------------------------


@pytest.mark.parametrize("vendor", ["solapi", "aligo", "iwinv"])
def test_a_provider_added_and_routed_from_the_command_line_sends_through_the_simulator(
    app, client, simulator, vendor
):
    options, secrets = vendor_setup(vendor, simulator)
    added = ok(app, "providers", "add", vendor, "main", *options, "--secrets-stdin", stdin=secrets)
    assert "Added" in added.output
    tested = ok(app, "providers", "test", "main")
    assert tested.output.startswith("main: healthy (")
    ok(app, "routes", "set", "SMS", "main")
    key = ok(app, "api-keys", "create", "shop", "--scope", "send").output.strip().splitlines()[-1]

    response = client.post(
        "/api/v1/messages",
        json={"to": RECIPIENT, "type": "SMS", "text": "[샵] 주문이 접수되었습니다."},
        headers={"Authorization": f"Bearer {key}"},
    )

    body = response.get_json()
    assert response.status_code == 201, body
    # Aligo reports no delivery status, so its accepted message stays PENDING until tracked.
    assert body["status"] in ("SENT", "PENDING") and body["provider"] == "main"
    assert [(a["provider"], a["outcome"]) for a in body["attempts"]] == [("main", "accepted")]
    sim_vendor, path = SMS_PATHS[vendor]
    sent = simulator.control.requests(sim_vendor, path=path)
    assert len(sent) == 1 and RECIPIENT in json.dumps(sent[0]["body"], ensure_ascii=False)


def test_add_a_sandbox_provider_with_its_script(app):
    ok(app, "providers", "add", "sandbox", "sandbox-2", "--name", "Demo", "--script", "ok,timeout")
    provider = stored(app, "sandbox-2")
    assert (provider.vendor, provider.name, provider.enabled) == ("sandbox", "Demo", True)
    # The sandbox's built-in default sender is saved with it (and registered as verified).
    assert provider.settings == {"default_from": "0212345678", "script": "ok,timeout"}
    assert provider.secrets == {}


def test_bool_settings_are_flags(app, simulator):
    options, secrets = vendor_setup("aligo", simulator)
    ok(
        app,
        "providers",
        "add",
        "aligo",
        "al",
        *options,
        "--test-mode",
        "--secrets-stdin",
        stdin=secrets,
    )
    assert stored(app, "al").settings["test_mode"] is True
    ok(app, "providers", "add", "aligo", "al", "--update", "--no-test-mode")
    assert stored(app, "al").settings["test_mode"] is False


# -- secrets ----------------------------------------------------------------------------------


def test_secrets_from_stdin_are_encrypted_and_never_printed(app, simulator):
    secret = "stdin-only-secret-6f1c"
    result = add_solapi(app, simulator, "solapi-main", secret)
    assert result.exit_code == 0, result.output
    assert secret not in result.output and "api_secret" in result.output
    provider = stored(app, "solapi-main")
    assert provider.secrets["api_secret"].startswith("v1.")
    with app.app_context():
        assert (
            services.decrypted_config(services.get_by_code("solapi-main"))["api_secret"] == secret
        )
        rows = db.session.execute(sa.text("SELECT * FROM provider")).mappings().all()
        audit = db.session.execute(sa.text("SELECT * FROM audit_event")).mappings().all()
    assert secret not in str(rows) and secret not in str(audit)
    listed = ok(app, "providers", "list").output
    as_json = ok(app, "providers", "list", "--json").output
    assert secret not in listed and secret not in as_json


def test_a_secret_given_as_an_option_is_stored_like_one_from_stdin(app, simulator):
    ok(
        app,
        "providers",
        "add",
        "iwinv",
        "iw",
        "--api-key",
        "option-secret-91",
        "--alimtalk-base-url",
        simulator.url("iwinv_alimtalk"),
    )
    provider = stored(app, "iw")
    assert set(provider.secrets) == {"api_key"} and "api_key" not in provider.settings
    assert "option-secret-91" not in str(provider.secrets)


def test_list_shows_which_secrets_are_set_never_their_values(app, simulator):
    add_solapi(app, simulator)
    ok(
        app,
        "providers",
        "add",
        "iwinv",
        "iw",
        "--sms-api-key",
        "sms-key-value",
        "--sms-auth-key",
        "sms-auth-value",
        "--name",
        "아이윈브",
    )
    table = ok(app, "providers", "list").output.splitlines()
    assert table[0].split() == [
        "CODE",
        "VENDOR",
        "NAME",
        "ENABLED",
        "BASE",
        "URL",
        "SECRETS",
        "SET",
    ]
    solapi_row = next(line for line in table if line.startswith("solapi-main "))
    assert simulator.url("solapi") in solapi_row and solapi_row.endswith("api_secret")
    iwinv_row = next(line for line in table if line.startswith("iw "))
    assert iwinv_row.endswith("sms_api_key, sms_auth_key") and "아이윈브" in iwinv_row
    assert "https://sms.bizservice.iwinv.kr" in iwinv_row  # the vendor's default URL
    listed = json.loads(ok(app, "providers", "list", "--json").output)
    by_code = {entry["code"]: entry for entry in listed}
    assert by_code["iw"]["secrets"] == {"api_key": False, "sms_api_key": True, "sms_auth_key": True}
    assert by_code["solapi-main"]["secrets"] == {"api_secret": True}
    assert by_code["solapi-main"]["settings"]["base_url"] == simulator.url("solapi")
    assert by_code["solapi-main"]["enabled"] is True and by_code["iw"]["name"] == "아이윈브"
    everything = "\n".join(table) + json.dumps(listed, ensure_ascii=False)
    for value in (SOLAPI_SECRET, "sms-key-value", "sms-auth-value"):
        assert value not in everything


# -- bad input --------------------------------------------------------------------------------


BAD_ADDS = [
    (["nope", "x1"], "", "'nope' is not one of"),
    (["solapi", "Bad Id!", "--api-key", "k", "--api-secret", "s"], "", "CODE: Use 2-40"),
    (
        ["solapi", "x1", "--api-key", "k", "--api-secret", "s", "--base-url", "ftp://x"],
        "",
        "--base-url: Enter an http",
    ),
    (["solapi", "x1", "--api-key", "k"], "", "--api-secret: This field is required."),
    (["aligo", "x1", "--api-key", "k"], "", "--user-id: This field is required."),
    (
        ["solapi", "x1", "--api-key", "k", "--api-secret", "s", "--default-from", "080-123-4567"],
        "",
        "--default-from: A sender must be a mobile, landline, 070",
    ),
    (
        ["solapi", "x1", "--api-key", "k", "--api-secret", "s", "--name", "n" * 81],
        "",
        "--name: Field cannot be longer",
    ),
    (
        ["solapi", "x1", "--api-key", "k", "--api-secret", "s", "--user-id", "u"],
        "",
        "--user-id is not a setting of SOLAPI",
    ),
    (
        ["solapi", "taken", "--api-key", "k", "--api-secret", "s"],
        "",
        "already exists; pass --update",
    ),
    (["aligo", "taken", "--update", "--user-id", "u"], "", "is a SOLAPI provider"),
    (
        ["solapi", "x1", "--api-key", "k", "--secrets-stdin"],
        "sEcReT-only-line==\n",
        "line 1 of stdin is not NAME=VALUE",
    ),
    (
        ["solapi", "x1", "--api-secret", "s", "--secrets-stdin"],
        "api-secret=t\n",
        "--api-secret is given both",
    ),
    (
        ["solapi", "x1", "--secrets-stdin"],
        "api-secret=a\napi-secret=b\n",
        "api-secret is given twice",
    ),
    (
        ["solapi", "x1", "--api-secret", "s", "--secrets-stdin"],
        "api-key=k\n",
        "not a secret setting of SOLAPI; give it as --api-key",
    ),
    (
        ["solapi", "x1", "--api-key", "k", "--secrets-stdin"],
        "sEcReT-head=tail\n",
        "line 1 of stdin is not NAME=VALUE",
    ),
    (
        ["solapi", "x1", "--api-key", "k", "--secrets-stdin"],
        "# the key pair\nuser-id=demo\n",
        "line 2 of stdin is not NAME=VALUE with a secret setting's name (SOLAPI takes: api-secret)",
    ),
]


@pytest.mark.parametrize(("args", "stdin", "message"), BAD_ADDS)
def test_bad_input_is_refused_with_a_clear_error_and_changes_nothing(app, args, stdin, message):
    ok(app, "providers", "add", "solapi", "taken", "--api-key", "k", "--api-secret", "s")
    before = snapshot(app)
    result = run(app, "providers", "add", *args, stdin=stdin)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert snapshot(app) == before
    assert "sEcReT" not in result.output  # a malformed stdin line may be the secret itself


def test_the_console_refuses_the_sender_number_the_command_line_refuses(app, console):
    console.login(Role.ADMIN)
    response = console.post(
        "/providers/new?vendor=solapi",
        data={
            "code": "solapi-main",
            "name": "SOLAPI",
            "enabled": "y",
            "cfg_api_key": "k",
            "cfg_api_secret": "s",
            "cfg_default_from": "080-123-4567",
        },
    )
    assert response.status_code == 422
    assert "A sender must be a mobile, landline, 070" in response.get_data(as_text=True)
    with app.app_context():
        assert services.get_by_code("solapi-main") is None


def test_sender_numbers_are_kept_as_domestic_digits(app, simulator):
    options, secrets = vendor_setup("iwinv", simulator)
    options[options.index(SENDER)] = "02-1234-5678"
    ok(app, "providers", "add", "iwinv", "iw", *options, "--secrets-stdin", stdin=secrets)
    assert stored(app, "iw").settings["sender_number"] == SENDER


# -- --update -----------------------------------------------------------------------------------


def test_update_changes_only_what_is_given_and_keeps_the_secrets(app, simulator):
    add_solapi(app, simulator)
    ok(app, "providers", "add", "solapi", "solapi-main", "--update", "--name", "Main", "--disabled")
    provider = stored(app, "solapi-main")
    assert provider.name == "Main" and provider.enabled is False
    assert provider.settings["default_from"] == SENDER
    assert provider.settings["base_url"] == simulator.url("solapi")
    with app.app_context():
        assert services.decrypted_config(services.get_by_code("solapi-main"))["api_secret"] == (
            SOLAPI_SECRET
        )
    ok(
        app,
        "providers",
        "add",
        "solapi",
        "solapi-main",
        "--update",
        "--secrets-stdin",
        stdin="api-secret=rotated-secret\n",
    )
    with app.app_context():
        assert services.decrypted_config(services.get_by_code("solapi-main"))["api_secret"] == (
            "rotated-secret"
        )
    updates = [e for e in audit_events(app) if e.action == "provider.update"]
    assert len(updates) == 2 and all(e.actor_label == "cli" for e in updates)
    assert updates[0].details["after"] == {"name": "Main", "enabled": False}
    assert updates[1].details["credentials_replaced"] == ["api_secret"]
    assert "rotated-secret" not in str(updates[1].details)


def test_update_of_a_missing_code_adds_it(app, simulator):
    result = add_solapi(app, simulator, "fresh", SOLAPI_SECRET, "--update")
    assert result.exit_code == 0 and result.output.startswith("Added")
    # --default-from registers the sender number for it, verified by the command line.
    assert [e.action for e in audit_events(app)] == ["provider.create", "sender_number.add"]


# -- test connection ------------------------------------------------------------------------


def test_a_healthy_provider_exits_0_with_its_latency_and_balance(app, simulator):
    add_solapi(app, simulator)
    result = ok(app, "providers", "test", "solapi-main")
    assert "healthy" in result.output and " ms" in result.output and "KRW" in result.output
    provider = stored(app, "solapi-main")
    assert provider.health_ok is True and provider.health_checked_at is not None


def test_a_wrong_secret_fails_the_test_with_exit_1_and_the_normalized_error(app, simulator):
    add_solapi(app, simulator, "solapi-main", "wrong-secret")
    result = run(app, "providers", "test", "solapi-main")
    assert result.exit_code == 1
    assert "failing" in result.output and "AUTHENTICATION_FAILED" in result.output
    assert "wrong-secret" not in result.output
    assert stored(app, "solapi-main").health_ok is False
    event = [e for e in audit_events(app) if e.action == "provider.test"][-1]
    assert (event.outcome, event.actor_label) == ("failure", "cli")


def test_a_provider_that_cannot_be_reached_fails_the_test(app):
    ok(
        app,
        "providers",
        "add",
        "solapi",
        "down",
        "--api-key",
        "k",
        "--api-secret",
        "s",
        "--base-url",
        "http://127.0.0.1:9",
    )
    result = run(app, "providers", "test", "down")
    assert result.exit_code == 1 and "NETWORK_" in result.output


def test_an_unusable_configuration_is_a_clear_error_not_a_crash(app):
    # Saved as the console saves it (no single IWINV key is required), but no adapter can
    # be built from it: neither the AlimTalk key nor the SMS key pair is set.
    ok(app, "providers", "add", "iwinv", "no-keys")
    tested = run(app, "providers", "test", "no-keys")
    assert tested.exit_code == 1 and "set the AlimTalk API key, the SMS key pair" in tested.output
    routed = run(app, "routes", "set", "SMS", "no-keys")
    assert routed.exit_code == 1 and "'no-keys' is not usable" in routed.output
    assert "Traceback" not in tested.output + routed.output
    with app.app_context():
        assert "SMS" not in services.routes()


def test_testing_an_unknown_code_is_a_clear_error(app):
    result = run(app, "providers", "test", "ghost")
    assert result.exit_code == 1 and "no provider with code 'ghost'" in result.output


# -- routes ---------------------------------------------------------------------------------------


def _routing_setup(app, simulator):
    with app.app_context():
        services.ensure_sandbox_provider()
        db.session.commit()
    add_solapi(app, simulator)
    add_solapi(app, simulator, "solapi-backup")
    # An AlimTalk-only IWINV account: it cannot carry SMS.
    ok(app, "providers", "add", "iwinv", "iw-alimtalk", "--api-key", "k")


def test_routes_set_saves_the_failover_order_and_is_audited(app, simulator):
    _routing_setup(app, simulator)
    result = ok(app, "routes", "set", "sms", "solapi-main", "solapi-backup")
    assert result.output.strip() == "SMS: solapi-main -> solapi-backup"
    ok(app, "routes", "set", "ALIMTALK", "iw-alimtalk", "solapi-main")
    with app.test_request_context():
        assert services.routes()["SMS"] == ["solapi-main", "solapi-backup"]
        assert services.routes()["DEFAULT"] == ["sandbox"]  # the other routes stay
        router = services.build_router()
    assert router.by_type[MessageType.SMS] == ["solapi-main", "solapi-backup"]
    routing = [e for e in audit_events(app) if e.action == "routing.update"]
    assert [e.actor_label for e in routing] == ["cli", "cli"]
    assert routing[0].details["after"] == {"SMS": ["solapi-main", "solapi-backup"]}
    listed = ok(app, "routes", "list").output
    assert (
        "SMS         solapi-main -> solapi-backup" in listed and "LMS         (DEFAULT)" in listed
    )
    assert json.loads(ok(app, "routes", "list", "--json").output) == {
        "DEFAULT": ["sandbox"],
        "SMS": ["solapi-main", "solapi-backup"],
        "LMS": [],
        "MMS": [],
        "ALIMTALK": ["iw-alimtalk", "solapi-main"],
        "FRIENDTALK": [],
    }


BAD_ROUTES = [
    (["SMS", "ghost"], "unknown provider in the SMS route: ghost"),
    (["SMS", "iw-alimtalk"], "'iw-alimtalk' (IWINV) cannot send SMS"),
    (["SMS", "solapi-main", "solapi-main"], "provider listed twice in the route: solapi-main"),
    (["SMS", "solapi-main", "sandbox", "iw-alimtalk", "x"], "at most 3 providers per route"),
    (["TELEX", "solapi-main"], "'TELEX' is not one of"),
    (["SMS"], "Missing argument 'CODE...'"),
]


@pytest.mark.parametrize(("args", "message"), BAD_ROUTES)
def test_routes_set_refuses_bad_routes_and_changes_nothing(app, simulator, args, message):
    _routing_setup(app, simulator)
    ok(app, "routes", "set", "SMS", "sandbox")
    before = snapshot(app)
    result = run(app, "routes", "set", *args)
    assert result.exit_code != 0 and message in result.output
    assert snapshot(app) == before


def test_a_disabled_provider_may_be_routed_with_a_note(app, simulator):
    add_solapi(app, simulator, "solapi-main", SOLAPI_SECRET, "--disabled")
    result = ok(app, "routes", "set", "SMS", "solapi-main")
    assert "solapi-main is disabled" in result.output


# -- the audit log ----------------------------------------------------------------------------


def test_every_change_is_audited_like_the_console_with_the_cli_as_actor(app, simulator):
    add_solapi(app, simulator)
    ok(app, "providers", "test", "solapi-main")
    ok(app, "routes", "set", "SMS", "solapi-main")
    ok(app, "providers", "add", "solapi", "solapi-main", "--update", "--name", "renamed")
    events = audit_events(app)
    assert [(e.action, e.target_type, e.target_id) for e in events] == [
        ("provider.create", "provider", "solapi-main"),
        ("sender_number.add", "sender_number", "02-1234-5678"),
        ("provider.test", "provider", "solapi-main"),
        ("routing.update", "routing", "all"),
        ("provider.update", "provider", "solapi-main"),
    ]
    assert all(e.actor_label == "cli" and e.actor_id is None for e in events)
    assert events[0].details["credentials_replaced"] == ["api_secret"]
    assert events[0].details["after"]["base_url"] == simulator.url("solapi")


# -- help -----------------------------------------------------------------------------------------


def test_help_names_every_vendor_setting_and_route_type(app):
    add_help = ok(app, "providers", "add", "--help").output
    for vendor, adapter in ADAPTERS.items():
        assert vendor in add_help
        for spec in adapter.CONFIG_FIELDS:
            if spec.name not in services.SENDER_SETTINGS:
                assert "--" + spec.name.replace("_", "-") in add_help, spec.name
    assert "--default-from" in add_help and "--secrets-stdin" in add_help
    routes_help = " ".join(ok(app, "routes", "set", "--help").output.split())
    for route in [services.DEFAULT_ROUTE] + [t.value for t in services.ROUTED_TYPES]:
        assert route in routes_help


# -- the installed entry point ----------------------------------------------------------------


def test_the_installed_command_reads_secrets_from_a_pipe(tmp_path):
    executable = Path(sys.executable).with_name("kmsg-console")
    env = {
        **os.environ,
        "KMSG_INSTANCE_PATH": str(tmp_path),
        "KMSG_DATABASE_URL": f"sqlite:///{tmp_path / 'kmsg.db'}",
    }

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 - fixed arguments
            [str(executable), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    assert cli("db", "upgrade").returncode == 0
    added = cli(
        "providers",
        "add",
        "aligo",
        "aligo-main",
        "--user-id",
        "demo",
        "--secrets-stdin",
        stdin="api-key=piped-secret-7d\n",
    )
    assert added.returncode == 0, added.stderr
    listed = cli("providers", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [
        {
            "code": "aligo-main",
            "vendor": "aligo",
            "name": "aligo-main",
            "enabled": True,
            "settings": {
                "user_id": "demo",
                "test_mode": False,
                "sms_base_url": "https://apis.aligo.in",
                "kakao_base_url": "https://kakaoapi.aligo.in",
            },
            "secrets": {"api_key": True},
            "health": {
                "ok": None,
                "checked_at": None,
                "latency_ms": None,
                "error": None,
                "balance": None,
            },
        }
    ]
    assert "piped-secret-7d" not in added.stdout + added.stderr + listed.stdout
    refused = cli("providers", "add", "aligo", "aligo-main", "--user-id", "demo")
    assert refused.returncode == 1 and "already exists" in refused.stderr
