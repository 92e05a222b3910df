"""JSON errors of the API: ``{"error": {"code": ..., "message": ...}}`` with the right status."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify


class ApiError(Exception):
    """Raised by API views and services; rendered as a JSON error response."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}
        #: More members of the error object (e.g. the refused message's ``message_id``).
        self.extra = extra or {}

    def response(self) -> Response:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        body.update(self.extra)
        response = jsonify(error=body)
        response.status_code = self.status
        for name, value in self.headers.items():
            response.headers[name] = value
        return response
