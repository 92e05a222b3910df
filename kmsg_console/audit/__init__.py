"""Audit log: who did what, when, from where."""

from kmsg_console.audit.views import bp

__all__ = ["bp"]
