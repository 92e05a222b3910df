"""Running the simulators: a blocking CLI runner and a background-thread context manager."""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import TextIO

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import create_simulator_app, describe
from .client import SimulatorControl
from .options import VENDOR_PREFIXES, SimulatorOptions, normalize_vendor
from .state import EXTENSION_KEY, SimulatorState


class _QuietRequestHandler(WSGIRequestHandler):
    """Request handler without the per-request access log (tests would drown in it)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def run_simulators(
    host: str = "127.0.0.1",
    port: int = 9100,
    options: SimulatorOptions | None = None,
    *,
    out: TextIO | None = None,
) -> None:
    """Serve every vendor simulator on one port until interrupted (Ctrl-C).

    Prints each vendor base URL and the demo credentials first. Uses werkzeug's threaded
    server: it is a test tool, and the ``reset`` fault relies on werkzeug exposing the
    client socket.
    """
    stream = out or sys.stdout
    app = create_simulator_app(options)
    server = make_server(host, port, app, threaded=True)
    base_url = f"http://{host}:{server.port}"
    print(f"kmsg-console vendor simulators listening on {base_url}\n", file=stream)
    print(describe(base_url, app.extensions[EXTENSION_KEY].options), file=stream, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        app.extensions[EXTENSION_KEY].stopping.set()
        server.server_close()


class SimulatorServer:
    """Simulators on a real port in a background thread (port 0 = pick a free one).

    >>> with SimulatorServer() as sim:
    ...     base = sim.url("solapi")          # http://127.0.0.1:<port>/solapi
    ...     sim.control.inject("solapi", "status_5xx", status=503)
    """

    def __init__(
        self,
        options: SimulatorOptions | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        quiet: bool = True,
    ) -> None:
        self.options = options or SimulatorOptions()
        self.host = host
        self.port = port
        self.quiet = quiet
        self.app: Flask | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._control: SimulatorControl | None = None

    def start(self) -> SimulatorServer:
        """Bind and start serving; returns self so ``SimulatorServer().start()`` chains."""
        if self._server is not None:
            return self
        self.app = create_simulator_app(self.options)
        handler = _QuietRequestHandler if self.quiet else WSGIRequestHandler
        self._server = make_server(
            self.host, self.port, self.app, threaded=True, request_handler=handler
        )
        self.port = self._server.port
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="kmsg-simulators", daemon=True
        )
        self._thread.start()
        self._control = SimulatorControl(self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving and release the port; injected sleeps end immediately."""
        if self._server is None:
            return
        self.state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running server."""
        if self._server is None:
            raise RuntimeError(
                "SimulatorServer is not running; call start() or use it as a context manager"
            )
        return f"http://{self.host}:{self.port}"

    def url(self, vendor: str) -> str:
        """Base URL of one vendor API, e.g. ``url("solapi")`` or ``url("/aligo/kakao")``."""
        return self.base_url + VENDOR_PREFIXES[normalize_vendor(vendor)]

    @property
    def control(self) -> SimulatorControl:
        """Control-API client bound to this server."""
        if self._control is None:
            raise RuntimeError("SimulatorServer is not running")
        return self._control

    @property
    def state(self) -> SimulatorState:
        """Direct access to the in-process state (only for this in-process server)."""
        if self.app is None:
            raise RuntimeError("SimulatorServer was never started")
        return self.app.extensions[EXTENSION_KEY]
