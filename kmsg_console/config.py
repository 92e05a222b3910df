"""Configuration: safe defaults, then ``KMSG_*`` environment variables, then test overrides.

Every setting the console reads is listed in ``SETTINGS`` with its type and default, so the
README's configuration table and the code cannot drift apart silently (a test compares them).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


@dataclass(frozen=True)
class Setting:
    """One ``KMSG_*`` environment variable."""

    name: str
    default: Any
    parse: Callable[[str], Any] = str
    help: str = ""


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATABASE_URL", None, str, "SQLAlchemy URL; default is a SQLite file in the instance folder"
    ),
    Setting(
        "DB_POOL_SIZE",
        10,
        int,
        "Database connections kept per engine and process (10 more may open under bursts)",
    ),
    Setting("REDIS_URL", None, str, "Redis URL for shared throttle counters (optional)"),
    Setting("REDIS_PREFIX", "kmsg:", str, "Prefix of every Redis key the console writes"),
    Setting("INSTANCE_PATH", None, str, "Folder for the SQLite database and generated keys"),
    Setting(
        "SECRET_KEY", None, str, "Session signing key; generated into the instance folder if unset"
    ),
    Setting(
        "ENCRYPTION_KEYS",
        None,
        str,
        "Comma-separated kid:base64key list, first is active; generated if unset",
    ),
    Setting(
        "HASH_KEY",
        None,
        str,
        "Base64 key for keyed lookup hashes of phone numbers; generated if unset",
    ),
    Setting(
        "ADMIN_EMAIL",
        "admin@kmsg.local",
        str,
        "E-mail of the first admin created on an empty database",
    ),
    Setting(
        "ADMIN_PASSWORD",
        None,
        str,
        "Password of the first admin; generated and printed once if unset",
    ),
    Setting("SECURE_COOKIES", False, _bool, "Mark cookies Secure (set when served over HTTPS)"),
    Setting("SESSION_IDLE_MINUTES", 30, int, "Log operators out after this many idle minutes"),
    Setting("SESSION_MAX_HOURS", 12, int, "Absolute session lifetime in hours"),
    Setting("REMEMBER_ME", False, _bool, "Offer a 'remember me' cookie on the login form"),
    Setting("LOGIN_MAX_FAILURES", 5, int, "Failed logins per account before delays start"),
    Setting(
        "LOGIN_MAX_FAILURES_PER_IP", 20, int, "Failed logins per client IP before delays start"
    ),
    Setting(
        "DEFAULT_LOCALE", "ko", str, "Language when neither the operator nor the browser chooses"
    ),
    Setting(
        "DEFAULT_TIMEZONE", "Asia/Seoul", str, "Time zone for operators who have not chosen one"
    ),
    Setting(
        "TRUSTED_PROXIES",
        0,
        int,
        "Number of reverse proxies whose X-Forwarded-* headers are trusted",
    ),
    Setting("LOG_FORMAT", "text", str, "Log format: text or json"),
    Setting("LOG_LEVEL", "INFO", str, "Log level"),
    Setting("PAGE_SIZE", 50, int, "Rows per page in console lists (capped at 200)"),
    Setting("METRICS_TOKEN", None, str, "Bearer token required by /metrics when set"),
    Setting("PROVIDER_CONNECT_TIMEOUT", 3.0, float, "Seconds to wait for a provider's connection"),
    Setting(
        "PROVIDER_READ_TIMEOUT",
        10.0,
        float,
        "Seconds to wait for a provider's answer once the request is sent",
    ),
    Setting(
        "WEBHOOK_ALLOW_PRIVATE",
        False,
        _bool,
        "Let webhook endpoints use http:// and private, loopback or link-local addresses",
    ),
)


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read every known ``KMSG_*`` variable, falling back to the defaults."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(f"KMSG_{setting.name}")
        if raw is None or raw == "":
            values[setting.name] = setting.default
        else:
            try:
                values[setting.name] = setting.parse(raw)
            except ValueError as exc:
                raise RuntimeError(f"KMSG_{setting.name}: {exc}") from exc
    return values
