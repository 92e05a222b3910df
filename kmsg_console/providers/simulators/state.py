"""Thread-safe in-memory state shared by every vendor simulator.

The werkzeug server is threaded, so every read-modify-write goes through
``SimulatorState.lock`` (re-entrant so that helpers may nest). Vendor handlers run
under :func:`synchronized`; fault sleeps deliberately happen *outside* the lock so a
slow request never blocks the others.
"""

from __future__ import annotations

import functools
import itertools
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import current_app

from .options import VENDOR_PREFIXES, SimulatorOptions

EXTENSION_KEY = "kmsg_simulator"

#: Fault mode -> what the client sees; the control API and ``fake-providers --help`` show these.
FAULT_MODE_HELP: dict[str, str] = {
    "status_5xx": "the vendor's outage answer with HTTP {status} (default 503)",
    "reset": "the connection drops without an answer (process=true: after the vendor handled it)",
    "timeout": "the answer waits {ms} ms (default 30000), longer than any client timeout",
    "latency": "the answer waits {ms} ms (default 1000), then the vendor answers normally",
    "malformed_json": "HTTP 200 with the vendor's answer cut in half (no longer JSON)",
    "vendor_error": "the vendor's own error body for {code} (message, http_status optional)",
    "body": "{body} as the answer with HTTP {status} (process=true: after the vendor handled it)",
}
FAULT_MODES = tuple(FAULT_MODE_HELP)

F = TypeVar("F", bound=Callable[..., Any])


def path_matches(pattern: str, path: str) -> bool:
    """Compare vendor-relative paths ignoring trailing slashes; a final ``*`` matches a prefix."""
    want = pattern.rstrip("/") or "/"
    have = path.rstrip("/") or "/"
    if want.endswith("*"):
        return have.startswith(want[:-1])
    return want == have


@dataclass
class Fault:
    """A fault armed for the next ``remaining`` requests matching vendor/path/method.

    ``remaining=None`` keeps the fault active until the faults are cleared. ``path`` is
    matched against the path relative to the vendor prefix; a trailing ``*`` matches
    any suffix, and trailing slashes are ignored so ``/api/v2/send`` == ``/api/v2/send/``.
    """

    id: int
    vendor: str
    mode: str
    path: str | None = None
    method: str | None = None
    remaining: int | None = 1
    status: int | None = None
    code: str | None = None
    ms: int | None = None
    message: str | None = None
    http_status: int | None = None
    #: For ``reset``: let the vendor handle the request first (the "it was sent but the
    #: answer got lost" case that idempotency code must survive). For ``body``: answer with
    #: ``body`` instead of what the vendor answered after handling the request.
    process: bool = False
    retry_after: int | None = None
    #: For ``body``: the raw answer (``status`` defaults to 200, ``content_type`` to JSON).
    body: str | None = None
    content_type: str | None = None
    hits: int = 0

    def matches(self, vendor: str, method: str, path: str) -> bool:
        """True when this fault applies to a request."""
        if self.vendor not in (vendor, "*"):
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        return self.path is None or path_matches(self.path, path)

    def to_dict(self) -> dict[str, Any]:
        """JSON form used by the control API."""
        return dict(self.__dict__)


@dataclass
class StoredMessage:
    """A message accepted by a vendor, with its delivery-status progression.

    ``steps`` are successive sets of vendor-native status fields; the visible status is
    the step reached after ``elapsed / step_seconds`` steps, unless a test set an
    explicit ``override`` through the control API (which always wins). A message
    ``held_until`` a time stays at its first step until then and progresses from then on.
    """

    vendor: str
    message_id: str
    fields: dict[str, Any]
    steps: list[dict[str, Any]]
    created: float = field(default_factory=time.monotonic)
    override: dict[str, Any] | None = None
    #: Epoch seconds: a scheduled send waits for its date; ``math.inf`` holds it for good.
    held_until: float | None = None

    def current(self, step_seconds: float | None) -> dict[str, Any]:
        """Vendor-native view of the message with its current status fields."""
        merged = dict(self.fields)
        if self.steps:
            merged.update(self.steps[self._step_index(step_seconds)])
        if self.override:
            merged.update(self.override)
        return merged

    def _step_index(self, step_seconds: float | None) -> int:
        if self.held_until is None:
            elapsed = time.monotonic() - self.created
        else:
            elapsed = time.time() - self.held_until
            if elapsed < 0:
                return 0
        if step_seconds is None:
            return 0
        if step_seconds <= 0:
            return len(self.steps) - 1
        return min(int(elapsed / step_seconds), len(self.steps) - 1)


