"""Field encryption (AES-256-GCM with key ids) and keyed lookup hashes.

Ciphertexts carry the id of the key that made them (``v1.<kid>.<nonce+ct>``), so keys can
rotate: the first key in ``KMSG_ENCRYPTION_KEYS`` encrypts, every listed key decrypts. The
associated data binds a ciphertext to its purpose (e.g. ``provider:3:api_secret``), so a value
copied into another row or column fails to decrypt instead of being silently accepted.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
from dataclasses import dataclass
from functools import cached_property

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "v1"


class CryptoError(Exception):
    """A value could not be encrypted or decrypted with the configured keys."""


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@dataclass(frozen=True)
class Keyring:
    """Encryption keys by id (the first is active) and the lookup-hash key."""

    keys: dict[str, bytes]
    active_kid: str
    hash_key: bytes

    @classmethod
    def from_config(cls, encryption_keys: str, hash_key: str) -> Keyring:
        """Parse ``kid:base64key,...`` and the base64 hash key."""
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for item in encryption_keys.split(","):
            item = item.strip()
            if not item:
                continue
            kid, sep, material = item.partition(":")
            if not sep or not kid:
                raise CryptoError("KMSG_ENCRYPTION_KEYS entries must look like kid:base64key")
            try:
                key = _b64decode(material)
            except (binascii.Error, ValueError) as exc:
                raise CryptoError(f"encryption key {kid!r} is not base64") from exc
            if len(key) != 32:
                raise CryptoError(f"encryption key {kid!r} must be 32 bytes (AES-256)")
            keys[kid] = key
            order.append(kid)
        if not order:
            raise CryptoError("no encryption key configured")
        try:
            hkey = _b64decode(hash_key)
        except (binascii.Error, ValueError) as exc:
            raise CryptoError("KMSG_HASH_KEY is not base64") from exc
        if len(hkey) < 16:
            raise CryptoError("KMSG_HASH_KEY must be at least 16 bytes")
        return cls(keys=keys, active_kid=order[0], hash_key=hkey)

    @cached_property
    def _ciphers(self) -> dict[str, AESGCM]:
        """One AES-GCM object per key, made once: a campaign upload encrypts two values per
        recipient, and making the object for each cost about half a second per 100,000
        recipients (``bench/campaigns.py --only preview``)."""
        return {kid: AESGCM(key) for kid, key in self.keys.items()}

    def encrypt(self, plaintext: str, purpose: str) -> str:
        """Encrypt ``plaintext`` for ``purpose`` with the active key."""
        nonce = os.urandom(12)
        sealed = self._ciphers[self.active_kid].encrypt(nonce, plaintext.encode(), purpose.encode())
        return f"{_VERSION}.{self.active_kid}.{_b64encode(nonce + sealed)}"

    def decrypt(self, token: str, purpose: str) -> str:
        """Decrypt a value made by :meth:`encrypt` with the same ``purpose``."""
        try:
            version, kid, body = token.split(".", 2)
        except ValueError as exc:
            raise CryptoError("malformed ciphertext") from exc
        if version != _VERSION or kid not in self.keys:
            raise CryptoError(f"no key {kid!r} to decrypt this value")
        raw = _b64decode(body)
        try:
            return self._ciphers[kid].decrypt(raw[:12], raw[12:], purpose.encode()).decode()
        except InvalidTag as exc:
            raise CryptoError("ciphertext does not match its key or purpose") from exc

    def key_id_of(self, token: str) -> str:
        """The key id a ciphertext was made with (for rotation reports)."""
        return token.split(".", 2)[1]

    def lookup_hash(self, value: str, purpose: str) -> str:
        """A keyed hash for exact-match lookup of ``value`` without storing it."""
        return hmac.digest(self.hash_key, f"{purpose}\x00{value}".encode(), "sha256").hex()
