"""The worker's webhook job: fan events out into deliveries, then post the due ones.

Fan-out takes outbox events not yet fanned out (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
several workers share them; SQLite runs one worker and the unique (event, endpoint) pair
refuses a second copy) and makes one delivery per enabled endpoint subscribed to the type.

Posting claims each due delivery with a conditional UPDATE (its next attempt moves a lease
ahead), commits, then calls the endpoint with no transaction open: no redirects followed,
short timeouts, at most ``READ_LIMIT`` bytes of the answer read. A 2xx answer delivers; any
other answer or error schedules a retry with exponential backoff and jitter, until 24 hours
after the delivery was made; then the delivery gives up and the endpoint is marked failing.
"""

from __future__ import annotations

import logging
import random
import socket
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import requests
import sqlalchemy as sa
from requests.adapters import HTTPAdapter
from sqlalchemy.exc import IntegrityError
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.connection import create_connection

from kmsg_console.events import safety, services, signing
from kmsg_console.events.models import (
    DeliveryStatus,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from kmsg_console.extensions import db
from kmsg_console.orm import utcnow

logger = logging.getLogger(__name__)

#: The clock and the jitter; tests replace them to walk through the retry schedule.
clock: Callable[[], datetime] = utcnow
jitter: Callable[[], float] = lambda: random.uniform(0.8, 1.2)  # noqa: E731

FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
#: A claimed delivery is tried again after this if its worker dies mid-call.
CLAIM_LEASE = timedelta(minutes=2)
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 5.0
READ_LIMIT = 2048
EXCERPT = 500
FAN_OUT_BATCH = 500
#: At most this many fan-out transactions per round (the rest waits for the next round).
FAN_OUT_BATCHES = 20
DELIVERY_BATCH = 50


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 30 s, 1 min, 2 min, … up to 1 h,
    each times a random factor between 0.8 and 1.2 (so receivers that failed together are not
    all retried at the same moment). The factor's range keeps every wait longer than the last
    until the cap."""
    base = min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), MAX_RETRY)
    return base * jitter()


#: Events (with their deliveries and attempts) are kept this long after their fan-out, then
#: purged unless a delivery is still pending; the delivery log shows this window.
EVENT_DAYS = 30
PURGE_BATCH = 1_000
PURGE_EVERY = timedelta(hours=1)
_last_purge: dict[str, datetime] = {}


def run_round(now: datetime | None = None) -> dict[str, int]:
    """One round: fan out, then deliver what is due. Returns counts for the job's record."""
    now = now or clock()
    counts: Counter[str] = Counter()
    counts["fanned_out"] = fan_out(now)
    counts.update(deliver_due())
    last = _last_purge.get("at")
    if last is None or now - last >= PURGE_EVERY:
        _last_purge["at"] = now
        counts["purged"] = purge_old(now)
    return dict(counts)


def purge_old(now: datetime) -> int:
    """Delete one batch of events fanned out more than ``EVENT_DAYS`` ago with no pending
    delivery; their deliveries and attempts go with them (ON DELETE CASCADE)."""
    pending = (
        sa.select(WebhookDelivery.id)
        .where(
            WebhookDelivery.event_id == OutboxEvent.id,
            WebhookDelivery.status == DeliveryStatus.PENDING.value,
        )
        .exists()
    )
    ids = list(
        db.session.scalars(
            sa.select(OutboxEvent.id)
            .where(OutboxEvent.fanned_out_at < now - timedelta(days=EVENT_DAYS), ~pending)
            .order_by(OutboxEvent.fanned_out_at, OutboxEvent.id)
            .limit(PURGE_BATCH)
        )
    )
    if ids:
        db.session.execute(sa.delete(OutboxEvent).where(OutboxEvent.id.in_(ids)))
    db.session.commit()
    return len(ids)


def fan_out(now: datetime, *, batches: int = FAN_OUT_BATCHES) -> int:
    """Make the deliveries of new events, ``FAN_OUT_BATCH`` events per transaction."""
    done = 0
    for _ in range(batches):
        count = _fan_out_batch(now)
        done += count
        if count < FAN_OUT_BATCH:
            break
    return done


def _fan_out_batch(now: datetime) -> int:
    events = db.session.execute(
        sa.select(OutboxEvent.id, OutboxEvent.type)
        .where(OutboxEvent.fanned_out_at.is_(None))
        .order_by(OutboxEvent.id)
        .limit(FAN_OUT_BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    if not events:
        db.session.commit()
        return 0
    endpoints = db.session.execute(
        sa.select(WebhookEndpoint.id, WebhookEndpoint.event_types).where(
            WebhookEndpoint.enabled.is_(True)
        )
    ).all()
    rows = [
        {
            "event_id": event.id,
            "endpoint_id": endpoint.id,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
            "retry_until": now + services.RETRY_WINDOW,
        }
        for event in events
        for endpoint in endpoints
        if event.type in (endpoint.event_types or ())
    ]
    try:
        if rows:
            db.session.execute(sa.insert(WebhookDelivery), rows)
        db.session.execute(
            sa.update(OutboxEvent)
            .where(OutboxEvent.id.in_([event.id for event in events]))
            .values(fanned_out_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    except IntegrityError:  # another worker (SQLite) fanned these out first
        db.session.rollback()
        return 0
    return len(events)


def _claim(now: datetime) -> list[int]:
    due = list(
        db.session.scalars(
            sa.select(WebhookDelivery.id)
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING.value,
                WebhookDelivery.next_attempt_at <= now,
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(DELIVERY_BATCH)
            .with_for_update(skip_locked=True)
        )
    )
    claimed = []
    for delivery_id in due:
        result = db.session.execute(
            sa.update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == DeliveryStatus.PENDING.value,
                WebhookDelivery.next_attempt_at <= now,
            )
            .values(next_attempt_at=now + CLAIM_LEASE)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            claimed.append(delivery_id)
    db.session.commit()  # claimed before anything is sent
    return claimed


def deliver_due() -> Counter[str]:
    counts: Counter[str] = Counter()
    for delivery_id in _claim(clock()):
        delivery = db.session.get(WebhookDelivery, delivery_id)
        counts[attempt(delivery)] += 1
    return counts


def _connect(connection: HTTPConnection, address: str) -> socket.socket:
    """Open the socket to ``address`` (checked) instead of resolving the host again."""
    try:
        return create_connection(
            (address, connection.port),
            connection.timeout,
            source_address=connection.source_address,
            socket_options=connection.socket_options,
        )
    except TimeoutError as exc:
        raise ConnectTimeoutError(connection, f"Connection to {address} timed out") from exc
    except OSError as exc:
        raise NewConnectionError(connection, f"Failed to connect to {address}: {exc}") from exc


class _PinnedAdapter(HTTPAdapter):
    """Connects to one address checked by ``safety`` (no second DNS answer can differ),
    while the URL's host name stays in the Host header, the TLS SNI and the certificate check."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        address = self.address

        class Plain(HTTPConnection):
            def _new_conn(self) -> socket.socket:
                return _connect(self, address)

        class Tls(HTTPSConnection):
            def _new_conn(self) -> socket.socket:
                return _connect(self, address)

        self.poolmanager.pool_classes_by_scheme = {
            "http": type("PinnedPool", (HTTPConnectionPool,), {"ConnectionCls": Plain}),
            "https": type("PinnedTlsPool", (HTTPSConnectionPool,), {"ConnectionCls": Tls}),
        }


def _post(
    url: str, body: bytes, headers: dict[str, str], address: str | None = None
) -> tuple[int | None, str | None, str]:
    """POST once: (status code, error, answer excerpt). Never follows redirects; with
    ``address``, connects there and nowhere else (and through no proxy)."""
    with requests.Session() as session:
        if address is not None:
            session.trust_env = False
            session.mount("http://", _PinnedAdapter(address))
            session.mount("https://", _PinnedAdapter(address))
        try:
            with session.post(
                url,
                data=body,
                headers=headers,
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                allow_redirects=False,
                stream=True,
            ) as response:
                raw = response.raw.read(READ_LIMIT, decode_content=True) or b""
                return response.status_code, None, raw.decode("utf-8", "replace")[:EXCERPT]
        except requests.RequestException as exc:
            return None, f"{type(exc).__name__}: {exc}"[:255], ""


def attempt(delivery: WebhookDelivery) -> str:
    """Post one claimed delivery and record the answer; returns what happened."""
    endpoint = delivery.endpoint
    event = delivery.event
    now = clock()
    if not endpoint.enabled:
        delivery.status = DeliveryStatus.SKIPPED.value
        delivery.next_attempt_at = None
        db.session.commit()
        return "skipped"
    body = services.event_body(event)
    secrets = services.signing_secrets(endpoint, now)
    db.session.commit()  # no transaction stays open across the call
    try:
        addresses = safety.check_url(endpoint.url, allow_private=services.allow_private())
    except safety.UnsafeTarget as exc:
        status_code, error, excerpt, latency_ms = None, str(exc)[:255], "", 0
    else:
        headers = signing.headers(event.public_id, int(now.timestamp()), body, secrets)
        started = time.monotonic()
        pinned = addresses[0] if addresses else None
        status_code, error, excerpt = _post(endpoint.url, body, headers, pinned)
        latency_ms = int((time.monotonic() - started) * 1000)
    ok = status_code is not None and 200 <= status_code < 300
    if status_code is not None and not ok:
        error = f"HTTP {status_code}"
    delivery.attempts += 1
    db.session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            number=delivery.attempts,
            at=now,
            status_code=status_code,
            latency_ms=latency_ms,
            error=None if ok else error,
            response_excerpt=excerpt or None,
        )
    )
    delivery.last_attempt_at = now
    delivery.last_status_code = status_code
    delivery.last_latency_ms = latency_ms
    delivery.last_error = None if ok else error
    delivery.response_excerpt = excerpt or None
    if ok:
        delivery.status = DeliveryStatus.DELIVERED.value
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        endpoint.failing_since = None
        outcome = "delivered"
    else:
        retry_at = now + backoff(delivery.attempts)
        if retry_at > delivery.retry_until:
            delivery.status = DeliveryStatus.FAILED.value
            delivery.next_attempt_at = None
            if endpoint.failing_since is None:
                endpoint.failing_since = now
            outcome = "gave_up"
            logger.warning(
                "webhook endpoint %s: event %s given up after %s attempts",
                endpoint.public_id,
                event.public_id,
                delivery.attempts,
            )
        else:
            delivery.next_attempt_at = retry_at
            outcome = "retry"
    db.session.commit()
    return outcome
