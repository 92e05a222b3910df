"""The JSON API under ``/api/v1``."""

from kmsg_console.api import opt_outs, verifications  # noqa: F401  (register their routes on bp)
from kmsg_console.api.views import bp

__all__ = ["bp"]
