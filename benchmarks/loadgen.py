"""A small, bounded HTTP load client for the benchmarks (one process, one thread per connection).

    .venv/bin/python benchmarks/loadgen.py SPEC.json   # prints JSON: latencies and status counts

SPEC = {"port": 8000, "method": "POST", "path": "/bench/bare-insert", "headers": {...},
        "bodies": [ {...}, ... ] (rotated; optional), "connections": 8, "warmup": 3, "duration": 15,
        "max_requests": 200000, "expect": 201}

Only ever talks to 127.0.0.1. Each connection is kept alive while the server allows it (a server
that answers `Connection: close` is reconnected to transparently). Requests that start during the
warm-up are sent but not counted; the run stops after warm-up + duration or max_requests, whichever
comes first.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from typing import Any

HOST = "127.0.0.1"


def run(spec: dict[str, Any]) -> dict[str, Any]:
    port = int(spec["port"])
    method = spec.get("method", "GET")
    path = spec["path"]
    base_headers = {"Connection": "keep-alive", **spec.get("headers", {})}
    bodies = [json.dumps(b).encode() for b in spec.get("bodies", [])] or [b""]
    if method != "GET":
        base_headers.setdefault("Content-Type", "application/json")
    connections = int(spec.get("connections", 8))
    warmup = float(spec.get("warmup", 3))
    duration = float(spec.get("duration", 15))
    max_requests = int(spec.get("max_requests", 200_000))
    expect = int(spec.get("expect", 200))
    start = time.perf_counter() + 0.05
    measure_from = start + warmup
    stop_at = measure_from + duration
    lock = threading.Lock()
    sent = 0
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors: list[str] = []

    def worker(index: int) -> None:
        nonlocal sent
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        local_lat: list[float] = []
        local_status: dict[str, int] = {}
        n = index
        while True:
            now = time.perf_counter()
            if now >= stop_at:
                break
            with lock:
                if sent >= max_requests:
                    break
                sent += 1
            body = bodies[n % len(bodies)] if method != "GET" else None
            n += connections
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=base_headers)
                response = conn.getresponse()
                response.read()
                code = response.status
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=30)
                code = 0
                if len(errors) < 20:
                    errors.append(repr(exc))
            t1 = time.perf_counter()
            if t0 >= measure_from and t1 <= stop_at + 30:
                if code == expect:
                    local_lat.append(t1 - t0)
                key = str(code)
                local_status[key] = local_status.get(key, 0) + 1
        conn.close()
        with lock:
            latencies.extend(local_lat)
            for key, count in local_status.items():
                statuses[key] = statuses.get(key, 0) + count

    delay = start - time.perf_counter()
    if delay > 0:
        time.sleep(delay)
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=warmup + duration + 60)
    ended = time.perf_counter()
    return {
        "latencies": latencies,
        "statuses": statuses,
        "errors": errors,
        "measured_seconds": min(duration, max(0.0, ended - measure_from)),
        "sent": sent,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as fh:
        spec = json.load(fh)
    print(json.dumps(run(spec)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
