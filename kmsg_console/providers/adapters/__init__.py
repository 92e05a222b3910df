"""Vendor adapters (SOLAPI, IWINV, Aligo, sandbox) implementing the ``Provider`` contract."""

from .config import ConfigField, ProviderConfigError, Timeouts
from .registry import ADAPTERS, build_adapter

__all__ = ["ADAPTERS", "ConfigField", "ProviderConfigError", "Timeouts", "build_adapter"]