class SimulatorState:
    """All mutable simulator state; one instance per app."""

    def __init__(self, options: SimulatorOptions) -> None:
        self.options = options
        self.lock = threading.RLock()
        #: Set when the server stops so injected sleeps end early.
        self.stopping = threading.Event()
        #: Callables that add demo data after every reset (registered by the app factory).
        self.seeders: list[Callable[[SimulatorState], None]] = []
        self.reset()

    # -- lifecycle ---------------------------------------------------------
    def reset(self) -> None:
        """Forget everything (requests, faults, messages, templates) and re-seed."""
        with self.lock:
            limit = self.options.max_recorded_requests
            self.requests: dict[str, deque[dict[str, Any]]] = {
                vendor: deque(maxlen=limit) for vendor in VENDOR_PREFIXES
            }
            self.faults: list[Fault] = []
            self.messages: dict[str, dict[str, StoredMessage]] = {v: {} for v in VENDOR_PREFIXES}
            self.templates: dict[str, dict[str, dict[str, Any]]] = {v: {} for v in VENDOR_PREFIXES}
            #: Kakao channel tokens sent to channel admins: (vendor, searchId, phone) -> token.
            self.channel_tokens: dict[tuple[str, str, str], str] = {}
            #: Kakao channels (sender profiles) a vendor knows, keyed as the vendor names them
            #: (Aligo: by plus id, with ones still waiting for their admin's auth number).
            self.channels: dict[str, dict[str, dict[str, Any]]] = {v: {} for v in VENDOR_PREFIXES}
            #: API tokens a vendor issued (Aligo Kakao): token -> expiry in epoch seconds.
            self.tokens: dict[str, dict[str, float]] = {v: {} for v in VENDOR_PREFIXES}
            #: Message groups a vendor keeps (SOLAPI), by group id.
            self.groups: dict[str, dict[str, dict[str, Any]]] = {v: {} for v in VENDOR_PREFIXES}
            #: SOLAPI's block lists (수신 거부): groups and blocked numbers, by their ids.
            self.block_groups: dict[str, dict[str, Any]] = {}
            self.block_numbers: dict[str, dict[str, Any]] = {}
            #: Sender numbers a vendor lists for the account (SOLAPI ``/senderid/v1``), by
            #: number; a vendor without such a list checks ``options.sender_numbers`` only.
            self.sender_ids: dict[str, dict[str, dict[str, Any]]] = {v: {} for v in VENDOR_PREFIXES}
            #: Files uploaded to a vendor (SOLAPI storage), by file id.
            self.files: dict[str, dict[str, dict[str, Any]]] = {v: {} for v in VENDOR_PREFIXES}
            self.balances: dict[str, float] = {
                "solapi": self.options.solapi_balance,
                "solapi_point": self.options.solapi_point,
                "iwinv_alimtalk": self.options.iwinv_charge,
                "iwinv_sms": self.options.iwinv_sms_charge,
                "aligo": self.options.aligo_point,
            }
            #: SOLAPI replay protection: (apiKey, salt) -> epoch seconds first seen, oldest
            #: first (an OrderedDict drops its first entry in constant time; a dict does not).
            self.solapi_salts: OrderedDict[tuple[str, str], float] = OrderedDict()
            #: Request timestamps per vendor for rate limiting.
            self.rate_windows: dict[str, deque[float]] = {v: deque() for v in VENDOR_PREFIXES}
            self._counters: dict[str, itertools.count[int]] = {}
            self._request_seq = itertools.count(1)
            self._fault_seq = itertools.count(1)
            for seed in self.seeders:
                seed(self)

    def next_number(self, name: str, start: int = 1) -> int:
        """Monotonic counter per ``name`` (message ids, seqNo, template codes...)."""
        with self.lock:
            counter = self._counters.setdefault(name, itertools.count(start))
            return next(counter)

    # -- recorded requests -------------------------------------------------
    def record(self, vendor: str, entry: dict[str, Any]) -> dict[str, Any]:
        """Store a recorded request; the same dict is later completed with the outcome."""
        with self.lock:
            entry["seq"] = next(self._request_seq)
            self.requests[vendor].append(entry)
            return entry

    def list_requests(
        self, vendor: str | None = None, path: str | None = None
    ) -> list[dict[str, Any]]:
        """Recorded requests (oldest first), optionally filtered by vendor and relative path."""
        with self.lock:
            vendors: Iterable[str] = [vendor] if vendor else VENDOR_PREFIXES
            rows = [dict(r) for v in vendors for r in self.requests[v]]
        if path:
            rows = [r for r in rows if path_matches(path, r["path"])]
        return sorted(rows, key=lambda r: r["seq"])

    def clear_requests(self, vendor: str | None = None) -> None:
        """Drop recorded requests of one vendor or of all vendors."""
        with self.lock:
            for v in [vendor] if vendor else list(VENDOR_PREFIXES):
                self.requests[v].clear()

    # -- faults ----------------------------------------------------------------
    def add_fault(self, **kwargs: Any) -> Fault:
        """Arm a fault; validation of the mode happens here so every caller gets it."""
        if kwargs.get("mode") not in FAULT_MODES:
            raise ValueError(
                f"unknown fault mode {kwargs.get('mode')!r}; expected one of {FAULT_MODES}"
            )
        with self.lock:
            fault = Fault(id=next(self._fault_seq), **kwargs)
            self.faults.append(fault)
            return fault

    def take_fault(self, vendor: str, method: str, path: str) -> Fault | None:
        """Consume one use of the first matching fault (and drop it when used up)."""
        with self.lock:
            for fault in self.faults:
                if fault.matches(vendor, method, path):
                    fault.hits += 1
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            self.faults.remove(fault)
                    return fault
        return None

    def clear_faults(self, vendor: str | None = None) -> None:
        """Disarm faults of one vendor or all of them."""
        with self.lock:
            self.faults = [f for f in self.faults if vendor and f.vendor != vendor]

    # -- messages ----------------------------------------------------------
    def store_message(self, message: StoredMessage, key: str | None = None) -> StoredMessage:
        """Keep an accepted message; ``key`` must be unique per vendor (defaults to the id)."""
        with self.lock:
            self.messages[message.vendor][key or message.message_id] = message
            return message

    def find_messages(self, vendor: str, message_id: str) -> list[StoredMessage]:
        """Stored messages of ``vendor`` with ``message_id`` (IWINV shares seqNo per call)."""
        with self.lock:
            return [m for m in self.messages[vendor].values() if m.message_id == str(message_id)]

    def current_messages(self, vendor: str) -> list[dict[str, Any]]:
        """Current vendor-native view of every stored message of ``vendor``."""
        step = self.options.delivery_step_seconds
        with self.lock:
            return [m.current(step) for m in self.messages[vendor].values()]

    # -- balances and rate limits -----------------------------------------
    def charge(self, account: str, amount: float) -> bool:
        """Deduct ``amount`` if the balance covers it; False means "insufficient balance"."""
        with self.lock:
            if self.balances[account] < amount:
                return False
            self.balances[account] -= amount
            return True

    def hit_rate_limit(self, vendor: str, per_minute: int | None) -> bool:
        """Count a request in a 60 s sliding window; True when the limit is exceeded."""
        if not per_minute:
            return False
        now = time.monotonic()
        with self.lock:
            window = self.rate_windows[vendor]
            while window and now - window[0] > 60:
                window.popleft()
            if len(window) >= per_minute:
                return True
            window.append(now)
            return False


def get_state() -> SimulatorState:
    """The state of the simulator app handling the current request."""
    return current_app.extensions[EXTENSION_KEY]


def synchronized(view: F) -> F:
    """Run a vendor view under the state lock so compound updates stay consistent."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with get_state().lock:
            return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
