"""Fixtures running the vendor simulators on a real loopback port (loaded by tests/conftest.py).

``simulator_server`` is started once per session; ``simulator`` hands the same server to
a test after wiping its state (recorded requests, faults, messages, templates,
balances). The session server uses ``delivery_step_seconds=None``: a stored message
keeps its first status (SOLAPI 2000, IWINV pending) until the test sets one through
``simulator.control.set_status``, so status tests never depend on timing.
``simulator_factory`` starts extra servers with custom options.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kmsg_console.providers.simulators import SimulatorOptions, SimulatorServer


@pytest.fixture(scope="session")
def simulator_server() -> Iterator[SimulatorServer]:
    """One simulator server for the whole session (manual delivery progression)."""
    with SimulatorServer(SimulatorOptions(delivery_step_seconds=None)) as server:
        yield server


@pytest.fixture
def simulator(simulator_server: SimulatorServer) -> Iterator[SimulatorServer]:
    """The session server with clean state before and after the test."""
    simulator_server.control.clear()
    yield simulator_server
    simulator_server.control.clear()


@pytest.fixture
def simulator_factory() -> Iterator[Callable[..., SimulatorServer]]:
    """Start dedicated servers: ``simulator_factory(iwinv_allowed_ips=("10.0.0.1",))``."""
    started: list[SimulatorServer] = []

    def start(**options: Any) -> SimulatorServer:
        server = SimulatorServer(SimulatorOptions(**options)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
