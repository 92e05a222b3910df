"""Providers: saving typed configs with encrypted secrets, health checks and routing."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import current_app

from kmsg_console.audit.services import diff, record_audit
from kmsg_console.events import outbox
from kmsg_console.extensions import db
from kmsg_console.messaging.phone import InvalidPhoneNumber, normalize_sender
from kmsg_console.messaging.router import SANDBOX_VENDOR, Router
from kmsg_console.messaging.types import MessageType
from kmsg_console.orm import utcnow
from kmsg_console.providers.adapters.base import BaseAdapter
from kmsg_console.providers.adapters.config import ProviderConfigError, Timeouts, parse_config
from kmsg_console.providers.adapters.registry import ADAPTERS, build_adapter
from kmsg_console.providers.adapters.sandbox import SANDBOX_DEFAULT_SENDER
from kmsg_console.providers.models import Provider, RoutingRule

#: A keyword argument left out: the saved value stays.
KEEP = object()
#: What a secret field shows once saved. Submitting it back unchanged keeps the stored value.
MASK = "••••••••"
DEFAULT_ROUTE = "DEFAULT"
SANDBOX_CODE = "sandbox"
#: Settings holding the sender number a provider uses when a message names none.
SENDER_SETTINGS = ("default_from", "sender_number", "sender")
ROUTED_TYPES = (
    MessageType.SMS,
    MessageType.LMS,
    MessageType.MMS,
    MessageType.ALIMTALK,
    MessageType.FRIENDTALK,
)


class ProviderError(ValueError):
    """A provider change that cannot be saved; ``field`` names the form field at fault."""

    def __init__(self, field: str, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.field = field
        self.code = code
        self.detail = detail


def _purpose(provider_code: str, field: str) -> str:
    return f"provider:{provider_code}:{field}"


def secret_fields(vendor: str) -> set[str]:
    return {f.name for f in ADAPTERS[vendor].CONFIG_FIELDS if f.secret}


def decrypted_config(provider: Provider) -> dict[str, Any]:
    """The full config of ``provider`` with secrets decrypted (only for building adapters)."""
    keyring = current_app.config["KEYRING"]
    config = dict(provider.settings)
    for name, token in provider.secrets.items():
        config[name] = keyring.decrypt(token, _purpose(provider.code, name))
    return config


def form_values(provider: Provider) -> dict[str, Any]:
    """What the edit form shows: settings as saved, secrets as the mask."""
    values = dict(provider.settings)
    for name in provider.secrets:
        values[name] = MASK
    return values


def save_provider(
    provider: Provider | None,
    *,
    vendor: str,
    code: str,
    name: str,
    values: Mapping[str, Any],
    enabled: bool,
    actor,
    duplicate_window_minutes: int | None | object = KEEP,
    balance_alert_below: int | None | object = KEEP,
) -> Provider:
    """Create or update a provider; secrets are encrypted and an unchanged mask keeps them.

    ``duplicate_window_minutes``: the provider's own duplicate-send window (None: the
    console-wide one); left as it is when not given.
    """
    if vendor not in ADAPTERS:
        raise ProviderError("vendor", "unknown_vendor")
    fields = ADAPTERS[vendor].CONFIG_FIELDS
    secrets_named = secret_fields(vendor)
    creating = provider is None
    if creating:
        code = code.strip().lower()
        if db.session.scalar(sa.select(Provider.id).where(Provider.code == code)) is not None:
            raise ProviderError("code", "code_taken")
        provider = Provider(code=code, vendor=vendor, settings={}, secrets={})
    keyring = current_app.config["KEYRING"]
    current_secrets = {} if creating else decrypted_config(provider)
    merged: dict[str, Any] = {}
    for spec in fields:
        value = values.get(spec.name)
        if spec.secret and (
            value == MASK or (value in (None, "") and spec.name in current_secrets)
        ):
            value = current_secrets.get(spec.name)
        merged[spec.name] = value
    try:
        parsed = parse_config(fields, merged)
    except ProviderConfigError as exc:
        raise ProviderError(exc.field, "invalid", str(exc)) from exc
    for field in SENDER_SETTINGS:
        # Refused here rather than by the vendor on every send; kept as domestic digits,
        # the form every vendor and the sender-number rules expect.
        if parsed.get(field):
            try:
                parsed[field] = normalize_sender(parsed[field])
            except InvalidPhoneNumber as exc:
                raise ProviderError(field, "invalid", str(exc)) from exc
    before = {
        "name": provider.name,
        "enabled": provider.enabled,
        "duplicate_window_minutes": provider.duplicate_window_minutes,
        "balance_alert_below": provider.balance_alert_below,
        **(provider.settings or {}),
    }
    old_tokens = dict(provider.secrets or {})
    provider.name = name.strip() or provider.code
    provider.enabled = enabled
    if duplicate_window_minutes is not KEEP:
        provider.duplicate_window_minutes = duplicate_window_minutes  # type: ignore[assignment]
    if balance_alert_below is not KEEP:
        provider.balance_alert_below = balance_alert_below  # type: ignore[assignment]
    provider.settings = {
        k: v for k, v in parsed.items() if k not in secrets_named and v is not None
    }
    new_tokens: dict[str, str] = {}
    changed_secrets = []
    for field in sorted(secrets_named):
        value = parsed.get(field)
        if value is None:
            continue
        if current_secrets.get(field) == value and field in old_tokens:
            new_tokens[field] = old_tokens[field]
        else:
            new_tokens[field] = keyring.encrypt(str(value), _purpose(provider.code, field))
            changed_secrets.append(field)
    provider.secrets = new_tokens
    if creating:
        db.session.add(provider)
    db.session.flush()
    after = {
        "name": provider.name,
        "enabled": provider.enabled,
        "duplicate_window_minutes": provider.duplicate_window_minutes,
        "balance_alert_below": provider.balance_alert_below,
        **provider.settings,
    }
    details = diff(before, after)
    if changed_secrets:
        details["credentials_replaced"] = changed_secrets  # names only, never values
    record_audit(
        "provider.create" if creating else "provider.update",
        actor=actor,
        target_type="provider",
        target_id=provider.code,
        details=details,
    )
    _register_default_sender(provider, actor)
    forget_adapters()
    from kmsg_console.kakao_channels.services import register_configured

    register_configured(provider, actor=actor)  # the Kakao channel its settings name
    return provider


def set_duplicate_window(
    provider: Provider, minutes: int | None, *, actor=None, actor_label: str | None = None
) -> None:
    """Give ``provider`` its own duplicate-send window (None: the console-wide one); audited."""
    before = provider.duplicate_window_minutes
    if before == minutes:
        return
    provider.duplicate_window_minutes = minutes
    record_audit(
        "provider.update",
        actor=actor,
        actor_label=actor_label,
        target_type="provider",
        target_id=provider.code,
        details={
            "before": {"duplicate_window_minutes": before},
            "after": {"duplicate_window_minutes": minutes},
        },
    )


def _register_default_sender(provider: Provider, actor) -> None:
    """The default sender saved with a provider becomes a verified sender number of it: the
    admin (or the command line) saving it asserts the vendor registered it. A number
    rejected or blocked under Sender numbers is refused instead."""
    # Imported here: the sender-number services read providers through this module.
    from kmsg_console.sender_numbers import services as sender_numbers

    try:
        sender_numbers.register_default_sender(provider, actor=actor)
    except sender_numbers.SenderNumberError as exc:
        field = next((f for f in SENDER_SETTINGS if provider.settings.get(f)), SENDER_SETTINGS[0])
        raise ProviderError(field, "sender_refused", str(exc)) from exc


def set_enabled(provider: Provider, enabled: bool, *, actor) -> None:
    if provider.enabled == enabled:
        return
    provider.enabled = enabled
    record_audit(
        "provider.enable" if enabled else "provider.disable",
        actor=actor,
        target_type="provider",
        target_id=provider.code,
        details={"before": {"enabled": not enabled}, "after": {"enabled": enabled}},
    )
    forget_adapters()


# -- adapters -----------------------------------------------------------------------------

_adapter_cache: dict[tuple[int, str], BaseAdapter] = {}
_cache_lock = threading.Lock()


def adapter_for(provider: Provider) -> BaseAdapter:
    """The adapter of ``provider``; reused while the provider is unchanged (pooled sessions)."""
    key = (provider.id, provider.updated_at.isoformat() if provider.updated_at else "")
    with _cache_lock:
        adapter = _adapter_cache.get(key)
        if adapter is None:
            for old_key in [k for k in _adapter_cache if k[0] == provider.id]:
                _adapter_cache.pop(old_key).close()
            adapter = build_adapter(
                provider.vendor,
                provider.code,
                decrypted_config(provider),
                timeouts=Timeouts(
                    connect=current_app.config["PROVIDER_CONNECT_TIMEOUT"],
                    read=current_app.config["PROVIDER_READ_TIMEOUT"],
                ),
            )
            _adapter_cache[key] = adapter
    return adapter


def enabled_providers() -> list[Provider]:
    return list(
        db.session.scalars(
            sa.select(Provider).where(Provider.enabled.is_(True)).order_by(Provider.id)
        )
    )


def all_providers() -> list[Provider]:
    return list(db.session.scalars(sa.select(Provider).order_by(Provider.id)))


def get_by_code(code: str) -> Provider | None:
    return db.session.scalar(sa.select(Provider).where(Provider.code == code))


# -- health -------------------------------------------------------------------------------


def test_connection(provider: Provider, *, actor) -> dict[str, Any]:
    """Run the vendor's health check (and balance where it has one); store and audit it."""
    adapter = adapter_for(provider)
    health = adapter.health_check()
    balance = None
    if health.healthy and getattr(adapter, "supports_balance", False):
        outcome = adapter.get_balance()
        if outcome.ok:
            balance = f"{outcome.value.amount} {outcome.value.currency or ''}".strip()
    was_healthy = provider.health_ok
    provider.health_ok = health.healthy
    provider.health_checked_at = utcnow()
    provider.health_latency_ms = health.latency_ms
    provider.health_error = None
    if health.error is not None:
        text = f"{health.error.code.value}: {health.error.vendor_code or ''} {health.error.message}"
        provider.health_error = text.strip()[:255]
    provider.balance = balance
    db.session.add_all(outbox.provider_health(provider, was_healthy))
    record_audit(
        "provider.test",
        actor=actor,
        target_type="provider",
        target_id=provider.code,
        outcome="success" if health.healthy else "failure",
        details={"latency_ms": health.latency_ms, "error": provider.health_error},
    )
    return {
        "healthy": health.healthy,
        "latency_ms": health.latency_ms,
        "error": health.error,
        "balance": balance,
        "issues": list(health.issues),
    }


