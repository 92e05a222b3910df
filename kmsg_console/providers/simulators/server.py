"""Running the simulators: a blocking CLI runner and a background-thread context manager."""

from __future__ import annotations

import socket
import struct
import sys
import threading
from types import TracebackType
from typing import Any, TextIO

from flask import Flask
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler, make_server

from .app import create_simulator_app, describe
from .client import SimulatorControl
from .options import VENDOR_PREFIXES, SimulatorOptions, normalize_vendor
from .state import EXTENSION_KEY, SimulatorState


class _QuietRequestHandler(WSGIRequestHandler):
    """Request handler without the per-request access log (tests would drown in it)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class _TrackingServer(ThreadedWSGIServer):
    """werkzeug's threaded server, remembering its open client connections.

    A vendor that goes down takes its established connections with it; an outage
    (:meth:`SimulatorServer.take_down`) drops them too, or a request in progress (or a
    keep-alive connection) would still get its answer from a "dead" vendor.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> int:
        """Reset every open client connection (RST, no answer); returns how many."""
        with self._connections_lock:
            connections = list(self._connections)
        for sock in connections:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return len(connections)


def _bound_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (not listening yet)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _listening_socket(host: str, port: int) -> socket.socket:
    sock = _bound_socket(host, port)
    sock.listen(128)
    return sock


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
    ...     sim.take_down()                   # connections refused, open ones reset
    ...     sim.bring_up()                    # same port, same state (requests, messages)

    :meth:`take_down` / :meth:`bring_up` simulate a vendor outage at the network level,
    which the control API cannot do (it is served by the same listener). While down the
    port stays reserved by a bound, non-listening socket, so connecting is refused at once
    and no other program can take the port before the vendor comes back.
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
        self._server: _TrackingServer | None = None
        self._thread: threading.Thread | None = None
        self._control: SimulatorControl | None = None
        #: While down: the bound, non-listening socket that keeps the port reserved.
        self._placeholder: socket.socket | None = None

    def start(self) -> SimulatorServer:
        """Bind and start serving; returns self so ``SimulatorServer().start()`` chains."""
        if self._server is not None or self._placeholder is not None:
            return self
        self.app = create_simulator_app(self.options)
        self._serve(_listening_socket(self.host, self.port))
        self._control = SimulatorControl(self.base_url)
        return self

    def _serve(self, listener: socket.socket) -> None:
        handler = _QuietRequestHandler if self.quiet else WSGIRequestHandler
        try:
            # werkzeug duplicates the descriptor; the server owns the duplicate from here on.
            self._server = _TrackingServer(
                self.host, listener.getsockname()[1], self.app, handler, fd=listener.fileno()
            )
        finally:
            listener.close()
        self.port = self._server.port
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="kmsg-simulators", daemon=True
        )
        self._thread.start()

    def _halt(self) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def stop(self) -> None:
        """Stop serving and release the port; injected sleeps end immediately."""
        if self._placeholder is not None:
            self._placeholder.close()
            self._placeholder = None
        if self._server is None:
            return
        self.state.stopping.set()
        self._server.drop_connections()
        self._halt()

    # -- outages ---------------------------------------------------------------------
    @property
    def is_down(self) -> bool:
        """True between :meth:`take_down` and :meth:`bring_up`."""
        return self._placeholder is not None

    def take_down(self) -> int:
        """Simulate the vendor going down: stop listening and reset every open connection.

        New connections are refused (nothing listens on the port) until :meth:`bring_up`.
        Requests that were being handled lose their connection; what they already did to
        the state stays, as it would at a vendor that crashed mid-request. Returns the number
        of connections that were reset.
        """
        if self._server is None:
            raise RuntimeError("SimulatorServer is not running")
        server = self._server
        self._halt()  # closes the listening socket: from now on connecting is refused
        self._placeholder = _bound_socket(self.host, self.port)
        return server.drop_connections()

    def bring_up(self) -> None:
        """End an outage: listen on the same port again, with the same state."""
        if self._placeholder is None:
            raise RuntimeError("SimulatorServer is not down")
        placeholder, self._placeholder = self._placeholder, None
        placeholder.listen(128)
        self._serve(placeholder)

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
        """``http://host:port`` of the running server (also while it is down)."""
        if self._server is None and self._placeholder is None:
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
