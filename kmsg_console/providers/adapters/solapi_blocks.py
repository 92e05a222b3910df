"""SOLAPI's block lists (수신 거부), read for the console's opt-out sync.

The calls of SOLAPI's Node SDK (npm ``solapi`` 6.0.1, ``IamService``): ``getBlockGroups`` is
``GET /iam/v1/block/groups`` and ``getBlockNumbers`` is ``GET /iam/v1/block/numbers``, each
with optional filters (``blockGroupId``, ``status``, ``phoneNumber``, ``name[like]``,
``memo[like]``...) and ``startKey``/``limit`` paging (default 20, at most 500); the answer is
``{startKey, limit, nextKey, blockGroups|blockNumbers}`` and ``nextKey`` is where the next
page starts (none on the last). A group says which sender numbers its numbers refuse
(``senderNumbers``, or every one with ``useAll``); a number lists its ``blockGroupIds``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kmsg_console.messaging.errors import Acceptance, ErrorCode, SendError
from kmsg_console.messaging.result import Err, Ok, Result

#: SOLAPI's largest page.
PAGE_LIMIT = 500
#: Pages read at most per list (a million numbers), so a vendor answering the same
#: ``nextKey`` forever cannot keep a sync running.
MAX_PAGES = 2000


@dataclass(frozen=True)
class BlockGroup:
    """A SOLAPI block group: which of the account's sender numbers its numbers refuse."""

    id: str
    name: str
    active: bool
    use_all: bool
    sender_numbers: tuple[str, ...]


@dataclass(frozen=True)
class BlockedNumber:
    """A recipient on SOLAPI's block list, with the groups it belongs to."""

    id: str
    phone: str
    group_ids: tuple[str, ...]


class SolapiBlocksMixin:
    """Block-list reads for :class:`~.solapi.SolapiAdapter`."""

    supports_block_lists = True

    if TYPE_CHECKING:  # provided by SolapiAdapter

        def _call(self, method: str, path: str, **kwargs: Any) -> Any: ...
        def _read(self, reply: Any) -> Result[Any]: ...

    def _pages(self, path: str, list_key: str) -> Result[list[dict[str, Any]]]:
        rows: list[dict[str, Any]] = []
        start: str | None = None
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"limit": PAGE_LIMIT}
            if start:
                params["startKey"] = start
            result = self._read(self._call("GET", path, params=params))
            if isinstance(result, Err):
                return result
            body = result.value if isinstance(result.value, dict) else {}
            items = body.get(list_key)
            if not isinstance(items, list):
                return Err(
                    SendError.of(
                        ErrorCode.PROVIDER_ERROR,
                        f"SOLAPI answered without {list_key}",
                        accepted=Acceptance.NOT_ACCEPTED,
                    )
                )
            rows.extend(item for item in items if isinstance(item, dict))
            following = body.get("nextKey")
            if not following or following == start:
                return Ok(rows)
            start = str(following)
        return Err(
            SendError.of(
                ErrorCode.PROVIDER_ERROR,
                f"SOLAPI's {list_key} did not end after {MAX_PAGES} pages",
                accepted=Acceptance.NOT_ACCEPTED,
            )
        )

    def list_block_groups(self) -> Result[list[BlockGroup]]:
        """Every block group of the account (all pages)."""
        result = self._pages("/iam/v1/block/groups", "blockGroups")
        if isinstance(result, Err):
            return result
        return Ok(
            [
                BlockGroup(
                    id=str(row.get("blockGroupId") or ""),
                    name=str(row.get("name") or ""),
                    active=row.get("status") == "ACTIVE",
                    use_all=bool(row.get("useAll")),
                    sender_numbers=tuple(str(n) for n in row.get("senderNumbers") or ()),
                )
                for row in result.value
                if row.get("blockGroupId")
            ]
        )

    def list_blocked_numbers(self) -> Result[list[BlockedNumber]]:
        """Every blocked recipient of the account (all pages)."""
        result = self._pages("/iam/v1/block/numbers", "blockNumbers")
        if isinstance(result, Err):
            return result
        return Ok(
            [
                BlockedNumber(
                    id=str(row.get("blockNumberId") or ""),
                    phone=str(row.get("phoneNumber") or ""),
                    group_ids=tuple(str(g) for g in row.get("blockGroupIds") or ()),
                )
                for row in result.value
            ]
        )
