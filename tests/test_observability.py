"""/metrics, request ids and log masking."""

from __future__ import annotations

import json
import logging

from kmsg_console.observability.logs import JsonFormatter, RequestContextFilter, mask_numbers


def test_metrics_exposes_prometheus_text(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    text = response.get_data(as_text=True)
    for name in (
        "kmsg_messages_total",
        "kmsg_provider_latency_seconds",
        "kmsg_otp_starts_total",
        "kmsg_throttle_blocks_total",
        "kmsg_worker_backlog",
    ):
        assert name in text


def test_metrics_token_is_enforced_when_set(app, client):
    app.config["METRICS_TOKEN"] = "scrape-token"
    assert client.get("/metrics").status_code == 403
    assert (
        client.get("/metrics", headers={"Authorization": "Bearer scrape-token"}).status_code == 200
    )


def test_request_id_is_returned_and_reused(client):
    fresh = client.get("/healthz")
    assert len(fresh.headers["X-Request-Id"]) == 32
    given = client.get("/healthz", headers={"X-Request-Id": "abc-12345678"})
    assert given.headers["X-Request-Id"] == "abc-12345678"
    odd = client.get("/healthz", headers={"X-Request-Id": "<script>alert(1)</script>"})
    assert (
        odd.headers["X-Request-Id"] != "<script>alert(1)</script>"
        and len(odd.headers["X-Request-Id"]) == 32
    )


def test_phone_numbers_are_masked_in_log_lines():
    assert (
        mask_numbers("sent to 01012345678 and 010-9876-5432")
        == "sent to 010-****-5678 and 010-****-5432"
    )
    record = logging.LogRecord(
        "kmsg_console.x", logging.INFO, __file__, 1, "to %s", ("010 1234 5678",), None
    )
    RequestContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "to 010-****-5678" and line["request_id"] == "-"
