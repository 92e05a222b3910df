"""Bearer API-key authentication for ``/api/v1`` views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import g, request

from kmsg_console.api.errors import ApiError
from kmsg_console.api_keys import services
from kmsg_console.api_keys.models import Scope
from kmsg_console.api_keys.services import AuthenticatedKey
from kmsg_console.web.access import api_view

F = TypeVar("F", bound=Callable[..., object])


def current_api_key() -> AuthenticatedKey:
    return g.api_key


def require_api_key(scope: Scope) -> Callable[[F], F]:
    """Authenticate the request's ``Authorization: Bearer`` key and require ``scope``."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _sep, token = header.partition(" ")
            key = (
                services.authenticate(token.strip(), request.remote_addr)
                if scheme.lower() == "bearer"
                else None
            )
            if key is None:
                raise ApiError(
                    401,
                    "unauthorized",
                    "A valid API key is required (Authorization: Bearer <key>).",
                    headers={"WWW-Authenticate": 'Bearer realm="kmsg-console"'},
                )
            if not key.allows(scope):
                raise ApiError(403, "forbidden", f"This API key lacks the '{scope.value}' scope.")
            g.api_key = key
            return view(*args, **kwargs)

        return api_view(wrapper)  # type: ignore[return-value]

    return decorate
