"""``kmsg-console providers add|list|test`` and ``routes set|list``: scripted set-up.

A provider added here goes through the console's own provider form and services, so it is
validated, encrypted and audited exactly like one added in the console; the audit log names
the command line (``cli``) as the actor.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

import click
from flask.cli import with_appcontext
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict

from kmsg_console.extensions import db
from kmsg_console.messaging.types import MessageType
from kmsg_console.providers import services
from kmsg_console.providers.adapters.config import ConfigField, ProviderConfigError
from kmsg_console.providers.adapters.registry import ADAPTERS
from kmsg_console.providers.forms import config_values, provider_form_class
from kmsg_console.providers.models import Provider


class _CommandLine:
    """The actor the audit log records for changes made here (nobody signs in to a shell)."""

    id = None
    email = "cli"  # the label ``api-keys create`` records too


CLI_ACTOR = _CommandLine()

#: The routing form's rows: the default route, then one per message type.
ROUTE_NAMES = [services.DEFAULT_ROUTE] + [t.value for t in services.ROUTED_TYPES]
#: The console's routing form holds a primary and two failovers; a longer chain set here
#: would be cut short the next time an operator saves routing there.
MAX_ROUTE_LENGTH = 3


def _dest(field: str) -> str:
    """The option a vendor setting is given with; every vendor's sender is ``--default-from``."""
    return "default_from" if field in services.SENDER_SETTINGS else field


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _vendor_label(vendor: str) -> str:
    return str(ADAPTERS[vendor].label)


def _settings_by_option() -> dict[str, dict[str, ConfigField]]:
    table: dict[str, dict[str, ConfigField]] = {}
    for vendor, adapter in ADAPTERS.items():
        for spec in adapter.CONFIG_FIELDS:
            table.setdefault(_dest(spec.name), {})[vendor] = spec
    return table


#: option destination -> vendor -> the vendor's setting behind it, in declaration order.
SETTING_OPTIONS = _settings_by_option()


def _option_help(dest: str, by_vendor: Mapping[str, ConfigField]) -> str:
    if dest == "default_from":
        lead = "Registered sender number used when a message names none"
        owners = ", ".join(f"{_vendor_label(v)} {spec.name}" for v, spec in by_vendor.items())
        return f"{lead} ({owners})."
    parts = []
    for vendor, spec in by_vendor.items():
        notes = [n for n, on in (("secret", spec.secret), ("required", spec.required)) if on]
        if spec.kind == "url" and spec.default:
            notes.append(f"default {spec.default}")
        parts.append(
            f"{_vendor_label(vendor)}: {spec.label}" + (f" ({', '.join(notes)})" if notes else "")
        )
    text = "; ".join(parts) + "."
    if len(by_vendor) == 1 and next(iter(by_vendor.values())).help:
        spec = next(iter(by_vendor.values()))
        text += " " + spec.help + (f" {spec.example}" if spec.example else "")
    return text


def _setting_options(command):
    """One option per vendor setting, generated from the adapters' declared config fields."""
    for dest, by_vendor in reversed(SETTING_OPTIONS.items()):
        spec = next(iter(by_vendor.values()))
        help_text = _option_help(dest, by_vendor)
        flag = _flag(dest)
        if spec.kind == "bool":
            option = click.option(f"{flag}/--no-{flag[2:]}", dest, default=None, help=help_text)
        else:
            metavar = {"url": "URL", "int": "N"}.get(spec.kind, "TEXT")
            if dest == "default_from":
                metavar = "NUMBER"
            option = click.option(flag, dest, metavar=metavar, help=help_text)
        command = option(command)
    return command


@click.group("providers")
def providers_group() -> None:
    """Add, list and test providers."""


