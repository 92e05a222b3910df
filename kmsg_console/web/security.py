"""Response headers every page carries, and the handlers for refused requests."""

from __future__ import annotations

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError

# No inline script or style anywhere: htmx is loaded from /static and configured through a
# <meta> tag, so the policy needs no 'unsafe-inline'.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


#: (name, lower-case name, value) of the headers every response carries unless it set its own.
_HARDENING = tuple(
    (name, name.lower(), value)
    for name, value in (
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    )
)


def add_security_headers(response: Response) -> Response:
    """``after_request``: hardening headers; no caching of anything but static files."""
    headers = response.headers
    # One pass over what the response has (Headers.setdefault scans the list once per name).
    present = {name.lower() for name in headers.keys()}
    headers.extend([(name, value) for name, lower, value in _HARDENING if lower not in present])
    if request.is_secure and "strict-transport-security" not in present:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if request.endpoint != "static":
        # Console pages show phone numbers, codes and settings: never keep them in caches.
        headers["Cache-Control"] = "no-store"
        if response.mimetype == "text/html":
            # The same URL answers htmx with a fragment and browsers with a page.
            response.vary.add("HX-Request")
    return response


#: Paths called by programs (applications, vendors' delivery webhooks), never by a browser.
_MACHINE_PATH_PREFIXES = ("/api/", "/webhooks/")


def _wants_json() -> bool:
    return (
        request.path.startswith(_MACHINE_PATH_PREFIXES)
        or request.accept_mimetypes.best == "application/json"
    )


def register_error_handlers(app: Flask) -> None:
    """JSON errors under /api, friendly pages elsewhere; never a stack trace."""

    def handle(status: int, code: str, message: str):
        if _wants_json():
            return jsonify(error={"code": code, "message": message}), status
        return render_template("error.html", status=status, code=code), status

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return handle(400, "csrf_failed", "The form expired or was not sent from this console.")

    @app.errorhandler(400)
    def bad_request(exc):
        return handle(400, "bad_request", "The request could not be understood.")

    @app.errorhandler(403)
    def forbidden(exc):
        return handle(403, "forbidden", "You do not have permission for this.")

    @app.errorhandler(404)
    def not_found(exc):
        return handle(404, "not_found", "Not found.")

    @app.errorhandler(405)
    def method_not_allowed(exc):
        response = make_response(handle(405, "method_not_allowed", "Method not allowed."))
        # RFC 9110 15.5.6: a 405 lists the methods the resource supports.
        response.headers.extend(header for header in exc.get_headers() if header[0] == "Allow")
        return response

    @app.errorhandler(413)
    def too_large(exc):
        return handle(413, "too_large", "The request is too large.")

    @app.errorhandler(500)
    def server_error(exc):
        return handle(500, "internal_error", "Something went wrong on our side.")
