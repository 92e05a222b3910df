"""Fixtures for the conformance suite: the vendors' clients, installed once per machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance import clients


@pytest.fixture(scope="session")
def python_sdk() -> Path:
    """Interpreter of the venv holding SOLAPI's Python SDK (installed on first use)."""
    return clients.python_client()


@pytest.fixture(scope="session")
def node_clients() -> Path:
    """``node_modules`` with SOLAPI's Node SDK and Aligo's ``aligoapi``."""
    return clients.node_modules()
