"""SOLAPI's Python SDK meeting refusals; prints what the SDK raised.

``CASE=bad_auth`` reads the balance with the secret in ``SOLAPI_API_SECRET`` (the test gives a
wrong one): the SDK raises a plain ``Exception(errorCode, errorMessage)``.
``CASE=not_received`` sends the messages in ``MESSAGES`` (JSON list of ``RequestMessage``
fields): when every one is refused the SDK raises ``MessageNotReceivedError``.
Prints ``{"raised": <class name>, ...}``, or ``{"raised": null}`` when nothing was raised.
"""

from __future__ import annotations

import json
import os

from solapi.error.MessageNotReceiveError import MessageNotReceivedError
from solapi.model import RequestMessage
from solapi_python_common import dump, emit, service


def main() -> None:
    sdk = service()
    case = os.environ["CASE"]
    try:
        if case == "bad_auth":
            sdk.get_balance()
        elif case == "not_received":
            messages = [RequestMessage(**m) for m in json.loads(os.environ["MESSAGES"])]
            sdk.send(messages)
        else:
            raise SystemExit(f"unknown CASE {case!r}")
    except MessageNotReceivedError as exc:
        emit(
            {
                "raised": type(exc).__name__,
                "failed": [dump(m) for m in exc.failed_messages],
            }
        )
        return
    except Exception as exc:  # the SDK's only class for HTTP refusals
        emit({"raised": type(exc).__name__, "args": [str(a) for a in exc.args]})
        return
    emit({"raised": None})


if __name__ == "__main__":
    main()
