#!/usr/bin/env python3
"""Syncing 100,000 impact.com codes and 100,000 Altcraft codes from the loopback sandbox into
a workspace, beside the bare client fetch of the same codes in the same run; then re-syncing
after 1% of the codes changed at the vendor.

    .venv/bin/python bench/live_sync.py [--codes N] [--repeat R]

Targets (issue 9): first sync <= 1.5x the bare fetch; re-sync with 1% changed <= 0.5x a first
sync. Each ratio is the median of the rounds' own ratios (each round's sync against the bare
fetch run beside it), not the ratio of the median times; every round's is in the output.
The fakes run in their own process (bench/fake_server.py, no server-side limits); each
measurement runs in a fresh process, so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import shutil

import httpx
from common import OUT, emit, fake_server, median, run_child

CLIENTS = """
import asyncio, time
from promodesk.vendors.impact.client import ImpactClient
from promodesk.vendors.altcraft.client import AltcraftClient
urls = json.loads(sys.argv[1])
vendor = sys.argv[2]
def client():
    if vendor == 'impact':
        u = urls['impact']
        return ImpactClient.connect(u['base_url'], u['account_sid'], u['auth_token'])
    u = urls['altcraft']
    return AltcraftClient.connect(u['base_url'], u['token'], int(u['loyalty_id']))
"""

BARE = (
    CLIENTS
    + """
async def main():
    c = client()
    start = time.perf_counter()
    if vendor == 'impact':
        codes = 0
        async for _ in c.iter_codes():
            codes += 1
    else:
        codes = len(await c.export_all())
    seconds = time.perf_counter() - start
    await c.aclose()
    return {'seconds': seconds, 'codes': codes}
result = asyncio.run(main())
"""
)

SYNC = (
    CLIENTS
    + """
from pathlib import Path
from promodesk.domain.vendors import Vendor
from promodesk.services.operations.executor import AccountRef
from promodesk.services.sync import sync_account
from promodesk.store.workspace import create_workspace
workspace = Path(sys.argv[3])
if not workspace.exists():
    create_workspace(workspace, label='bench')
async def main():
    c = client()
    account = AccountRef('bench-' + vendor, Vendor(vendor), 'Bench', False)
    start = time.perf_counter()
    outcome = await sync_account(workspace, account, c)
    seconds = time.perf_counter() - start
    await c.aclose()
    w = outcome.written
    return {'seconds': seconds, 'codes': outcome.seen, 'added': w.added, 'changed': w.changed,
            'gone': w.gone}
result = asyncio.run(main())
"""
)


def change_one_percent(
    urls: dict[str, dict[str, str]], vendor: str, codes: int, round_: int
) -> int:
    """1% of the codes change at the vendor, through its own API."""
    count = max(1, codes // 100)
    with httpx.Client(timeout=30) as client:
        if vendor == "impact":
            u = urls["impact"]
            for number in range(count):
                # The seeded codes follow the 25 demo ones; each round expires other codes.
                promo_id = 7_000_026 + round_ * count + number
                client.delete(
                    f"{u['base_url']}/Advertisers/{u['account_sid']}/PromoCodes/{promo_id}",
                    auth=(u["account_sid"], u["auth_token"]),
                    headers={"Accept": "application/json"},
                )
        else:
            # Attached to customers (export_all shows attachment, not expiry dates).
            u = urls["altcraft"]
            for number in range(count):
                code = f"BENCH-{round_ * count + number:07d}"
                client.post(
                    f"{u['base_url']}/api/v1.1/promocodes/attach",
                    json={
                        "token": u["token"],
                        "loyalty_id": int(u["loyalty_id"]),
                        "db_id": int(u["db_id"]),
                        "code": code,
                        "matching": "email",
                        "email": f"customer{number}@example.com",
                    },
                )
    return count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--codes", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    folder = OUT / "live_sync"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    result: dict[str, object] = {
        "benchmark": "live_sync",
        "codes_seeded": args.codes,
        "repeat": args.repeat,
    }
    with fake_server(
        "--impact-codes", str(args.codes), "--altcraft-codes", str(args.codes), "--no-limits"
    ) as urls:
        described = json.dumps(urls)
        for vendor in ("impact", "altcraft"):
            bare, first, again = [], [], []
            for round_ in range(args.repeat):
                workspace = folder / f"{vendor}-{round_}.promodesk"
                # Side by side, so drift in the machine's speed hits both alike; which goes
                # first alternates, so that going first or second does not favour either.
                if round_ % 2 == 0:
                    bare.append(run_child(BARE, described, vendor))
                first.append(run_child(SYNC, described, vendor, str(workspace)))
                if round_ % 2 == 1:
                    bare.append(run_child(BARE, described, vendor))
                changed = change_one_percent(urls, vendor, args.codes, round_)
                again.append(run_child(SYNC, described, vendor, str(workspace)))
                assert again[-1]["changed"] >= changed, again[-1]
            # Each round's ratio from its own, adjacent measurements (a paired comparison:
            # this VM's speed drifts by a fifth between rounds), then their median.
            first_vs_bare = [f["seconds"] / b["seconds"] for f, b in zip(first, bare, strict=True)]
            again_vs_first = [
                a["seconds"] / f["seconds"] for a, f in zip(again, first, strict=True)
            ]
            result[vendor] = {
                "codes": first[0]["codes"],
                "bare_fetch_seconds": median([r["seconds"] for r in bare]),
                "first_sync_seconds": median([r["seconds"] for r in first]),
                "first_sync_vs_bare_fetch": round(median(first_vs_bare), 2),
                "first_sync_vs_bare_fetch_rounds": [round(r, 2) for r in first_vs_bare],
                "resync_1pct_seconds": median([r["seconds"] for r in again]),
                "resync_vs_first_sync": round(median(again_vs_first), 2),
                "resync_vs_first_sync_rounds": [round(r, 2) for r in again_vs_first],
                "resync_changed": again[0]["changed"],
                "sync_peak_rss_mb": max(r["peak_rss_mb"] for r in first + again),
                "bare_peak_rss_mb": max(r["peak_rss_mb"] for r in bare),
            }
    result["targets"] = {"first_sync_vs_bare_fetch": "<= 1.5", "resync_vs_first_sync": "<= 0.5"}
    emit(result)


if __name__ == "__main__":
    main()
