"""Request recording and fault injection, applied in front of every vendor API.

Order per vendor request: record it (so tests can count sends even when auth fails or
a fault fires), then consume at most one armed fault, then let the vendor answer.

``reset`` needs the raw socket, which only a real server provides: werkzeug's dev
server exposes it as ``environ["werkzeug.socket"]`` (gunicorn as ``gunicorn.socket``).
The WSGI middleware below shuts that socket down and raises ``ConnectionAbortedError``,
which werkzeug treats as a dropped connection and therefore writes nothing, so the
client sees the connection closed without a response (``RemoteDisconnected`` /
``ConnectionResetError`` -> ``requests.ConnectionError``).
"""

from __future__ import annotations

import json
import socket
import struct
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, g, request

from .common import json_response
from .options import vendor_for_path
from .state import Fault, SimulatorState

#: Builds a vendor's realistic error answer: (code, message or None, HTTP status or None).
VendorErrorFactory = Callable[[str, "str | None", "int | None"], Response]

RESET_FLAG = "kmsg_simulator.reset"
_MAX_RAW_BODY = 64 * 1024


def describe_request(vendor: str, relative_path: str) -> dict[str, Any]:
    """Snapshot of the current request in a JSON-friendly shape (header names lower-cased)."""
    raw = request.get_data(cache=True)  # cached, so form/JSON parsing still works afterwards
    content_type = request.mimetype or ""
    body: Any = None
    body_kind = "empty" if not raw else "raw"
    files: dict[str, Any] = {}
    if content_type == "application/json" or (raw[:1] in (b"{", b"[") and not request.form):
        parsed = request.get_json(silent=True, force=True)
        if parsed is not None:
            body, body_kind = parsed, "json"
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        body = {k: v[0] if len(v) == 1 else v for k, v in request.form.to_dict(flat=False).items()}
        body_kind = "multipart" if content_type == "multipart/form-data" else "form"
        for name, storage in request.files.items():
            data = storage.read()
            storage.seek(0)
            files[name] = {
                "filename": storage.filename,
                "content_type": storage.mimetype,
                "size": len(data),
            }
    return {
        "vendor": vendor,
        "method": request.method,
        "path": relative_path,
        "full_path": request.path,
        "query": request.args.to_dict(flat=True),
        "headers": {k.lower(): v for k, v in request.headers.items()},
        "content_type": request.content_type,
        "body_kind": body_kind,
        "body": body,
        "files": files,
        "raw": raw[:_MAX_RAW_BODY].decode("utf-8", errors="replace")
        if body_kind != "multipart"
        else None,
        "remote_addr": request.remote_addr,
        "fault": None,
        "response_status": None,
    }


def outage_response(vendor: str, status: int) -> Response:
    """What a 5xx from the vendor edge looks like: SOLAPI's JSON error, others a proxy page."""
    if vendor == "solapi":
        code = "ServiceUnavailable" if status == 503 else "InternalError"
        return json_response(
            {"errorCode": code, "errorMessage": f"Simulated server error {status}"}, status
        )
    html = (
        f"<html><head><title>{status}</title></head>"
        f"<body><center><h1>{status}</h1></center></body></html>"
    )
    return Response(html, status=status, content_type="text/html")


def break_json(response: Response) -> Response:
    """Turn a response into a 200 whose JSON body is cut in half (guaranteed unparseable)."""
    body = response.get_data()
    broken = body[: len(body) // 2] if len(body) > 2 else b""
    try:
        json.loads(broken)
        broken = b'{"code": 200, "message": "'  # parsed after all -> use a surely broken stub
    except ValueError:
        pass
    return Response(
        broken or b'{"code": 200, "message": "', status=200, content_type="application/json"
    )


def replacement_body(fault: Fault) -> Response:
    """The answer of a ``body`` fault: any raw body with any status (default 200 JSON).

    Models answers that parse but say nothing the client can trust: ``{}``, ``null``, a
    proxy's own JSON, an HTML error page served with 200.
    """
    return _with_retry_after(
        Response(
            fault.body or "",
            status=fault.status or 200,
            content_type=fault.content_type or "application/json; charset=utf-8",
        ),
        fault,
    )


def install_fault_hooks(
    app: Flask, state: SimulatorState, vendor_errors: dict[str, VendorErrorFactory]
) -> None:
    """Register the recording/fault hooks and the reset middleware on ``app``."""

    @app.before_request
    def _record_and_inject() -> Response | None:
        found = vendor_for_path(request.path)
        if found is None:
            return None
        vendor, relative = found
        entry = state.record(vendor, describe_request(vendor, relative))
        g.sim_entry = entry
        fault = state.take_fault(vendor, request.method, relative)
        if fault is None:
            return None
        with state.lock:
            entry["fault"] = fault.mode
        g.sim_fault = fault
        return _apply_fault(vendor, fault)

    def _apply_fault(vendor: str, fault: Fault) -> Response | None:
        if fault.mode in ("latency", "timeout"):
            default_ms = 30_000 if fault.mode == "timeout" else 1_000
            # Event.wait instead of sleep: stopping the server ends the delay at once.
            state.stopping.wait((fault.ms if fault.ms is not None else default_ms) / 1000)
            return None
        if fault.mode == "status_5xx":
            return _with_retry_after(outage_response(vendor, fault.status or 503), fault)
        if fault.mode == "vendor_error":
            factory = vendor_errors[vendor]
            return _with_retry_after(
                factory(str(fault.code or ""), fault.message, fault.http_status), fault
            )
        if fault.mode == "reset":
            request.environ[RESET_FLAG] = True
            # Without ``process`` the vendor never sees the request; the placeholder
            # response is discarded by the middleware before anything is written.
            return None if fault.process else Response(status=204)
        if fault.mode == "body" and not fault.process:
            return replacement_body(fault)  # a proxy or gateway answered; the vendor never saw it
        return None  # malformed_json, body with process: handled after the vendor answered

    @app.after_request
    def _finish(response: Response) -> Response:
        fault: Fault | None = g.get("sim_fault")
        if fault is not None and fault.mode == "malformed_json":
            response = break_json(response)
        elif fault is not None and fault.mode == "body" and fault.process:
            response = replacement_body(fault)
        entry = g.get("sim_entry")
        if entry is not None:
            with state.lock:
                entry["response_status"] = (
                    None if request.environ.get(RESET_FLAG) else response.status_code
                )
        return response

    app.wsgi_app = ResetMiddleware(app.wsgi_app)  # type: ignore[method-assign]


def _with_retry_after(response: Response, fault: Fault) -> Response:
    if fault.retry_after is not None:
        response.headers["Retry-After"] = str(fault.retry_after)
    return response


class ResetMiddleware:
    """Drops the TCP connection for requests flagged by a ``reset`` fault."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        result = self.wsgi_app(environ, start_response)
        if not environ.get(RESET_FLAG):
            return result
        # werkzeug only sends the status line on the first write, so nothing is on the wire yet.
        close = getattr(result, "close", None)
        if close is not None:
            close()
        abort_connection(environ)
        raise ConnectionAbortedError("kmsg simulator: injected connection reset")


def abort_connection(environ: dict[str, Any]) -> bool:
    """Shut the client socket down hard; False when the server exposes no socket."""
    sock = environ.get("werkzeug.socket") or environ.get("gunicorn.socket")
    if sock is None:
        return False
    try:
        # Linger 0: the final close sends RST instead of a graceful FIN handshake.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    return True
