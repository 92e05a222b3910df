"""Fixtures for the events suites: a real HTTP receiver on 127.0.0.1, the delivery clock."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from kmsg_console.events import delivery, services
from kmsg_console.events.models import OutboxEvent, WebhookDelivery
from kmsg_console.extensions import db
from kmsg_console.orm import utcnow


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str
    at: float = field(default_factory=time.monotonic)

    @property
    def event(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """A threaded ``http.server`` that records every POST and answers from a script."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.answers: deque[int] = deque()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.requests.append(Received(dict(self.headers), body, self.path))
                    status = receiver.answers.popleft() if receiver.answers else 200
                payload = json.dumps({"ok": status < 300, "note": "x" * 5000}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(app):
    """A receiver on 127.0.0.1; private targets allowed (KMSG_WEBHOOK_ALLOW_PRIVATE=true)."""
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    server = Receiver()
    yield server
    server.close()


class DeliveryClock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def to(self, moment: datetime) -> datetime:
        self.now = moment
        return self.now


@pytest.fixture
def delivery_clock(monkeypatch) -> DeliveryClock:
    fake = DeliveryClock()
    monkeypatch.setattr(delivery, "clock", fake)
    return fake


def verify(secret: str, received: Received) -> bool:
    """What an integrator does: any of the signatures matches "<timestamp>.<body>"."""
    timestamp = received.headers["X-Webhook-Timestamp"]
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + received.body, hashlib.sha256
    ).hexdigest()
    return any(
        hmac.compare_digest(part.strip(), f"sha256={expected}")
        for part in received.headers["X-Webhook-Signature"].split(",")
    )


def add_endpoint(app, url: str, types=None, **extra) -> tuple[str, str]:
    """Register an endpoint (all event types by default); returns (public id, secret)."""
    from kmsg_console.events.types import ALL_TYPES

    with app.test_request_context():
        issued = services.create_endpoint(
            url, list(types or ALL_TYPES), actor_label="test", **extra
        )
        db.session.commit()
        return issued.endpoint.public_id, issued.secret


def run_deliveries(app, *, rounds: int = 50) -> dict[str, int]:
    """Worker rounds until nothing is due now (or ``rounds`` ran); summed counts."""
    total: dict[str, int] = {}
    with app.app_context():
        try:
            for _ in range(rounds):
                counts = delivery.run_round()
                for key, value in counts.items():
                    total[key] = total.get(key, 0) + value
                if not counts.get("fanned_out") and not any(
                    counts.get(k) for k in ("delivered", "retry", "gave_up", "skipped")
                ):
                    break
        finally:
            db.session.remove()
    return total


def outbox(app, type: str | None = None) -> list[OutboxEvent]:
    with app.app_context():
        query = sa.select(OutboxEvent).order_by(OutboxEvent.id)
        if type:
            query = query.where(OutboxEvent.type == type)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def deliveries(app) -> list[WebhookDelivery]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)))
        for row in rows:
            _ = row.event, list(row.attempt_log)
        db.session.expunge_all()
        return rows
