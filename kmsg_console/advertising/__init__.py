"""Advertising settings (``/settings/advertising``): the sender name and free 080 opt-out line
the console's send form writes into advertising messages."""

from kmsg_console.advertising.views import bp

__all__ = ["bp"]
