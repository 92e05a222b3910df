"""Prometheus metrics.

Counters live in each process; under gunicorn the ``serve`` command points
``PROMETHEUS_MULTIPROC_DIR`` at a folder in the instance path so ``/metrics`` adds up every
worker process (prometheus_client's documented multiprocess mode). Gauges that describe the
database (worker backlog) are read at scrape time instead.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MESSAGES = Counter(
    "kmsg_messages_total", "Messages by final send outcome", ["provider", "type", "status", "code"]
)
ATTEMPTS = Counter(
    "kmsg_provider_attempts_total", "Provider calls by outcome", ["provider", "outcome", "code"]
)
PROVIDER_LATENCY = Histogram(
    "kmsg_provider_latency_seconds",
    "Latency of provider calls",
    ["provider"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
OTP_STARTS = Counter("kmsg_otp_starts_total", "OTP verifications started", ["purpose", "outcome"])
OTP_CHECKS = Counter(
    "kmsg_otp_checks_total", "OTP checks by resulting status", ["purpose", "status"]
)
THROTTLE_BLOCKS = Counter(
    "kmsg_throttle_blocks_total",
    "Requests refused (or flagged in monitor mode)",
    ["action", "mode"],
)
WORKER_BACKLOG = Gauge(
    "kmsg_worker_backlog", "Messages due for a status check", multiprocess_mode="max"
)


def render(extra: dict[str, float] | None = None) -> tuple[bytes, str]:
    """The exposition text for ``/metrics`` (aggregated across processes when configured)."""
    for name, value in (extra or {}).items():
        if name == "worker_backlog":
            WORKER_BACKLOG.set(value)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
