"""``kmsg-console opt-outs sync``: import the block lists of the providers that keep one."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("opt-outs")
def opt_outs_group() -> None:
    """The opt-out list (수신거부)."""


@opt_outs_group.command("sync")
@click.option("--provider", "code", help="Only this provider (default: every one with a list).")
@with_appcontext
def sync_command(code: str | None) -> None:
    """Add the numbers on the providers' own block lists (SOLAPI 수신 거부)."""
    from kmsg_console.extensions import db
    from kmsg_console.opt_outs import sync

    providers = sync.block_list_providers()
    if code:
        providers = [p for p in providers if p.code == code]
        if not providers:
            raise click.ClickException(f"no enabled provider {code!r} with a block list")
    failed = False
    for provider in providers:
        try:
            report = sync.sync_provider(provider, actor_label="cli")
        except sync.SyncFailed as exc:
            db.session.rollback()
            click.echo(f"{provider.code}: not read ({exc.error.code.value})", err=True)
            failed = True
            continue
        db.session.commit()
        click.echo(
            f"{provider.code}: {report.listed} read, {report.added} added, "
            f"{report.present} already listed, {report.invalid} not mobile numbers, "
            f"{report.skipped} only in inactive groups."
        )
    if not providers:
        click.echo("No enabled provider keeps a block list the console can read.")
    if failed:
        raise SystemExit(1)
