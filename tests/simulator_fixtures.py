"""Fixtures running the vendor simulators on a real loopback port (loaded by tests/conftest.py).

``simulator_server`` is started once per session; ``simulator`` hands the same server to
a test after wiping its state (recorded requests, faults, messages, templates,
balances). The session server uses ``delivery_step_seconds=None``: a stored message
keeps its first status (SOLAPI 2000, IWINV pending) until the test sets one through
``simulator.control.set_status``, so status tests never depend on timing.
``simulator_factory`` starts extra servers with custom options; ``unaccepting_port`` is a
loopback port whose connections never complete (for connect timeouts).
"""

from __future__ import annotations

import socket
import time
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


@pytest.fixture
def unaccepting_port() -> Iterator[int]:
    """A listener whose accept queue is full, so new connections hang in the handshake."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.05)  # let the kernel finish the fillers' handshakes
    yield port
    for sock in [*fillers, server]:
        sock.close()
