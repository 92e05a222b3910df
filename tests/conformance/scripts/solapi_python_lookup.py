"""Read calls of SOLAPI's Python SDK: ``CALL`` is balance, messages, groups, group or
group_messages.

For messages and groups, ``QUERIES`` (a JSON list) holds one query per call: the keyword
arguments of the SDK's request model (``GetMessagesRequest``, ``GetGroupsRequest``), or null
for a call without one; the answers are printed as a list in the same order. ``GROUP_ID``
names the group of ``group`` and ``group_messages``. Prints the SDK's parsed answers.
"""

from __future__ import annotations

import json
import os

from solapi.model import GetGroupsRequest
from solapi.model.request.messages.get_messages import GetMessagesRequest
from solapi_python_common import dump, emit, service


def main() -> None:
    sdk = service()
    call = os.environ["CALL"]
    queries = json.loads(os.environ.get("QUERIES") or "[null]")
    if call == "balance":
        answer = sdk.get_balance()
    elif call == "messages":
        answer = [
            sdk.get_messages(GetMessagesRequest(**q) if q is not None else None) for q in queries
        ]
    elif call == "groups":
        answer = [sdk.get_groups(GetGroupsRequest(**q) if q is not None else None) for q in queries]
    elif call == "group":
        answer = sdk.get_group(os.environ["GROUP_ID"])
    elif call == "group_messages":
        answer = sdk.get_group_messages(os.environ["GROUP_ID"])
    else:
        raise SystemExit(f"unknown CALL {call!r}")
    emit([dump(a) for a in answer] if isinstance(answer, list) else dump(answer))


if __name__ == "__main__":
    main()
