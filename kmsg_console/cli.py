"""The ``kmsg-console`` command line (also reachable as ``flask --app kmsg_console``)."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from kmsg_console import migrate
from kmsg_console.extensions import db, dispose_engines


def register_commands(app: Flask) -> None:
    app.cli.add_command(serve)
    app.cli.add_command(db_group)
    app.cli.add_command(operators_group)
    app.cli.add_command(fake_providers)
    app.cli.add_command(api_keys_group)
    app.cli.add_command(_worker_command())
    app.cli.add_command(_templates_command())
    app.cli.add_command(_opt_outs_command())
    app.cli.add_command(_sending_rules_command())
    app.cli.add_command(_alerts_command())
    for command in _provider_commands():
        app.cli.add_command(command)
    app.cli.add_command(_sender_numbers_command())


def _worker_command() -> click.Command:
    from kmsg_console.worker.cli import worker_command

    return worker_command


def _templates_command() -> click.Command:
    from kmsg_console.message_templates.cli import templates_group

    return templates_group


def _opt_outs_command() -> click.Command:
    from kmsg_console.opt_outs.cli import opt_outs_group

    return opt_outs_group


def _sending_rules_command() -> click.Command:
    from kmsg_console.settings.cli import sending_rules_group

    return sending_rules_group


def _alerts_command() -> click.Command:
    from kmsg_console.alerts.cli import alerts_group

    return alerts_group


def _sender_numbers_command() -> click.Command:
    from kmsg_console.sender_numbers.cli import sender_numbers_group

    return sender_numbers_group


def _provider_commands() -> tuple[click.Command, ...]:
    from kmsg_console.providers.cli import providers_group, routes_group

    return providers_group, routes_group


def prepare_database(app: Flask) -> None:
    """Migrate to the newest schema and create the first admin if there is none."""
    from kmsg_console.operators.services import bootstrap_admin
    from kmsg_console.otp.services import ensure_default_purposes
    from kmsg_console.providers.services import ensure_sandbox_provider
    from kmsg_console.throttle.services import ensure_default_policies

    migrate.upgrade(app)
    with app.app_context():
        created = bootstrap_admin(app.config["ADMIN_EMAIL"], app.config.get("ADMIN_PASSWORD"))
        ensure_sandbox_provider()
        ensure_default_purposes()
        # A fresh install starts with rate limits on; policies are disabled, never deleted,
        # so this only ever seeds an empty table.
        ensure_default_policies()
        db.session.commit()
        if created:
            operator, generated = created
            click.echo(f"Created the first admin: {operator.email}")
            if generated:
                # Printed once, to the terminal only; it is never logged or stored in clear.
                click.echo(f"Generated password (shown only now): {generated}")
        dispose_engines()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
# 2 x 32: a request thread waits while a vendor answers (100-300 ms), so hiding that wait at
# the rate two cores can serve needs about 50 requests in flight; fewer threads leave the
# CPUs idle, more add nothing (bench/README.md, latency.py).
@click.option("--workers", default=2, show_default=True, type=int, help="Web processes.")
@click.option(
    "--threads",
    default=32,
    show_default=True,
    type=int,
    help="Request threads per process (each waits out one vendor call at a time).",
)
# On by default: without a worker nothing tracks deliveries, sends fallbacks or expires OTPs,
# and the README's one command must give a working install.
@click.option(
    "--with-worker/--no-worker",
    default=True,
    show_default=True,
    help="Run the background worker as a child process (delivery tracking, fallback, OTP "
    "expiry, template sync, retention). --no-worker when `kmsg-console worker` runs apart.",
)
@with_appcontext
def serve(host: str, port: int, workers: int, threads: int, with_worker: bool) -> None:
    """Migrate, bootstrap and serve the console with gunicorn, and the background worker."""
    from kmsg_console.server import run_gunicorn, shutdown_grace
    from kmsg_console.worker.cli import start_child_worker, stop_child_worker

    app = current_app._get_current_object()
    prepare_database(app)
    child = start_child_worker() if with_worker else None
    click.echo(f"kmsg-console listening on http://{host}:{port}/")
    try:
        grace = shutdown_grace(
            app.config["PROVIDER_CONNECT_TIMEOUT"], app.config["PROVIDER_READ_TIMEOUT"]
        )
        run_gunicorn(host=host, port=port, workers=workers, threads=threads, graceful_timeout=grace)
    finally:
        if child is not None:
            stop_child_worker(child)


@click.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations."""
    migrate.upgrade(current_app._get_current_object(), revision)
    click.echo("Database is up to date.")


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """Generate a migration from model changes (for developers)."""
    migrate.revision(current_app._get_current_object(), message)


@click.group("operators")
def operators_group() -> None:
    """Manage operators."""


