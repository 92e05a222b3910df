"""The signed-in operator's own settings: password, language, time zone."""

from kmsg_console.account.views import bp

__all__ = ["bp"]
