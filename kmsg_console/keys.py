"""Session, encryption and hashing keys: from the environment, else generated once on disk.

Generated keys are written to the instance folder with mode 0600 using ``O_EXCL``, so two
processes starting together agree on one key instead of overwriting each other's.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path


def _read_or_create(path: Path, make: callable) -> str:  # type: ignore[valid-type]
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    value = make()
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def _random_b64(nbytes: int) -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(nbytes)).decode()


def load_keys(instance_path: Path, env_values: dict) -> dict[str, str]:
    """Return ``SECRET_KEY``, ``ENCRYPTION_KEYS`` and ``HASH_KEY`` from env or instance files."""
    instance_path.mkdir(parents=True, exist_ok=True)
    keys = {}
    keys["SECRET_KEY"] = env_values.get("SECRET_KEY") or _read_or_create(
        instance_path / "secret_key", lambda: secrets.token_urlsafe(48)
    )
    keys["ENCRYPTION_KEYS"] = env_values.get("ENCRYPTION_KEYS") or _read_or_create(
        instance_path / "encryption_keys", lambda: f"k1:{_random_b64(32)}"
    )
    keys["HASH_KEY"] = env_values.get("HASH_KEY") or _read_or_create(
        instance_path / "hash_key", lambda: _random_b64(32)
    )
    return keys