@operators_group.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "operator", "viewer"]), required=True)
@click.option("--name", default="", help="Display name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def operators_create(email: str, role: str, name: str, password_stdin: bool) -> None:
    """Create an operator (password from a prompt or standard input)."""
    from kmsg_console.operators.models import Role
    from kmsg_console.operators.services import OperatorError, create_operator

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        operator = create_operator(email, password, Role(role), display_name=name)
    except OperatorError as exc:
        db.session.rollback()
        raise click.ClickException(_CLI_ERRORS.get(str(exc), str(exc))) from exc
    db.session.commit()
    click.echo(f"Created {operator.role.value} {operator.email}")


_CLI_ERRORS = {
    "bad_email": "not a valid e-mail address",
    "email_taken": "an operator with this e-mail already exists",
    "too_short": "the password is too short (at least 12 characters)",
    "too_long": "the password is too long (at most 128 characters)",
    "contains_email": "the password must not contain the e-mail address",
}


@click.group("api-keys")
def api_keys_group() -> None:
    """Manage API keys."""


@api_keys_group.command("create")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(["send", "otp"]),
    help="Repeat for several scopes.",
)
@with_appcontext
def api_keys_create(name: str, scopes: tuple[str, ...]) -> None:
    """Create an API key and print it once."""
    from kmsg_console.api_keys.services import ApiKeyError, issue_key

    try:
        issued = issue_key(name, list(scopes), actor_label="cli")
    except ApiKeyError as exc:
        db.session.rollback()
        raise click.ClickException(f"cannot create the key: {exc}") from exc
    db.session.commit()
    click.echo(f"Created API key {issued.key.name!r} with scopes {', '.join(issued.key.scopes)}.")
    click.echo("Copy it now; it is shown only once:")
    click.echo(issued.plaintext)


#: fake-providers option -> SimulatorOptions field (every default is the public demo value).
SIMULATOR_CREDENTIALS = {
    "solapi_key": "solapi_api_key",
    "solapi_secret": "solapi_api_secret",
    "iwinv_key": "iwinv_api_key",
    "iwinv_sms_key": "iwinv_sms_api_key",
    "iwinv_sms_auth": "iwinv_sms_auth_key",
    "aligo_key": "aligo_api_key",
    "aligo_user": "aligo_user_id",
}


class _SimulatorCommand(click.Command):
    """Ends ``--help`` with the simulators' control API, as the control module describes it."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from kmsg_console.providers.simulators.control import describe_control_api

        # Written as is: click would re-wrap the endpoint table into one paragraph.
        formatter.write("\n" + describe_control_api() + "\n")


@click.command("fake-providers", cls=_SimulatorCommand)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=9100, show_default=True, type=int)
@click.option("--solapi-key", default="demo-api-key", show_default=True)
@click.option("--solapi-secret", default="demo-api-secret", show_default=True)
@click.option(
    "--iwinv-key", default="demo-api-key", show_default=True, help="IWINV AlimTalk AUTH key."
)
@click.option("--iwinv-sms-key", default="demo-sms-key", show_default=True)
@click.option("--iwinv-sms-auth", default="demo-sms-auth", show_default=True)
@click.option("--aligo-key", default="demo-api-key", show_default=True)
@click.option("--aligo-user", default="demo", show_default=True)
@click.option(
    "--sender",
    "senders",
    multiple=True,
    help="A registered sender number (repeat; default 0212345678 and 01000000000).",
)
@click.option(
    "--delivery-step-seconds",
    default=1.0,
    show_default=True,
    type=float,
    help="Seconds between delivery statuses of a stored message (0: final at once).",
)
def fake_providers(
    host: str, port: int, senders: tuple[str, ...], delivery_step_seconds: float, **credentials: str
) -> None:
    """Run the local SOLAPI/IWINV/Aligo simulators."""
    from kmsg_console.providers.simulators import run_simulators
    from kmsg_console.providers.simulators.options import SimulatorOptions

    options = SimulatorOptions(
        **{SIMULATOR_CREDENTIALS[name]: value for name, value in credentials.items()},
        delivery_step_seconds=delivery_step_seconds,
    )
    if senders:
        options.sender_numbers = senders
    run_simulators(host=host, port=port, options=options)


def _create_app_for_cli():
    from kmsg_console import create_app

    return create_app()


@click.group(
    cls=FlaskGroup,
    create_app=_create_app_for_cli,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
)
def cli() -> None:
    """kmsg-console: operator console and OTP service for Korean messaging."""


def main() -> None:
    """Console-script entry point."""
    if sys.argv[1:2] == ["serve"]:
        from kmsg_console.server import prepare_metrics_dir

        prepare_metrics_dir()  # before the app (and prometheus_client) is imported
    cli()
