"""Open-loop report sender: ``python -m bench.trickle URL --rate R --count N --tag T``.

Sends ``count`` report POSTs at ``rate`` per second on a fixed schedule (request i leaves at
``i / rate`` s, whether or not earlier ones have been answered), so a slow server cannot slow
the sender down and hide its own latency (no coordinated omission: each latency is measured from
the request's scheduled time). Prints one JSON line: statuses, latency percentiles, the receipt
references of the 201s and the wall time. The bench runs it pinned to the load core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

import httpx


def report_json(tag: str, n: int) -> dict[str, object]:
    return {
        "account_text": "City of Albuquerque (bench)",
        "platform": "facebook",
        # one post per report: the intake deduplication must not fold two reports into one case
        "links": [f"https://www.facebook.com/cabq/posts/{tag}-{n}"],
        "categories": ["personal_attack"],
        "description": f"The official account replied to a resident with a personal insult. (bench {tag}-{n})",
    }


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))
    return s[k]


async def run(url: str, *, rate: float, count: int, tag: str, request_timeout: float) -> dict[str, object]:
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
    statuses: dict[str, int] = {}
    latencies: list[float] = []
    references: list[str] = []
    errors: dict[str, int] = {}
    async with httpx.AsyncClient(base_url=url, timeout=request_timeout, limits=limits) as client:
        start = time.perf_counter()

        async def one(n: int) -> None:
            due = start + n / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            try:
                r = await client.post("/v1/reports", json=report_json(tag, n))
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                return
            latencies.append(time.perf_counter() - due)
            statuses[str(r.status_code)] = statuses.get(str(r.status_code), 0) + 1
            if r.status_code == 201:
                references.append(r.json()["reference"])

        await asyncio.gather(*(one(n) for n in range(count)))
        wall = time.perf_counter() - start
    return {
        "sent": count, "wall_s": wall, "statuses": statuses, "errors": errors, "references": references,
        "p50_ms": percentile(latencies, 50) * 1000, "p90_ms": percentile(latencies, 90) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000, "max_ms": max(latencies, default=0.0) * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.trickle")
    ap.add_argument("url")
    ap.add_argument("--rate", type=float, required=True, help="reports per second")
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--tag", default="trickle")
    ap.add_argument("--timeout", type=float, default=30.0)
    a = ap.parse_args(argv)
    out = asyncio.run(run(a.url, rate=a.rate, count=a.count, tag=a.tag, request_timeout=a.timeout))
    sys.stdout.write("TRICKLEJSON " + json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