# -- routing ------------------------------------------------------------------------------


def routes() -> dict[str, list[str]]:
    """Message type (and ``DEFAULT``) -> provider codes in failover order."""
    return {
        rule.message_type: list(rule.provider_codes)
        for rule in db.session.scalars(sa.select(RoutingRule))
    }


def save_routes(new_routes: Mapping[str, list[str]], *, actor) -> None:
    """Replace the routing table; unknown provider codes are refused.

    So is a sandbox after a live provider: it delivers nothing, so a message failing over
    to it would be lost while looking sent (an OTP's code then readable in the console).
    """
    vendors = {p.code: p.vendor for p in all_providers()}
    for route, codes in new_routes.items():
        unknown = [code for code in codes if code not in vendors]
        if unknown:
            raise ProviderError(route, "unknown_provider", ", ".join(unknown))
        first_live = next((code for code in codes if vendors[code] != SANDBOX_VENDOR), None)
        after = codes[codes.index(first_live) + 1 :] if first_live else []
        if any(vendors[code] == SANDBOX_VENDOR for code in after):
            raise ProviderError(
                route,
                "sandbox_after_live",
                f"the sandbox cannot follow a live provider ({first_live}): it delivers nothing",
            )
    before = routes()
    for route, codes in new_routes.items():
        rule = db.session.get(RoutingRule, route) or RoutingRule(message_type=route)
        rule.provider_codes = list(dict.fromkeys(codes))
        rule.updated_at = utcnow()
        db.session.add(rule)
    db.session.flush()
    record_audit(
        "routing.update",
        actor=actor,
        target_type="routing",
        target_id="all",
        details=diff(before, routes()),
    )


