#!/usr/bin/env python3
"""5,000 Optimove GETs through promodesk's client (rate limiter off) beside a bare httpx loop
doing the same requests with the same concurrency, in the same run, against the loopback fake.

    .venv/bin/python bench/vendors_throughput.py [--requests N] [--repeat R]

promodesk's side is the real client: the per-account limiter switched off, but retries armed,
bounded concurrency (4, the app's default), redaction, and every answer validated by pydantic.
The bare side is httpx.AsyncClient + json.loads behind a semaphore of the same size. The fake
runs in its own process with its server-side limit off. Target (issue #4): promodesk's
throughput >= 0.8 of the bare loop's.
"""

from __future__ import annotations

import argparse
import json

from common import emit, fake_server, median, run_child

PROMOTION = "spring-welcome-2026"

PROMODESK = """
import asyncio, time
from promodesk.vendors.optimove.client import OptimoveClient
urls, count, width = json.loads(sys.argv[1])['optimove'], int(sys.argv[2]), int(sys.argv[3])
async def main():
    client = OptimoveClient.connect(
        urls['base_url'], urls['api_key'], rate_limit=None, max_concurrency=width
    )
    await client.get_promotion(PROMOTION)  # connection made, as in the bare loop
    start = time.perf_counter()
    done = await asyncio.gather(*(client.get_promotion(PROMOTION) for _ in range(count)))
    seconds = time.perf_counter() - start
    assert all(p.promotion_id == PROMOTION for p in done)
    await client.aclose()
    return {'seconds': seconds, 'per_second': count / seconds}
result = asyncio.run(main())
""".replace("PROMOTION", repr(PROMOTION))

BARE = """
import asyncio, time, httpx
urls, count, width = json.loads(sys.argv[1])['optimove'], int(sys.argv[2]), int(sys.argv[3])
async def main():
    slots = asyncio.Semaphore(width)
    async with httpx.AsyncClient(
        base_url=urls['base_url'], headers={'X-API-KEY': urls['api_key']}
    ) as client:
        async def one():
            async with slots:
                response = await client.get('/v1/promotions/PROMOTION')
                response.raise_for_status()
                return json.loads(response.content)
        await one()
        start = time.perf_counter()
        done = await asyncio.gather(*(one() for _ in range(count)))
        seconds = time.perf_counter() - start
    assert all(p['promotionId'] == 'PROMOTION' for p in done)
    return {'seconds': seconds, 'per_second': count / seconds}
result = asyncio.run(main())
""".replace("PROMOTION", PROMOTION)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    result: dict[str, object] = {
        "benchmark": "vendors_throughput",
        "requests": args.requests,
        "repeat": args.repeat,
    }
    with fake_server("--no-limits") as urls:
        described = json.dumps(urls)
        for width in (4, 1):
            runs: dict[str, list[float]] = {"promodesk": [], "bare": []}
            for _ in range(args.repeat):
                # Alternated, so drift in the machine's speed hits both sides alike.
                for name, code in (("bare", BARE), ("promodesk", PROMODESK)):
                    child = run_child(code, described, str(args.requests), str(width))
                    runs[name].append(child["per_second"])
            promodesk, bare = median(runs["promodesk"]), median(runs["bare"])
            result[f"concurrency_{width}"] = {
                "promodesk_requests_per_s": round(promodesk, 1),
                "bare_httpx_requests_per_s": round(bare, 1),
                "ratio": round(promodesk / bare, 3),
                "target_ratio": 0.8,
            }
    emit(result)


if __name__ == "__main__":
    main()
