"""The one shape of a service's refusal of input: which field, and why, translatable."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class FieldError(ValueError):
    """Input a service refuses. ``field`` names the form or API field to fix; ``reason`` is an
    ``N_()`` template formatted with ``params``, so a view translates it before showing it."""

    def __init__(self, field: str, reason: str, **params: Any) -> None:
        self.field = field
        self.reason = reason
        self.params: Mapping[str, Any] = params
        super().__init__(reason % params if params else reason)