#: app -> (configuration fingerprint, router built from it); per app, as each has its database.
_router_cache: weakref.WeakKeyDictionary[Any, tuple[tuple, Router]] = weakref.WeakKeyDictionary()


def _configuration_fingerprint() -> tuple:
    """Every provider's and routing rule's identity and last change, in one light query.

    Every change to a provider (settings, credentials, enabled, health) moves its
    ``updated_at``, and every routing change moves the rule's; an added row adds an entry.
    Comparing whole fingerprints (not a maximum) also catches a change stamped by a host
    whose clock runs behind.
    """
    # A fixed statement asked on every send: handed to the driver as it is (no statement to
    # build, no cache key, no ORM execution). Values stay as the driver returns them, which
    # is all an equality test needs.
    rows = db.session.connection().exec_driver_sql(_FINGERPRINT_SQL)
    return tuple(sorted((kind, str(key), str(at)) for kind, key, at in rows))


_FINGERPRINT_SQL = (
    "SELECT 'p', CAST(id AS VARCHAR(20)), updated_at FROM provider "
    "UNION ALL SELECT 'r', message_type, updated_at FROM routing_rule"
)


def build_router() -> Router:
    """A router over the enabled providers with the saved routing table.

    Sends ask for one on every message, so the router (and its adapters with their pooled
    connections) is reused while the configuration's fingerprint is unchanged: one small
    query instead of loading every provider and the routing table. A change saved by any
    process is seen by the next send here.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    fingerprint = _configuration_fingerprint()
    cached = _router_cache.get(app)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    providers = {p.code: adapter_for(p) for p in enabled_providers()}
    table = routes()
    default = (table.get(DEFAULT_ROUTE) or [None])[0]
    by_type = {
        MessageType(route): codes for route, codes in table.items() if route != DEFAULT_ROUTE
    }
    router = Router(providers, by_type=by_type, default_provider_id=default)
    _router_cache[app] = (fingerprint, router)
    return router


def forget_adapters() -> None:
    """Drop every cached adapter and router (the next send builds them from the database).

    For changes the fingerprint cannot see, such as the provider timeouts in the app's config.
    """
    with _cache_lock:
        _adapter_cache.clear()
    _router_cache.clear()


def ensure_sandbox_provider() -> Provider:
    """The always-available sandbox provider, created and routed on an empty install."""
    provider = get_by_code(SANDBOX_CODE)
    if provider is None:
        provider = Provider(
            code=SANDBOX_CODE,
            name="Sandbox",
            vendor="sandbox",
            settings={"default_from": SANDBOX_DEFAULT_SENDER},
            secrets={},
        )
        db.session.add(provider)
        db.session.flush()
        record_audit(
            "provider.create",
            actor_label="system",
            target_type="provider",
            target_id=SANDBOX_CODE,
            details={"after": {"vendor": "sandbox", "default_from": SANDBOX_DEFAULT_SENDER}},
        )
    if db.session.get(RoutingRule, DEFAULT_ROUTE) is None:
        db.session.add(
            RoutingRule(
                message_type=DEFAULT_ROUTE, provider_codes=[SANDBOX_CODE], updated_at=utcnow()
            )
        )
    db.session.flush()
    # Imported here: the sender-number services read providers through this module.
    from kmsg_console.sender_numbers.services import ensure_sandbox_sender

    ensure_sandbox_sender(provider)
    db.session.flush()
    return provider
