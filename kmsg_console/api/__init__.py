"""The JSON API under ``/api/v1``."""

from kmsg_console.api import (
    verifications,  # noqa: F401  (registers its routes on bp)
    webhook_endpoints,  # noqa: F401  (registers its routes on bp)
)
from kmsg_console.api.views import bp

__all__ = ["bp"]
