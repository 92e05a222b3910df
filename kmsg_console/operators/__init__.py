"""Operators: sign-in, roles and the admin pages that manage them."""

from kmsg_console.operators.views import bp

__all__ = ["bp"]
