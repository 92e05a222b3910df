"""Role rules for every route, enforced in one place.

Each view declares who may read it and who may change things through it with ``@access``.
A ``before_request`` hook looks the rule up for the matched endpoint and refuses requests
that do not meet it; an endpoint without a rule is refused outright, so a new route that
forgets to declare one fails closed (and a test enumerating the URL map catches it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import abort, current_app, request
from flask_login import current_user

from kmsg_console.extensions import login_manager
from kmsg_console.operators.models import Role

F = TypeVar("F", bound=Callable[..., object])

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class AccessRule:
    """Who may use a view: ``read`` for safe methods, ``write`` for state changes."""

    read: Role | None
    write: Role | None
    public: bool = False
    #: API views authenticate with API keys, not with the operator session.
    api: bool = False


def access(read: Role, write: Role | None = None) -> Callable[[F], F]:
    """Declare the roles a console view needs.

    ``write`` defaults to at least ``Role.OPERATOR`` so a viewer can never change anything
    unless a view deliberately allows it (their own password, logging out).
    """
    if write is None:
        write = read if read.includes(Role.OPERATOR) else Role.OPERATOR
    rule = AccessRule(read=read, write=write)

    def decorate(view: F) -> F:
        view.access_rule = rule  # type: ignore[attr-defined]
        return view

    return decorate


def public(view: F) -> F:
    """Mark a view reachable without signing in (login page, health checks)."""
    view.access_rule = AccessRule(read=None, write=None, public=True)  # type: ignore[attr-defined]
    return view


def api_view(view: F) -> F:
    """Mark a JSON API view: it checks an API key itself and never reads the session."""
    view.access_rule = AccessRule(read=None, write=None, api=True)  # type: ignore[attr-defined]
    return view


def rule_for(endpoint: str | None) -> AccessRule | None:
    """The access rule of ``endpoint``, or None when it declared none."""
    if endpoint is None:
        return None
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access_rule", None)


def enforce_access() -> object | None:
    """``before_request`` hook: apply the matched view's rule (deny when it has none)."""
    if request.endpoint is None:  # no route matched: let Flask answer 404/405
        return None
    rule = rule_for(request.endpoint)
    if rule is None:
        abort(403)
    if rule.public or rule.api:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    needed = rule.read if request.method in SAFE_METHODS else rule.write
    if needed is None or not current_user.role.includes(needed):
        abort(403)
    return None


def can(role: Role) -> bool:
    """Template helper: does the signed-in operator hold at least ``role``?"""
    return bool(current_user.is_authenticated and current_user.role.includes(role))
