"""Logging: plain text or JSON lines, each with the request id; numbers masked, never secrets.

Every request gets an id (the incoming ``X-Request-Id`` when it is sane, else a new one),
returned in the response header and attached to every log record made while serving it.
A last-line filter masks anything that looks like a Korean mobile number, in case a
message slips one in.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

_PHONE = re.compile(r"(?<!\d)(01[016-9])[-\s]?(\d{3,4})[-\s]?(\d{4})(?!\d)")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def mask_numbers(text: str) -> str:
    return _PHONE.sub(lambda m: f"{m.group(1)}-****-{m.group(3)}", text)


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` to records and masks phone numbers in the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        message = record.getMessage()
        masked = mask_numbers(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(app: Flask) -> None:
    """Install the handler on the ``kmsg_console`` logger (once per process)."""
    logger = logging.getLogger("kmsg_console")
    logger.setLevel(app.config["LOG_LEVEL"])
    if not any(getattr(h, "_kmsg", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler._kmsg = True  # type: ignore[attr-defined]
        handler.addFilter(RequestContextFilter())
        logger.addHandler(handler)
        logger.propagate = app.config.get("TESTING", False)  # let pytest's caplog see records
    for handler in logger.handlers:
        if getattr(handler, "_kmsg", False):
            handler.setFormatter(
                JsonFormatter()
                if app.config["LOG_FORMAT"] == "json"
                else logging.Formatter(
                    "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
                )
            )

    @app.before_request
    def _assign_request_id() -> None:
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex

    @app.after_request
    def _return_request_id(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
        return response
