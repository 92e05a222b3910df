"""The token Aligo's Kakao API wants on every call but the one that issues it.

``POST /akv10/token/create/{time}/{unit}/`` issues a token good for ``time`` units (y, m, d,
h, i, s). An adapter serves one provider and is shared by the console's request threads, so it
keeps one token and reuses it until shortly before it runs out; a thread finding it stale
renews it while the others wait for that one renewal instead of each asking Aligo for its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from kmsg_console.messaging.result import Err, Ok, Result

#: What the adapter asks for: 30 minutes ("i" is Aligo's minute unit).
ISSUE_PATH = "/akv10/token/create/30/i/"
TOKEN_LIFETIME_SECONDS = 30 * 60
#: Renewed this long before the expiry, so a call never leaves with a token about to lapse.
RENEW_BEFORE_SECONDS = 60


class KakaoTokenCache:
    """One provider's token, safe to share between threads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0

    def __repr__(self) -> str:  # never show the token
        return f"<KakaoTokenCache held={self._token is not None}>"

    def get(self, issue: Callable[[], Result[str]]) -> Result[str]:
        """The held token, or a new one from ``issue`` when there is none or it is due."""
        with self._lock:
            if self._token is not None and self._clock() < self._renew_at:
                return Ok(self._token)
            # Counted from before the request: Aligo starts the lifetime when it answers.
            requested_at = self._clock()
            result = issue()
            if isinstance(result, Err):
                self._token = None
                return result
            self._token = result.value
            self._renew_at = requested_at + TOKEN_LIFETIME_SECONDS - RENEW_BEFORE_SECONDS
            return result

    def discard(self, token: str) -> None:
        """Forget ``token`` after Aligo refused it, unless another thread already replaced it."""
        with self._lock:
            if self._token == token:
                self._token = None
