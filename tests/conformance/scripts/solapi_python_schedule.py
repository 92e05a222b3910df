"""A scheduled send and its cancellation through SOLAPI's Python SDK.

``ACTION=schedule`` sends one SMS with ``SendRequestConfig(scheduled_date=SCHEDULED_DATE)``;
``ACTION=cancel`` calls ``cancel_scheduled_message(GROUP_ID)``. Prints the parsed answer.
"""

from __future__ import annotations

import os

from solapi.model import MessageType, RequestMessage, SendRequestConfig
from solapi_python_common import dump, emit, service


def main() -> None:
    sdk = service()
    action = os.environ["ACTION"]
    if action == "schedule":
        message = RequestMessage(
            to=os.environ["TO"],
            from_=os.environ["SENDER"],
            text="예약 문자",
            type=MessageType.SMS,
        )
        config = SendRequestConfig(
            scheduled_date=os.environ["SCHEDULED_DATE"], show_message_list=True
        )
        emit(dump(sdk.send(message, config)))
    elif action == "cancel":
        emit(dump(sdk.cancel_scheduled_message(os.environ["GROUP_ID"])))
    else:
        raise SystemExit(f"unknown ACTION {action!r}")


if __name__ == "__main__":
    main()
