"""The yardstick of the OTP benchmark: a Flask app that only makes the SOLAPI send call.

``POST /verifications`` takes the same JSON as the console's ``/api/v1/verifications``,
makes a 6-digit code and sends the same SMS through the same SOLAPI adapter the console
uses (``providers/adapters/solapi.py``: HMAC-SHA256 header, pooled ``requests`` session,
timeouts), and answers 201. No database, no API key, no throttling, no log rows: whatever
the console costs on top of this is its own work.

Served by ``bare_server.py`` with exactly the gunicorn settings of ``kmsg-console serve``.
The simulator's base URL comes from ``KMSG_BENCH_SOLAPI_URL``.
"""

from __future__ import annotations

import os
import secrets
import uuid

from flask import Flask, jsonify, request

from kmsg_console.messaging.types import Message, MessageType
from kmsg_console.providers.adapters.config import Timeouts
from kmsg_console.providers.adapters.registry import build_adapter

SMS_TEXT = "[kmsg] 인증번호 [{code}]을 입력해주세요. (3분 이내)"


def solapi_adapter(base_url: str):
    """The console's SOLAPI adapter with the simulator's demo account at ``base_url``."""
    return build_adapter(
        "solapi",
        "solapi-bench",
        {
            "api_key": "demo-api-key",
            "api_secret": "demo-api-secret",
            "default_from": "0212345678",
            "base_url": base_url,
        },
        timeouts=Timeouts(connect=3.0, read=10.0),
    )


def create_app() -> Flask:
    app = Flask(__name__)
    adapter = solapi_adapter(os.environ["KMSG_BENCH_SOLAPI_URL"])

    @app.post("/verifications")
    def start():
        body = request.get_json()
        code = f"{secrets.randbelow(10**6):06d}"
        message = Message(type=MessageType.SMS, to=body["phone"], text=SMS_TEXT.format(code=code))
        outcome = adapter.send(message)
        if not outcome.ok:
            error = outcome.error
            return jsonify(
                error={"code": f"send_failed:{error.code.value}:{error.vendor_code}"}
            ), 502
        return jsonify(id=str(uuid.uuid4()), status="pending", channel="sms"), 201

    return app
