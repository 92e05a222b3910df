"""Closed-loop HTTP load generator for the OTP benchmark (run as its own process).

``--concurrency`` threads, each with its own ``requests.Session`` (keep-alive), send requests
back to back for ``--warmup`` + ``--duration`` seconds; only requests that *finish* after
the warm-up count. Prints one JSON line: requests, seconds, requests/s, status codes and
latency percentiles.

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
    begin = time.monotonic()
    measure_from = begin + args.warmup
    stop_at = measure_from + args.duration
    last_done = [measure_from]

    def worker(seed: int) -> None:
        session = requests.Session()
        rng = random.Random(seed)
        local_status: collections.Counter[str] = collections.Counter()
        local_lat: list[float] = []
        local_created: list[list[str]] = []
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
            try:
                response = session.post(url, json=body, headers=headers, timeout=30)
                status = str(response.status_code)
                payload = response.json() if status == "201" and args.pairs_out else None
                if response.status_code >= 400:  # name the error: "502 send_failed"
                    try:
                        status += " " + str(response.json()["error"]["code"])
                    except (ValueError, KeyError, TypeError):
                        pass
            except requests.RequestException as exc:
                status, payload = type(exc).__name__, None
            done = time.monotonic()
            if done >= measure_from:
                local_status[status] += 1
                local_lat.append((done - t0) * 1000)
            if payload is not None:
                local_created.append([payload["id"], phone])
        with lock:
            statuses.update(local_status)
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
    ok = sum(n for s, n in statuses.items() if s.startswith("2"))
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
                "p50_ms": percentile(latencies, 0.5),
                "p95_ms": percentile(latencies, 0.95),
                "cpu_s": round(cpu, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