@providers_group.command("add")
@click.argument("vendor", metavar="VENDOR", type=click.Choice(list(ADAPTERS)))
@click.argument("code")
@click.option("--name", help="Display name (default: the code).")
@click.option(
    "--enabled/--disabled",
    default=None,
    help="Whether routing may use it (default: enabled; with --update: unchanged).",
)
@click.option(
    "--update",
    is_flag=True,
    help="Change CODE if it exists (only the options given: secrets not given are kept, an "
    "empty value clears an optional setting), else add it. Without it an existing CODE is an "
    "error.",
)
@click.option(
    "--secrets-stdin",
    is_flag=True,
    help="Read the secret settings from standard input, one NAME=VALUE per line "
    "(NAME as the option without dashes, e.g. api-secret).",
)
@_setting_options
@with_appcontext
def providers_add(
    vendor: str,
    code: str,
    name: str | None,
    enabled: bool | None,
    update: bool,
    secrets_stdin: bool,
    **options: Any,
) -> None:
    """Add a VENDOR provider (solapi, iwinv, aligo or sandbox) whose id is CODE.

    CODE is what routing, send logs and the API name it by: 2-40 lower-case letters,
    digits and hyphens, never changed later. The settings are each vendor's own (the
    options below name the vendors that use them); they are checked by the console's
    provider form and stored as the console stores them: secret settings encrypted, never
    printed again. The change is audited with the actor "cli".

    Secrets given as options end up in the shell history and the process list; with
    --secrets-stdin they are read from standard input instead:

    \b
      printf 'api-secret=%s\\n' "$SOLAPI_SECRET" | kmsg-console providers add \\
        solapi solapi-main --api-key "$SOLAPI_KEY" --default-from 0212345678 \\
        --secrets-stdin
    """
    given = {dest: value for dest, value in options.items() if value is not None}
    if secrets_stdin:
        for dest, value in _read_secrets(sys.stdin, vendor).items():
            if dest in given:
                raise click.UsageError(f"{_flag(dest)} is given both as an option and on stdin")
            given[dest] = value
    values = _vendor_values(vendor, given)
    existing = services.get_by_code(code)
    if existing is not None and not update:
        raise click.ClickException(
            f"a provider with code {code!r} already exists; pass --update to change it"
        )
    if existing is not None and existing.vendor != vendor:
        raise click.ClickException(
            f"provider {code!r} is a {_vendor_label(existing.vendor)} provider; "
            "a provider's vendor never changes"
        )
    verb = "add" if existing is None else "update"
    form, errors = _validated_form(
        vendor, code, existing, name=name, enabled=enabled, values=values
    )
    if errors:
        raise click.ClickException(_form_errors(f"cannot {verb} provider {code!r}", errors))
    try:
        provider = services.save_provider(
            existing,
            vendor=vendor,
            code=form.code.data,
            name=form.name.data,
            values=config_values(form, vendor),
            enabled=form.enabled.data,
            actor=CLI_ACTOR,
        )
    except services.ProviderError as exc:
        db.session.rollback()
        raise click.ClickException(
            f"cannot {verb} provider {code!r}: {_service_error(exc)}"
        ) from exc
    db.session.commit()
    stored = ", ".join(sorted(provider.secrets)) or "none"
    done = "Added" if existing is None else "Updated"
    click.echo(
        f"{done} {_vendor_label(vendor)} provider {provider.code} ({provider.name}), "
        f"{'enabled' if provider.enabled else 'disabled'}; secrets stored encrypted: {stored}."
    )


