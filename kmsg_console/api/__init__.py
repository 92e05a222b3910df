"""The JSON API under ``/api/v1``."""

from kmsg_console.api import (  # noqa: F401  (each registers its routes on bp)
    campaigns,
    opt_outs,
    verifications,
    webhook_endpoints,
)
from kmsg_console.api.views import bp

__all__ = ["bp"]
