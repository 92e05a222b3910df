"""API keys for applications calling the JSON API."""

from kmsg_console.api_keys.views import bp

__all__ = ["bp"]
