"""The vendors' own published client libraries, installed once into this test tree.

The simulators are what every adapter test trusts, so they are checked against the clients the
vendors publish: SOLAPI's Python SDK (PyPI ``solapi``) in a virtual environment of its own, and
SOLAPI's Node SDK (npm ``solapi``) plus Aligo's Node client (npm ``aligoapi``) run with the
machine's Node. Versions are pinned so an upstream release cannot change what passes. Installs
land in ``tests/conformance/.clients/`` (ignored by git) and are reused while their pins match;
they reach only the package registries pip and npm are configured with.

A script for a client runs in a subprocess and prints one JSON document as its last line of
standard output; :func:`run_python` and :func:`run_node` return it parsed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

PYTHON_PACKAGES = ("solapi==5.0.3",)
NODE_PACKAGES = ("solapi@6.0.1", "aligoapi@1.1.3")

CLIENTS_DIR = Path(__file__).resolve().parent / ".clients"
SCRIPTS_DIR = Path(__file__).resolve().parent / "scripts"
INSTALL_TIMEOUT = 300
RUN_TIMEOUT = 120


class ClientFailed(AssertionError):
    """A client script exited non-zero or printed no JSON; the message carries its output."""


def _installed(directory: Path, pins: tuple[str, ...]) -> bool:
    marker = directory / "pins.json"
    return marker.exists() and json.loads(marker.read_text()) == list(pins)


def _mark(directory: Path, pins: tuple[str, ...]) -> None:
    (directory / "pins.json").write_text(json.dumps(list(pins)))


def python_client() -> Path:
    """The interpreter of a virtual environment holding SOLAPI's Python SDK."""
    directory = CLIENTS_DIR / "python"
    python = directory / "bin" / "python"
    if not _installed(directory, PYTHON_PACKAGES):
        shutil.rmtree(directory, ignore_errors=True)
        subprocess.run(
            [sys.executable, "-m", "venv", str(directory)], check=True, timeout=INSTALL_TIMEOUT
        )
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                *PYTHON_PACKAGES,
            ],
            check=True,
            timeout=INSTALL_TIMEOUT,
        )
        _mark(directory, PYTHON_PACKAGES)
    return python


def node_modules() -> Path:
    """A ``node_modules`` directory holding SOLAPI's Node SDK and Aligo's Node client."""
    directory = CLIENTS_DIR / "node"
    if not _installed(directory, NODE_PACKAGES):
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        # A package.json of our own keeps npm from walking up to some other project.
        (directory / "package.json").write_text('{"name": "kmsg-conformance", "private": true}')
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *NODE_PACKAGES],
            cwd=directory,
            check=True,
            timeout=INSTALL_TIMEOUT,
        )
        _mark(directory, NODE_PACKAGES)
    return directory / "node_modules"


def _run(command: list[str], env: dict[str, str]) -> Any:
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        env={**os.environ, **env},
    )
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        raise ClientFailed(
            f"{' '.join(command)} exited {completed.returncode}\n"
            f"--- stdout ---\n{completed.stdout}\n--- stderr ---\n{completed.stderr}"
        )
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError as exc:
        raise ClientFailed(f"last line is not JSON: {lines[-1]!r}\n{completed.stderr}") from exc


def run_python(python: Path, script: str, **env: str) -> Any:
    """Run ``scripts/<script>`` with the SDK's interpreter; ``env`` reaches it as variables."""
    return _run([str(python), str(SCRIPTS_DIR / script)], env)


def run_node(modules: Path, script: str, **env: str) -> Any:
    """Run ``scripts/<script>`` with Node, resolving packages from ``modules``."""
    return _run(["node", str(SCRIPTS_DIR / script)], {"NODE_PATH": str(modules), **env})
