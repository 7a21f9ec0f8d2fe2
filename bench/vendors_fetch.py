#!/usr/bin/env python3
"""Fetching 100,000 codes from the loopback fakes: impact.com (PageSize 1,000) and Altcraft
(export_all), through promodesk's clients, beside a bare httpx + json loop doing the same
requests in the same run.

    .venv/bin/python bench/vendors_fetch.py [--codes N] [--repeat R]

The fakes run in their own process (bench/fake_server.py); every measurement runs in a fresh
process so its peak RSS is its own. promodesk's side includes everything a sync does with a
page: validation with pydantic, the rate limiter (on, as in the app), retries armed.
"""

from __future__ import annotations

import argparse
import json

from common import emit, fake_server, median, run_child

IMPACT = """
import asyncio, time
from promodesk.vendors.impact.client import ImpactClient
urls = json.loads(sys.argv[1])['impact']
async def main():
    client = ImpactClient.connect(urls['base_url'], urls['account_sid'], urls['auth_token'])
    start = time.perf_counter()
    codes = 0
    async for record in client.iter_codes(page_size=1000):
        codes += 1
    seconds = time.perf_counter() - start
    requests = client.http.calls
    await client.aclose()
    return {'seconds': seconds, 'codes': codes, 'requests': requests}
result = asyncio.run(main())
"""

IMPACT_BARE = """
import asyncio, time, httpx
urls = json.loads(sys.argv[1])['impact']
async def main():
    base = urls['base_url']
    async with httpx.AsyncClient(auth=(urls['account_sid'], urls['auth_token'])) as client:
        start = time.perf_counter()
        url = f"{base}/Advertisers/{urls['account_sid']}/PromoCodes"
        params = {'PageSize': 1000, 'Page': 1}
        codes = requests = 0
        while True:
            response = await client.get(url, params=params, headers={'Accept': 'application/json'})
            requests += 1
            body = json.loads(response.content)
            codes += len(body['PromoCodes'])
            if int(body['@page']) >= int(body['@numpages']):
                break
            url, params = str(httpx.URL(base).join(body['@nextpageuri'])), None
        return {'seconds': time.perf_counter() - start, 'codes': codes, 'requests': requests}
result = asyncio.run(main())
"""

ALTCRAFT = """
import asyncio, time
from promodesk.vendors.altcraft.client import AltcraftClient
urls = json.loads(sys.argv[1])['altcraft']
async def main():
    client = AltcraftClient.connect(urls['base_url'], urls['token'], int(urls['loyalty_id']))
    start = time.perf_counter()
    records = await client.export_all()
    seconds = time.perf_counter() - start
    await client.aclose()
    return {'seconds': seconds, 'codes': len(records)}
result = asyncio.run(main())
"""

ALTCRAFT_BARE = """
import asyncio, time, httpx
urls = json.loads(sys.argv[1])['altcraft']
async def main():
    async with httpx.AsyncClient(timeout=60) as client:
        start = time.perf_counter()
        response = await client.post(
            urls['base_url'] + '/api/v1.1/promocodes/export_all',
            json={'token': urls['token'], 'format': 'json', 'loyalty_id': int(urls['loyalty_id'])},
        )
        codes = len(json.loads(response.content)['data'])
        return {'seconds': time.perf_counter() - start, 'codes': codes}
result = asyncio.run(main())
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--codes", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {
        "impact": [],
        "impact_bare": [],
        "altcraft": [],
        "altcraft_bare": [],
    }
    codes = str(args.codes)
    with fake_server("--impact-codes", codes, "--altcraft-codes", codes) as urls:
        described = json.dumps(urls)
        for _ in range(args.repeat):
            # Alternated, so drift in the machine's speed hits both sides alike.
            runs["impact_bare"].append(run_child(IMPACT_BARE, described))
            runs["impact"].append(run_child(IMPACT, described))
            runs["altcraft_bare"].append(run_child(ALTCRAFT_BARE, described))
            runs["altcraft"].append(run_child(ALTCRAFT, described))

    def summary(name: str) -> dict[str, float]:
        rows = runs[name]
        return {
            "seconds_median": median([r["seconds"] for r in rows]),
            "codes": rows[0]["codes"],
            "peak_rss_mb_max": max(r["peak_rss_mb"] for r in rows),
            **({"requests": rows[0]["requests"]} if "requests" in rows[0] else {}),
        }

    result = {name: summary(name) for name in runs}
    for vendor in ("impact", "altcraft"):
        result[vendor]["vs_bare_loop"] = round(
            result[vendor]["seconds_median"] / result[f"{vendor}_bare"]["seconds_median"], 2
        )
    emit(
        {"benchmark": "vendors_fetch", "codes_seeded": args.codes, "repeat": args.repeat, **result}
    )


if __name__ == "__main__":
    main()
