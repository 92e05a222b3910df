"""Closed-loop HTTP load generator for the OTP benchmark (run as its own process).

``--concurrency`` threads, each with its own ``requests.Session`` (keep-alive), send requests
back to back for ``--warmup`` + ``--duration`` seconds. Throughput counts the successful
(2xx) answers that arrive inside the measured window (after the warm-up, before its end);
statuses, failures and latencies count every request that finishes after the warm-up,
including the ones still in flight when the window closes (the "tail", each waited for up to
``--timeout``), so a request that timed out at the end is not lost from the error count.
Prints ``started`` when its threads start, then one JSON line: requests, seconds,
requests/s, status codes, failures and latency percentiles (ms, over every counted request;
a timed-out one counts with the time it waited).

Failures never stop a thread: an HTTP error answer is counted under its status (and in
``http_errors``), a client timeout (``--timeout`` seconds, connect or read) under
``timeout`` (``timeouts``), any other failure - refused or reset connection, broken answer -
under its exception's name (``errors``); after a failure without an answer the thread waits
50 ms before its next request, so a server that refuses connections is not hammered in a
tight loop. Hundreds of threads work (each is mostly waiting on its socket).

Modes:

- ``start``: ``POST {url}/verifications`` with a fresh phone number per request (so no
  per-number cooldown or limit applies) and a varied ``client_ip``; with ``--pairs-out``
  it writes ``[verification id, phone]`` of every 201 answer as JSON;
- ``check``: ``POST {url}/verifications/<id>/check`` with the right code, each verification
  once, from ``--pairs-in`` (``[[id, code], ...]``); stops early when they run out.

Only 127.0.0.1 is accepted as the target.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import random
import threading
import time
from urllib.parse import urlsplit

import requests


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="base URL, e.g. http://127.0.0.1:8000/api/v1")
    parser.add_argument("--key", default="", help="API key (Bearer)")
    parser.add_argument("--mode", choices=("start", "check"), default="start")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds per request (connect and read)"
    )
    parser.add_argument("--phone-base", type=int, default=0, help="first phone number suffix")
    parser.add_argument("--pairs-out")
    parser.add_argument("--pairs-in")
    args = parser.parse_args()
    if urlsplit(args.url).hostname != "127.0.0.1":
        raise SystemExit("load tests target 127.0.0.1 only")

    headers = {"Authorization": f"Bearer {args.key}"} if args.key else {}
    counter = itertools.count(args.phone_base)
    pairs = collections.deque(json.load(open(args.pairs_in)) if args.pairs_in else ())
    lock = threading.Lock()
    statuses: collections.Counter[str] = collections.Counter()
    latencies: list[float] = []
    created: list[list[str]] = []
    print("started", flush=True)  # the window opens --warmup seconds from now
    begin = time.monotonic()
    measure_from = begin + args.warmup
    stop_at = measure_from + args.duration
    last_done = [measure_from]
    in_window = [0]  # 2xx answers that arrived inside the measured window

    def worker(seed: int) -> None:
        session = requests.Session()
        rng = random.Random(seed)
        local_status: collections.Counter[str] = collections.Counter()
        local_lat: list[float] = []
        local_created: list[list[str]] = []
        local_ok = 0
        while time.monotonic() < stop_at:
            if args.mode == "start":
                phone = f"010{next(counter) % 10**8:08d}"
                url = f"{args.url}/verifications"
                body = {
                    "phone": phone,
                    "purpose": "login",
                    "client_ip": f"198.51.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                }
            else:
                try:
                    verification_id, code = pairs.popleft()
                except IndexError:
                    break
                url = f"{args.url}/verifications/{verification_id}/check"
                body = {"code": code}
            t0 = time.monotonic()
            payload = None
            try:
                response = session.post(url, json=body, headers=headers, timeout=args.timeout)
                status = str(response.status_code)
                if status == "201" and args.pairs_out:
                    payload = response.json()
                if response.status_code >= 400:  # name the error: "502 send_failed"
                    try:
                        status += " " + str(response.json()["error"]["code"])
                    except (ValueError, KeyError, TypeError):
                        pass
            except requests.Timeout:
                status = "timeout"
            except Exception as exc:  # counted, never fatal to the thread
                status = type(exc).__name__
                session.close()  # a fresh connection for the next request
            done = time.monotonic()
            if done >= measure_from:
                local_status[status] += 1
                local_lat.append((done - t0) * 1000)
                if done <= stop_at and status.startswith("2"):
                    local_ok += 1
            if payload is not None:
                local_created.append([payload["id"], phone])
            if not status[:1].isdigit() and status != "timeout":
                time.sleep(0.05)
        with lock:
            statuses.update(local_status)
            in_window[0] += local_ok
            latencies.extend(local_lat)
            created.extend(local_created)
            last_done[0] = max(last_done[0], time.monotonic())

    cpu_at_start = [0.0]

    def mark() -> None:  # this process's CPU time when the measured window opens
        time.sleep(max(0.0, measure_from - time.monotonic()))
        cpu_at_start[0] = time.process_time()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.concurrency)]
    marker = threading.Thread(target=mark)
    marker.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    marker.join()
    cpu = time.process_time() - cpu_at_start[0]
    seconds = max(1e-9, min(stop_at, last_done[0]) - measure_from)
    total = sum(statuses.values())
    ok = in_window[0]
    answered_ok = sum(n for s, n in statuses.items() if s.startswith("2"))
    timeouts = statuses.get("timeout", 0)
    http_errors = sum(n for s, n in statuses.items() if s[:1].isdigit() and not s.startswith("2"))
    if args.pairs_out:
        with open(args.pairs_out, "w") as handle:
            json.dump(created, handle)
    print(
        json.dumps(
            {
                "mode": args.mode,
                "concurrency": args.concurrency,
                "requests": total,
                "ok": ok,
                "seconds": round(seconds, 3),
                "rps": round(total / seconds, 1),
                "ok_rps": round(ok / seconds, 1),
                "status": dict(statuses),
                "timeouts": timeouts,
                "errors": total - answered_ok - timeouts - http_errors,
                "http_errors": http_errors,
                "tail": answered_ok - ok,  # 2xx answers after the window closed
                "timeout_s": args.timeout,
                "p50_ms": percentile(latencies, 0.5),
                "p95_ms": percentile(latencies, 0.95),
                "p99_ms": percentile(latencies, 0.99),
                "cpu_s": round(cpu, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
