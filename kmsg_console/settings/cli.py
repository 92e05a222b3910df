"""``kmsg-console sending-rules``: the duplicate-send window for scripted set-ups."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("sending-rules")
def sending_rules_group() -> None:
    """Console-wide sending rules."""


@sending_rules_group.command("duplicate-window")
@click.argument("minutes", required=False, type=click.IntRange(0, 60))
@click.option("--provider", "code", help="Set this provider's own window instead.")
@click.option(
    "--use-global",
    is_flag=True,
    help="With --provider: drop its own window and follow the console-wide one.",
)
@with_appcontext
def duplicate_window(minutes: int | None, code: str | None, use_global: bool) -> None:
    """Show or set the duplicate-send window in minutes (0: off, at most 60)."""
    from kmsg_console.extensions import db
    from kmsg_console.providers import services as provider_services
    from kmsg_console.sending import duplicates

    if use_global and (code is None or minutes is not None):
        raise click.UsageError("--use-global goes with --provider and no MINUTES")
    if code is None:
        if minutes is not None:
            duplicates.save_global_window(minutes, actor=None, actor_label="cli")
            db.session.commit()
        click.echo(f"console-wide: {duplicates.global_window()} min (0: off)")
        return
    provider = provider_services.get_by_code(code)
    if provider is None:
        raise click.ClickException(f"no provider {code!r}")
    if minutes is not None or use_global:
        provider_services.set_duplicate_window(provider, minutes, actor_label="cli")
        db.session.commit()
    own = provider.duplicate_window_minutes
    shown = "the console-wide window" if own is None else f"{own} min (0: off)"
    click.echo(f"{provider.code}: {shown}; in force: {duplicates.window_for(provider.code)} min")
