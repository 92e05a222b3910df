"""Typed adapter configuration: field declarations, parsing and timeouts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

FieldKind = Literal["text", "url", "bool", "int"]

_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"0", "false", "no", "n", "off", ""}


@dataclass(frozen=True)
class ConfigField:
    """One setting of a provider, as the console's provider form shows it.

    ``secret`` fields are encrypted at rest, never shown again after saving and
    redacted from anything an adapter logs or keeps. ``label``/``help`` are
    ``N_()``-marked.
    """

    name: str
    label: str
    required: bool = False
    secret: bool = False
    kind: FieldKind = "text"
    help: str = ""
    default: Any = None
    #: A value as the operator would type it, shown as code after ``help``: it is syntax,
    #: the same in every language, so it stays out of the translated text.
    example: str = ""


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for a TCP connection and then for each read of the answer."""

    connect: float = 3.0
    read: float = 10.0

    def as_tuple(self) -> tuple[float, float]:
        """The ``timeout=`` argument ``requests`` expects."""
        return (self.connect, self.read)


class ProviderConfigError(ValueError):
    """The configuration of a provider is unusable; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


def parse_config(fields: Sequence[ConfigField], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Apply defaults and types to ``raw``; refuse missing required and unknown keys.

    Values may arrive as strings from a form or the database (``"true"``,
    ``"30"``); they come out as ``bool``/``int``/``str``. URLs lose their
    trailing slash so paths can be appended.
    """
    known = {f.name for f in fields}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ProviderConfigError(unknown[0], "unknown setting")
    parsed: dict[str, Any] = {}
    for spec in fields:
        value = raw.get(spec.name)
        if value is None or (isinstance(value, str) and not value.strip() and spec.kind != "bool"):
            value = spec.default
        if value is None:
            if spec.required:
                raise ProviderConfigError(spec.name, "required")
            parsed[spec.name] = None
            continue
        parsed[spec.name] = _coerce(spec, value)
    return parsed


def _coerce(spec: ConfigField, value: Any) -> Any:
    if spec.kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ProviderConfigError(spec.name, "expected a yes/no value")
    if spec.kind == "int":
        try:
            return int(str(value).strip())
        except ValueError:
            raise ProviderConfigError(spec.name, "expected a whole number") from None
    text = str(value).strip()
    if spec.kind == "url":
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ProviderConfigError(spec.name, "expected an http(s) URL")
        return text.rstrip("/")
    return text
