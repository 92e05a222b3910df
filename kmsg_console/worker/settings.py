"""Per-provider delivery settings: AlimTalk fallback rules and the delivery-report webhook.

The webhook secret is encrypted like provider credentials (AES-GCM bound to the provider
and field) and is shown only once, when it is generated.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app

from kmsg_console.audit.services import diff, record_audit
from kmsg_console.extensions import db
from kmsg_console.providers.models import Provider
from kmsg_console.worker.models import DeliveryProviderSetting

#: Built-in non-Kakao-user rules per vendor (K-Message's, §3.3): codes, texts.
DEFAULT_RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "solapi": (("3104", "3107"), ("미사용자",)),
    "iwinv": ((), ("카카오&미사용",)),
    "aligo": ((), ("미사용자",)),
    "sandbox": ((), ()),
}
DEFAULT_TOLERANCE_SECONDS = 300
TOLERANCE_RANGE = (30, 3600)


@dataclass(frozen=True)
class FallbackRules:
    enabled: bool
    codes: tuple[str, ...]
    texts: tuple[str, ...]


def _purpose(provider: Provider) -> str:
    return f"provider:{provider.code}:webhook_secret"


def setting_for(provider: Provider) -> DeliveryProviderSetting | None:
    return db.session.get(DeliveryProviderSetting, provider.id)


def fallback_rules(provider: Provider) -> FallbackRules:
    """The provider's saved rules, or its vendor's built-in ones."""
    row = setting_for(provider)
    if row is None:
        codes, texts = DEFAULT_RULES.get(provider.vendor, ((), ()))
        return FallbackRules(True, codes, texts)
    return FallbackRules(
        row.fallback_enabled, tuple(row.fallback_codes or ()), tuple(row.fallback_texts or ())
    )


def webhook_secret(provider: Provider) -> str | None:
    """The decrypted webhook secret (only for verifying signatures), or None."""
    row = setting_for(provider)
    if row is None or not row.webhook_secret_enc:
        return None
    return current_app.config["KEYRING"].decrypt(row.webhook_secret_enc, _purpose(provider))


def tolerance_seconds(provider: Provider) -> int:
    row = setting_for(provider)
    return row.webhook_tolerance_seconds if row is not None else DEFAULT_TOLERANCE_SECONDS


def generate_secret() -> str:
    return secrets.token_urlsafe(32)


def save_settings(
    provider: Provider,
    *,
    fallback_enabled: bool,
    codes: list[str],
    texts: list[str],
    tolerance: int,
    new_secret: str | None = None,
    remove_secret: bool = False,
    actor,
) -> None:
    """Save the provider's delivery settings (audited; the secret itself never is)."""
    row = setting_for(provider)
    if row is None:
        default_codes, default_texts = DEFAULT_RULES.get(provider.vendor, ((), ()))
        row = DeliveryProviderSetting(
            provider_id=provider.id,
            fallback_enabled=True,
            fallback_codes=list(default_codes),
            fallback_texts=list(default_texts),
            webhook_tolerance_seconds=DEFAULT_TOLERANCE_SECONDS,
        )
        db.session.add(row)
    before = {
        "fallback_enabled": row.fallback_enabled,
        "fallback_codes": list(row.fallback_codes or []),
        "fallback_texts": list(row.fallback_texts or []),
        "tolerance_seconds": row.webhook_tolerance_seconds,
        "webhook": bool(row.webhook_secret_enc),
    }
    row.fallback_enabled = fallback_enabled
    row.fallback_codes = _clean(codes)
    row.fallback_texts = _clean(texts)
    row.webhook_tolerance_seconds = tolerance
    if remove_secret:
        row.webhook_secret_enc = None
    elif new_secret:
        row.webhook_secret_enc = current_app.config["KEYRING"].encrypt(
            new_secret, _purpose(provider)
        )
    db.session.flush()
    after = {
        "fallback_enabled": row.fallback_enabled,
        "fallback_codes": row.fallback_codes,
        "fallback_texts": row.fallback_texts,
        "tolerance_seconds": row.webhook_tolerance_seconds,
        "webhook": bool(row.webhook_secret_enc),
    }
    details = diff(before, after)
    if new_secret and not remove_secret:
        details["credentials_replaced"] = ["webhook_secret"]  # the name only, never the value
    record_audit(
        "provider.delivery_update",
        actor=actor,
        target_type="provider",
        target_id=provider.code,
        details=details,
    )


def _clean(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))
