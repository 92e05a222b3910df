"""HTTP transport shared by the vendor adapters: pooled sessions, timeouts,
and the one question that matters after a failure — did the request leave?

``requests`` wraps most low-level failures in ``ConnectionError``; the
underlying urllib3 error tells them apart. A connection that was never made
(refused, DNS failure, connect timeout, proxy or TLS-verification failure) is
proof the vendor did not get the message: ``Acceptance.NOT_ACCEPTED``. A
failure after the request was written (read timeout, reset, the server hanging
up, a truncated body) leaves it ``UNKNOWN``.
"""

from __future__ import annotations

import email.utils
import logging
import os
import ssl
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
)

from kmsg_console.messaging.errors import Acceptance, ErrorCode, SendError

from .config import Timeouts

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HttpReply:
    """A complete HTTP answer. ``body`` is the parsed JSON, or ``None`` when unparseable;
    header names are lower-cased."""

    status: int
    text: str
    body: Any
    json_ok: bool
    headers: Mapping[str, str] = field(default_factory=dict)
    latency_ms: int = 0

    @property
    def retry_after_ms(self) -> int | None:
        """``Retry-After`` in milliseconds (seconds or an HTTP date), if present."""
        return parse_retry_after(self.headers.get("retry-after"))


def parse_retry_after(value: str | None) -> int | None:
    """Parse a ``Retry-After`` header value into milliseconds."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value) * 1000
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, int((when - datetime.now(UTC)).total_seconds() * 1000))


#: Idle connections kept per vendor host: at least ``serve``'s request threads per process,
#: so that concurrent sends to one vendor reuse their connections (a TLS handshake each,
#: otherwise) instead of opening ones beyond the pool and dropping them after one call.
CONNECTIONS_PER_HOST = 64


def make_session(pool_maxsize: int = CONNECTIONS_PER_HOST) -> requests.Session:
    """A session with a connection pool and **no automatic retries**.

    Retrying is the router's decision, taken with knowledge of whether the
    first try may have been accepted; a transport-level retry would not know.
    """
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_maxsize, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    # requests would otherwise re-read the environment and ~/.netrc on every call: a
    # netrc entry for a vendor's host would add its Basic credentials to our requests, and
    # the lookups cost more CPU than the rest of the call's preparation. The proxy and CA
    # settings an operator gives through the environment are read once instead
    # (EnvironmentSettings).
    session.trust_env = False
    return session


class EnvironmentSettings:
    """The process environment's proxy and CA-bundle settings, read once per client.

    The variables requests honours (``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``,
    ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``) with requests' own rules, looked
    up when the adapter is built (the CA bundle) or first calls a host (its proxy) rather than
    on every send. An adapter is rebuilt when its provider is saved or the console restarts,
    which is when a changed environment takes effect. ``~/.netrc`` is not read: a vendor's
    credentials come from its provider settings only.
    """

    def __init__(self) -> None:
        self.verify: bool | str = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )
        self._proxies: dict[str, dict[str, str]] = {}

    def proxies_for(self, url: str) -> dict[str, str]:
        """The proxies for ``url``'s origin (``{}``: connect directly), memoised per origin."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        proxies = self._proxies.get(origin)
        if proxies is None:
            proxies = self._proxies[origin] = dict(requests.utils.get_environ_proxies(origin))
        return proxies


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what it wraps (args, ``reason``) and its cause chain."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend([current.__cause__, current.__context__])
        if isinstance(current, MaxRetryError):
            stack.append(current.reason)
        stack.extend(arg for arg in current.args if isinstance(arg, BaseException))


