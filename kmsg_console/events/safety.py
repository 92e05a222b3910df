"""Where webhooks may go: https only, and never to this machine or a private network.

Unless ``KMSG_WEBHOOK_ALLOW_PRIVATE=true`` (a test bench, or receivers on the same private
network), an endpoint's URL must be ``https://`` and every address its host resolves to must
be public: loopback, private, link-local (which holds the cloud metadata service at
169.254.169.254), shared, multicast, reserved and unspecified addresses are refused, in IPv4
and IPv6 (``[::1]``, ``::ffff:127.0.0.1``). The check runs when an endpoint is saved and again
before every delivery, because DNS answers can change after registration.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from kmsg_console.i18n_markers import N_

#: Resolves a host name to its addresses; tests replace it to play DNS.
resolve: Callable[[str, int], list[str]]


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


resolve = _resolve


class UnsafeTarget(ValueError):
    """The URL may not receive webhooks; ``reason`` is an untranslated message."""

    def __init__(self, reason: str, **params: str) -> None:
        super().__init__(reason % params if params else reason)
        self.reason = reason
        self.params = params


def forbidden_address(address: str) -> bool:
    """True for addresses a webhook must not reach by default."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def check_url(url: str, *, allow_private: bool, resolve_host: bool = True) -> list[str]:
    """Raise ``UnsafeTarget`` unless ``url`` may receive webhooks; returns the addresses its
    host resolved to (none when private targets are allowed: nothing was looked up)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise UnsafeTarget(N_("Enter a valid URL.")) from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeTarget(N_("Enter an http or https URL."))
    if parts.username or parts.password:
        raise UnsafeTarget(N_("The URL may not hold a user name or password."))
    if parts.scheme != "https" and not allow_private:
        raise UnsafeTarget(N_("Webhook URLs must use https."))
    if allow_private or not resolve_host:
        return []
    host = parts.hostname
    try:
        addresses = resolve(host, port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError):
        raise UnsafeTarget(N_("The host %(host)s could not be resolved."), host=host) from None
    if not addresses:
        raise UnsafeTarget(N_("The host %(host)s could not be resolved."), host=host)
    for address in addresses:
        if forbidden_address(address):
            raise UnsafeTarget(
                N_(
                    "The host %(host)s resolves to %(address)s, a private, loopback or "
                    "link-local address; webhooks go to public addresses only."
                ),
                host=host,
                address=address,
            )
    return addresses
