"""``kmsg-console alerts``: operator alert thresholds for scripted set-ups."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("alerts")
def alerts_group() -> None:
    """Operator alerts."""


@alerts_group.command("balance-threshold")
@click.argument("code")
@click.argument("amount", required=False, type=click.IntRange(0, 1_000_000_000))
@click.option("--off", is_flag=True, help="No balance alert for this provider.")
@with_appcontext
def balance_threshold(code: str, amount: int | None, off: bool) -> None:
    """Show or set the balance (KRW) below which provider CODE raises an alert."""
    from kmsg_console.alerts import services
    from kmsg_console.extensions import db
    from kmsg_console.providers import services as provider_services

    if off and amount is not None:
        raise click.UsageError("give AMOUNT or --off, not both")
    provider = provider_services.get_by_code(code)
    if provider is None:
        raise click.ClickException(f"no provider {code!r}")
    if off or amount is not None:
        services.set_balance_threshold(provider, None if off else amount, actor_label="cli")
        db.session.commit()
    shown = provider.balance_alert_below
    click.echo(
        f"{provider.code}: " + ("no balance alert" if shown is None else f"alert below {shown}")
    )