def classify_transport_error(exc: BaseException) -> SendError:
    """Map an exception raised by ``requests`` to a normalized :class:`SendError`."""
    causes = list(_causes(exc))

    def has(*kinds: type[BaseException]) -> bool:
        return any(isinstance(c, kinds) for c in causes)

    text = f"{type(exc).__name__}: {exc}"
    # NewConnectionError subclasses ConnectTimeoutError in urllib3, so it is tested first.
    if has(NewConnectionError):  # refused, unreachable, DNS failure: nothing was sent
        return SendError.of(
            ErrorCode.NETWORK_ERROR, "connection failed: " + text, accepted=Acceptance.NOT_ACCEPTED
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout) or has(ConnectTimeoutError):
        return SendError.of(
            ErrorCode.NETWORK_TIMEOUT, "connect timeout: " + text, accepted=Acceptance.NOT_ACCEPTED
        )
    if isinstance(exc, requests.exceptions.ReadTimeout) or has(ReadTimeoutError):
        # The request was written; the vendor may be processing it right now.
        return SendError.of(
            ErrorCode.NETWORK_TIMEOUT, "read timeout: " + text, accepted=Acceptance.UNKNOWN
        )
    if isinstance(exc, requests.exceptions.ProxyError) or has(ProxyError):
        return SendError.of(
            ErrorCode.NETWORK_ERROR, "proxy error: " + text, accepted=Acceptance.NOT_ACCEPTED
        )
    if has(ssl.SSLCertVerificationError):  # fails in the handshake, before the request
        return SendError.of(
            ErrorCode.NETWORK_ERROR,
            "TLS verification failed: " + text,
            accepted=Acceptance.NOT_ACCEPTED,
        )
    if isinstance(
        exc,
        (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
            requests.exceptions.InvalidHeader,
            requests.exceptions.InvalidJSONError,  # the body could not even be encoded
        ),
    ):
        return SendError.of(
            ErrorCode.NETWORK_ERROR,
            "invalid request setup: " + text,
            accepted=Acceptance.NOT_ACCEPTED,
        )
    if has(
        ProtocolError, ConnectionResetError, ConnectionAbortedError, BrokenPipeError
    ) or isinstance(
        exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)
    ):
        # RemoteDisconnected / reset / truncated body: the request had already left.
        return SendError.of(
            ErrorCode.NETWORK_ERROR,
            "connection lost after sending: " + text,
            accepted=Acceptance.UNKNOWN,
        )
    # Anything else: we cannot prove the request did not leave.
    return SendError.of(ErrorCode.NETWORK_ERROR, text, accepted=Acceptance.UNKNOWN)


class HttpClient:
    """One pooled session per adapter instance, with timeouts on every call."""

    def __init__(self, timeouts: Timeouts, *, provider_id: str) -> None:
        self.timeouts = timeouts
        self.provider_id = provider_id
        self.session = make_session()
        self.environment = EnvironmentSettings()
        self.session.verify = self.environment.verify

    def close(self) -> None:
        """Release pooled connections."""
        self.session.close()

    def request(self, method: str, url: str, **kwargs: Any) -> HttpReply | SendError:
        """Perform one HTTP call; transport failures come back as a :class:`SendError`.

        Redirects are not followed: vendor APIs do not redirect, and following a
        redirect could repeat a POST.
        """
        start = time.monotonic()
        try:
            response = self.session.request(
                method,
                url,
                timeout=self.timeouts.as_tuple(),
                allow_redirects=False,
                proxies=self.environment.proxies_for(url),
                **kwargs,
            )
        except Exception as exc:  # requests raises many types; all are classified
            error = classify_transport_error(exc)
            logger.warning(
                "provider %s: %s %s failed: %s (%s)",
                self.provider_id,
                method,
                _path(url),
                error.code,
                error.accepted,
            )
            return error
        latency_ms = int((time.monotonic() - start) * 1000)
        text = response.text
        try:
            body, json_ok = response.json(), True
        except ValueError:
            body, json_ok = None, False
        logger.debug(
            "provider %s: %s %s -> %s in %d ms",
            self.provider_id,
            method,
            _path(url),
            response.status_code,
            latency_ms,
        )
        headers = {name.lower(): value for name, value in response.headers.items()}
        return HttpReply(response.status_code, text, body, json_ok, headers, latency_ms)


def _path(url: str) -> str:
    """The URL without its query string (queries may carry ids we do not want in logs)."""
    return url.split("?", 1)[0]
