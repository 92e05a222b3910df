"""The dashboard at ``/``."""

from kmsg_console.dashboard.views import bp

__all__ = ["bp"]
