"""``kmsg-console sender-numbers add|list|sync``: scripted set-up of sender numbers.

Changes go through the console's services and are audited with the actor ``cli``; a number
added with ``--verified`` is one the operator asserts the vendor has registered.
"""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from kmsg_console.extensions import db
from kmsg_console.providers import services as provider_services
from kmsg_console.providers.cli import CLI_ACTOR
from kmsg_console.sender_numbers import services
from kmsg_console.sender_numbers.models import RegistrationSource, SenderNumberCategory


def _fail(exc: Exception) -> click.ClickException:
    db.session.rollback()
    return click.ClickException(str(exc))


@click.group("sender-numbers")
def sender_numbers_group() -> None:
    """Register, list and sync sender numbers (발신번호)."""


@sender_numbers_group.command("add")
@click.argument("number")
@click.option(
    "--provider",
    "providers",
    multiple=True,
    required=True,
    metavar="CODE",
    help="A provider that may send from it (repeat for several).",
)
@click.option(
    "--verified",
    is_flag=True,
    help="Mark it verified: you assert the vendor has registered it (audited as 'cli').",
)
@click.option("--label", default="", help="A name for people, e.g. 'Customer centre'.")
@click.option(
    "--category",
    type=click.Choice([c.value for c in SenderNumberCategory]),
    default=None,
    help="Who owns the number (default: business).",
)
@with_appcontext
def add_command(
    number: str, providers: tuple[str, ...], verified: bool, label: str, category: str | None
) -> None:
    """Register NUMBER for the given providers (pending unless --verified)."""
    try:
        result = services.register(
            number,
            providers=list(providers),
            label=label,
            category=category,
            verified=verified,
            source=RegistrationSource.CLI,
            actor=CLI_ACTOR,
        )
    except services.SenderNumberError as exc:
        raise _fail(exc) from exc
    db.session.commit()
    sender = result.sender
    verb = "registered" if result.created else "updated"
    click.echo(
        f"{services.display(sender.number)} {verb}: {sender.status}, "
        f"providers {', '.join(sender.provider_codes) or '-'}"
    )


@sender_numbers_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def list_command(as_json: bool) -> None:
    """List sender numbers with their status and providers."""
    rows = [
        {
            "number": sender.number,
            "label": sender.label,
            "category": sender.category,
            "status": sender.status,
            "verified_by": sender.verified_by,
            "verified_at": sender.verified_at.isoformat() if sender.verified_at else None,
            "providers": [
                {"code": row.provider_code, "listed_by_vendor": row.usable}
                for row in sender.providers
            ],
        }
        for sender in services.all_numbers()
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        providers = ", ".join(
            p["code"] + ("" if p["listed_by_vendor"] else " (delisted)") for p in row["providers"]
        )
        click.echo(
            f"{services.display(row['number']):<15} {row['status']:<9} "
            f"{providers or '-'}  {row['label']}".rstrip()
        )


@sender_numbers_group.command("sync")
@click.option("--provider", "code", required=True, metavar="CODE", help="The provider to sync.")
@with_appcontext
def sync_command(code: str) -> None:
    """Import the numbers the provider's vendor lists (SOLAPI), verified by the vendor."""
    provider = provider_services.get_by_code(code)
    if provider is None:
        raise click.ClickException(f"no provider with code {code!r}")
    try:
        report = services.sync_from_provider(provider, actor=CLI_ACTOR)
    except services.SyncError as exc:
        raise _fail(exc) from exc
    db.session.commit()
    click.echo(
        f"synced {code}: {len(report.added)} new, {len(report.verified)} verified now, "
        f"{len(report.unchanged)} unchanged, {len(report.delisted)} no longer listed"
    )