def _read_secrets(stream: TextIO, vendor: str) -> dict[str, str]:
    """``NAME=VALUE`` lines naming ``vendor``'s secret settings; blank and ``#`` lines skipped.

    Errors name the line, never its text: a malformed line may be the secret itself.
    """
    own = {_dest(spec.name): spec for spec in ADAPTERS[vendor].CONFIG_FIELDS}
    secret_dests = [dest for dest, spec in own.items() if spec.secret]
    accepted = ", ".join(_flag(d)[2:] for d in secret_dests) or "none"
    values: dict[str, str] = {}
    for number, line in enumerate(stream.read().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        raw_name, separator, value = line.partition("=")
        dest = raw_name.strip().replace("-", "_")
        if not separator or dest not in own:
            raise click.UsageError(
                f"line {number} of stdin is not NAME=VALUE with a secret setting's name "
                f"({_vendor_label(vendor)} takes: {accepted})"
            )
        if dest not in secret_dests:
            raise click.UsageError(
                f"{_flag(dest)[2:]} (stdin line {number}) is not a secret setting of "
                f"{_vendor_label(vendor)}; give it as {_flag(dest)}"
            )
        if dest in values:
            raise click.UsageError(f"{_flag(dest)[2:]} is given twice on stdin")
        values[dest] = value
    return values


def _vendor_values(vendor: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` option values keyed by ``vendor``'s own setting names."""
    own = {
        dest: by_vendor[vendor]
        for dest, by_vendor in SETTING_OPTIONS.items()
        if vendor in by_vendor
    }
    foreign = [dest for dest in given if dest not in own]
    if foreign:
        takes = ", ".join(_flag(d) for d in own) or "none"
        raise click.UsageError(
            f"{_flag(foreign[0])} is not a setting of {_vendor_label(vendor)} "
            f"(its settings: {takes})"
        )
    return {own[dest].name: value for dest, value in given.items()}


def _validated_form(
    vendor: str,
    code: str,
    existing: Provider | None,
    *,
    name: str | None,
    enabled: bool | None,
    values: Mapping[str, Any],
) -> tuple[Any, dict[str, list[str]]]:
    """The console's add (or edit) form for ``vendor`` filled as its page would post it,
    validated, and its errors by form field."""
    if existing is None:
        current: dict[str, Any] = {
            spec.name: spec.default for spec in ADAPTERS[vendor].CONFIG_FIELDS
        }
        current_name, current_enabled = code, True
    else:
        # Secrets come back as the mask, which the service reads as "keep the stored value".
        current = services.form_values(existing)
        current_name, current_enabled = existing.name, existing.enabled
    current.update(values)
    formdata = MultiDict({"code": code, "name": current_name if name is None else name})
    if current_enabled if enabled is None else enabled:
        formdata["enabled"] = "y"  # a browser posts a ticked box only
    for spec in ADAPTERS[vendor].CONFIG_FIELDS:
        value = current.get(spec.name)
        if spec.kind == "bool":
            if value:
                formdata[f"cfg_{spec.name}"] = "y"
        elif value is not None:
            formdata[f"cfg_{spec.name}"] = str(value)
    form_class = provider_form_class(vendor, is_edit=existing is not None)
    # The form's messages in English, like every other message of the command line.
    with force_locale("en"):
        form = form_class(formdata=formdata, meta={"csrf": False})
        form.validate()
        errors = {
            field: [str(message) for message in messages] for field, messages in form.errors.items()
        }
    return form, errors


def _option_for(form_field: str) -> str:
    if form_field == "code":
        return "CODE"
    if form_field in ("name", "enabled"):
        return _flag(form_field)
    return _flag(_dest(form_field.removeprefix("cfg_")))


def _form_errors(lead: str, errors: Mapping[str, list[str]]) -> str:
    lines = [lead + ":"]
    for field, messages in errors.items():
        lines.extend(f"  {_option_for(field)}: {message}" for message in messages)
    return "\n".join(lines)


def _service_error(exc: services.ProviderError) -> str:
    if exc.code == "code_taken":
        return "the code is already used; pass --update to change that provider"
    detail = exc.detail.removeprefix(f"{exc.field}: ") if exc.detail else exc.code
    if exc.field in ("code", "name", "vendor"):
        return f"{exc.field}: {detail}"
    return f"{_flag(_dest(exc.field))}: {detail}"


@providers_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@with_appcontext
def providers_list(as_json: bool) -> None:
    """List providers and which of their secrets are set (never the secrets themselves)."""
    providers = services.all_providers()
    if as_json:
        click.echo(json.dumps([_provider_json(p) for p in providers], indent=2, ensure_ascii=False))
        return
    rows = [
        [
            p.code,
            p.vendor,
            p.name,
            "yes" if p.enabled else "no",
            " ".join(_base_urls(p).values()) or "-",
            ", ".join(sorted(p.secrets)) or "-",
        ]
        for p in providers
    ]
    _echo_table(["CODE", "VENDOR", "NAME", "ENABLED", "BASE URL", "SECRETS SET"], rows)


def _base_urls(provider: Provider) -> dict[str, str]:
    fields = ADAPTERS[provider.vendor].CONFIG_FIELDS if provider.vendor in ADAPTERS else ()
    return {
        spec.name: str(provider.settings[spec.name])
        for spec in fields
        if spec.kind == "url" and provider.settings.get(spec.name)
    }


def _provider_json(provider: Provider) -> dict[str, Any]:
    secret_names = services.secret_fields(provider.vendor) if provider.vendor in ADAPTERS else set()
    return {
        "code": provider.code,
        "vendor": provider.vendor,
        "name": provider.name,
        "enabled": provider.enabled,
        # Only the settings the console shows in clear; secrets live apart, encrypted.
        "settings": dict(provider.settings),
        "secrets": {
            name: name in provider.secrets for name in sorted(secret_names | set(provider.secrets))
        },
        "health": {
            "ok": provider.health_ok,
            "checked_at": (
                provider.health_checked_at.isoformat() if provider.health_checked_at else None
            ),
            "latency_ms": provider.health_latency_ms,
            "error": provider.health_error,
            "balance": provider.balance,
        },
    }


def _width(text: str) -> int:
    # Korean names take two terminal columns per syllable.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _echo_table(header: list[str], rows: Iterable[list[str]]) -> None:
    rows = [header, *rows]
    widths = [max(_width(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        cells = [cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)]
        click.echo("  ".join(cells).rstrip())


@providers_group.command("test")
@click.argument("code")
@with_appcontext
def providers_test(code: str) -> None:
    """Run the console's "Test connection" on CODE: the vendor's health check and balance.

    Exits with status 1 when the check fails. The result is stored on the provider and
    audited, as in the console.
    """
    provider = _provider_or_fail(code)
    try:
        result = services.test_connection(provider, actor=CLI_ACTOR)
    except ProviderConfigError as exc:
        db.session.rollback()
        raise click.ClickException(f"cannot test provider {code!r}: {exc}") from exc
    db.session.commit()
    latency = f"{result['latency_ms']} ms" if result["latency_ms"] is not None else "no answer"
    if result["healthy"]:
        balance = f", balance {result['balance']}" if result["balance"] else ""
        click.echo(f"{provider.code}: healthy ({latency}{balance})")
        return
    click.echo(f"{provider.code}: failing ({latency}): {provider.health_error}")
    first = result["error"].message if result["error"] is not None else None
    for issue in result["issues"]:
        if issue != first:
            click.echo(f"  also: {issue}")
    raise SystemExit(1)


def _provider_or_fail(code: str) -> Provider:
    provider = services.get_by_code(code)
    if provider is None:
        raise click.ClickException(
            f"no provider with code {code!r} (kmsg-console providers list shows them)"
        )
    return provider


@click.group("routes")
def routes_group() -> None:
    """Set and show which providers each message type goes through."""


@routes_group.command("set")
@click.argument("route", metavar="TYPE", type=click.Choice(ROUTE_NAMES, case_sensitive=False))
@click.argument("codes", metavar="CODE...", nargs=-1, required=True)
@with_appcontext
def routes_set(route: str, codes: tuple[str, ...]) -> None:
    """Route messages of TYPE to the providers CODE..., first the primary, then failovers.

    TYPE is DEFAULT, SMS, LMS, MMS, ALIMTALK or FRIENDTALK. The next provider is tried only
    when the previous one proves it did not accept the message. DEFAULT serves a type
    without a route of its own (its first provider). At most three providers, as in the
    console's routing form; the other types' routes are left as they are. Audited with the
    actor "cli".
    """
    if len(codes) > MAX_ROUTE_LENGTH:
        raise click.ClickException(
            f"at most {MAX_ROUTE_LENGTH} providers per route (a primary and two failovers)"
        )
    repeated = sorted({code for code in codes if codes.count(code) > 1})
    if repeated:
        raise click.ClickException(f"provider listed twice in the route: {', '.join(repeated)}")
    known = {p.code: p for p in services.all_providers()}
    if route != services.DEFAULT_ROUTE:
        for code in codes:
            if code in known and not _sends(known[code], MessageType(route)):
                raise click.ClickException(
                    f"provider {code!r} ({_vendor_label(known[code].vendor)}) cannot send "
                    f"{route} with its settings"
                )
    try:
        services.save_routes({route: list(codes)}, actor=CLI_ACTOR)
    except services.ProviderError as exc:
        db.session.rollback()
        if exc.code == "unknown_provider":
            message = f"unknown provider in the {route} route: {exc.detail} (see providers list)"
        else:
            message = f"cannot set the {route} route: {exc.detail or exc.code}"
        raise click.ClickException(message) from exc
    db.session.commit()
    click.echo(f"{route}: {' -> '.join(codes)}")
    for code in codes:
        if not known[code].enabled:
            click.echo(f"note: {code} is disabled; routing skips it until it is enabled", err=True)


def _sends(provider: Provider, kind: MessageType) -> bool:
    """Whether ``provider``'s adapter, built from its saved settings, sends ``kind``."""
    try:
        adapter = services.adapter_for(provider)
    except ProviderConfigError as exc:
        raise click.ClickException(f"provider {provider.code!r} is not usable: {exc}") from exc
    return kind in adapter.supported_types


#: What an empty route means: a type follows DEFAULT; without DEFAULT the first provider
#: (in the order they were added) able to send the type is used.
_UNROUTED = {False: "(DEFAULT)", True: "(first provider able to send)"}


@routes_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@with_appcontext
def routes_list(as_json: bool) -> None:
    """Show the providers of every route, in failover order."""
    saved = services.routes()
    table = {route: saved.get(route, []) for route in ROUTE_NAMES}
    if as_json:
        click.echo(json.dumps(table, indent=2))
        return
    rows = [
        [route, " -> ".join(codes) if codes else _UNROUTED[route == services.DEFAULT_ROUTE]]
        for route, codes in table.items()
    ]
    _echo_table(["TYPE", "PROVIDERS"], rows)
