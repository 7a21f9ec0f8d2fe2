#!/usr/bin/env python3
"""Operations end to end through the executor (client call, result and audit entry written in
one transaction):

- one single-code operation (impact.com expire) on a workspace holding 1,000,000 codes, beside
  the bare client call of the same operation (target: <= 50 ms more than the vendor's answer);
- a bulk expire of 1,000 codes through the bulk runner (journal, audit, counts), beside a bare
  loop of the same client calls.

    .venv/bin/python bench/live_operations.py [--codes N] [--bulk N] [--repeat R]

The fake answers in-process (no sockets), so "the vendor's answer" is the fake's own time.
The client's rate limiter is off: impact.com allows 1,000 requests an hour, which would make a
real bulk expire of 1,000 codes take up to an hour whatever promodesk does.
"""

from __future__ import annotations

import argparse
import shutil

from common import OUT, emit, median, run_child

SETUP = """
import asyncio, time, statistics
from pathlib import Path
from promodesk.domain.vendors import Vendor
from promodesk.services.bulk import BulkRunner
from promodesk.services.operations import operation
from promodesk.services.operations.executor import AccountRef, Executor
from promodesk.store.db import connect, transaction
from promodesk.store.importers.base import ensure_account
from promodesk.store.indexer import build_indexes
from promodesk.store.runs import start_run
from promodesk.store.workspace import create_workspace
from promodesk.store.writes import IMPACT_CODES, Staging
from promodesk.vendors.fake_support import SandboxTransport
from promodesk.vendors.impact.client import ImpactClient
from promodesk.vendors.impact.fake import SANDBOX_SID, SANDBOX_TOKEN, FakeImpact

workspace, codes, bulk = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ACCOUNT = AccountRef('bench', Vendor.IMPACT, 'Bench', False)
fake = FakeImpact(rate_limit=None, demo=False)
for n in range(bulk * 2 + 200):
    fake.state.add({'Code': f'LIVE{n:07d}', 'AssignedPartnerId': '7', 'CampaignId': '1000'})

def build(path):
    if path.exists():
        return
    create_workspace(path, label='bench')
    conn = connect(path)
    with transaction(conn):
        account = ensure_account(conn, Vendor.IMPACT, key='bench', name='Bench', kind='live')
        run = start_run(conn, 'sync', account_id=account)
        staging = Staging(conn, IMPACT_CODES, account)
        staging.add(
            (7_000_001 + n, f'LIVE{n:07d}', 'active', str(1000 + n % 3), 'Program', str(n % 50),
             'Partner', 'ALWAYS', 'LI', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '', '',
             '', '{}')
            for n in range(codes)
        )
        staging.write(run_id=run, as_of='2026-11-01T00:00:00Z')
    build_indexes(conn)
    conn.close()

build(workspace)
client = ImpactClient.connect('http://impact.bench', SANDBOX_SID, SANDBOX_TOKEN,
                              transport=SandboxTransport(fake), rate_limit=None)

async def clients(_account):
    return client
executor = Executor(workspace, clients)
"""

SINGLE = (
    SETUP
    + """
async def main():
    expire = operation(Vendor.IMPACT, 'expire')
    bare, through = [], []
    for n in range(100):
        start = time.perf_counter()
        await client.expire(7_000_001 + 2 * n)
        bare.append(time.perf_counter() - start)
        start = time.perf_counter()
        outcome = await executor.run(ACCOUNT, expire, {'promo_code_id': 7_000_002 + 2 * n})
        through.append(time.perf_counter() - start)
        assert outcome.ok, outcome.message
    await client.aclose()
    return {'vendor_ms': statistics.median(bare) * 1000,
            'operation_ms': statistics.median(through) * 1000,
            'operation_p95_ms': sorted(through)[94] * 1000}
result = asyncio.run(main())
"""
)

BULK = (
    SETUP
    + """
async def main():
    expire = operation(Vendor.IMPACT, 'expire')
    first = 7_000_201
    start = time.perf_counter()
    for n in range(bulk):
        await client.expire(first + n)
    bare = time.perf_counter() - start
    runner = BulkRunner(executor)
    start = time.perf_counter()
    items = [{'promo_code_id': first + bulk + n} for n in range(bulk)]
    run = await runner.plan(ACCOUNT, expire, items)
    summary = await runner.run(ACCOUNT, run)
    seconds = time.perf_counter() - start
    assert summary.ok == bulk, summary
    await client.aclose()
    return {'bare_seconds': bare, 'bulk_seconds': seconds}
result = asyncio.run(main())
"""
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--bulk", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = OUT / "live_operations"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    master = folder / "master.promodesk"
    singles, bulks = [], []
    # Built once (with its search and sort indexes); each round works on a fresh copy.
    run_child(SETUP + "result = {}", str(master), str(args.codes), str(args.bulk))
    for round_ in range(args.repeat):
        copy = folder / f"round-{round_}.promodesk"
        shutil.copyfile(master, copy)
        singles.append(run_child(SINGLE, str(copy), str(args.codes), str(args.bulk)))
        shutil.copyfile(master, copy)
        bulks.append(run_child(BULK, str(copy), str(args.codes), str(args.bulk)))
    vendor = median([r["vendor_ms"] for r in singles])
    operation = median([r["operation_ms"] for r in singles])
    bare = median([r["bare_seconds"] for r in bulks])
    bulk = median([r["bulk_seconds"] for r in bulks])
    emit(
        {
            "benchmark": "live_operations",
            "workspace_codes": args.codes,
            "repeat": args.repeat,
            "single": {
                "vendor_answer_ms": round(vendor, 2),
                "end_to_end_ms": round(operation, 2),
                "added_by_promodesk_ms": round(operation - vendor, 2),
                "end_to_end_p95_ms": round(median([r["operation_p95_ms"] for r in singles]), 2),
            },
            "bulk": {
                "items": args.bulk,
                "bare_client_loop_seconds": round(bare, 3),
                "bulk_runner_seconds": round(bulk, 3),
                "per_item_ms": round(bulk / args.bulk * 1000, 2),
                "vs_bare_loop": round(bulk / bare, 2),
                "peak_rss_mb": max(r["peak_rss_mb"] for r in bulks),
            },
            "targets": {"added_by_promodesk_ms": "<= 50"},
        }
    )


if __name__ == "__main__":
    main()
