"""``kmsg-console templates sync``: read every provider's review statuses now."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("templates")
def templates_group() -> None:
    """Message templates."""


@templates_group.command("sync")
@with_appcontext
def sync_command() -> None:
    """Sync the review status of every AlimTalk template (what the worker runs periodically)."""
    from kmsg_console.message_templates.sync import sync_all_templates

    summary = sync_all_templates()
    click.echo(
        f"{summary.providers} provider(s): {summary.checked} checked, {summary.changed} changed, "
        f"{summary.imported} imported, {summary.deleted} gone at the provider."
    )
    for error in summary.errors:
        click.echo(f"not read: {error}", err=True)
    if summary.errors:
        raise SystemExit(1)
