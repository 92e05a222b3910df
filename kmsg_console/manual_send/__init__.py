"""Manual send console (``/send``): compose, live byte counter, preview, send."""

from kmsg_console.manual_send.views import bp

__all__ = ["bp"]
