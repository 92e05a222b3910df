"""Registry of adapter classes by vendor id; the console builds its provider forms from it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .aligo import AligoAdapter
from .base import BaseAdapter
from .config import ProviderConfigError, Timeouts
from .iwinv import IwinvAdapter
from .sandbox import SandboxAdapter
from .solapi import SolapiAdapter

ADAPTERS: dict[str, type[BaseAdapter]] = {
    cls.vendor: cls for cls in (SolapiAdapter, IwinvAdapter, AligoAdapter, SandboxAdapter)
}


def build_adapter(
    vendor: str,
    provider_id: str,
    config: Mapping[str, Any] | None = None,
    *,
    timeouts: Timeouts | None = None,
) -> BaseAdapter:
    """Instantiate the adapter for ``vendor`` with a typed, validated config.

    :raises ProviderConfigError: for an unknown vendor or an unusable config.
    """
    try:
        cls = ADAPTERS[vendor]
    except KeyError:
        raise ProviderConfigError("vendor", f"unknown vendor {vendor!r}") from None
    return cls(provider_id, dict(config or {}), timeouts=timeouts)
