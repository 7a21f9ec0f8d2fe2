#!/usr/bin/env python3
"""What changed between two snapshots of 1,000,000 codes with 1% changed.

    .venv/bin/python bench/what_changed.py [--codes N] [--repeat R]

The workspace is made once (bench/out): an impact.com account's 1,000,000 codes written by a
first sync, then a second sync through the one writer in which 1% changed (0.5% changed
state, 0.25% went, 0.25% are new), as `services.sync` writes them. Each measurement runs in a
fresh process with a read-only connection:
- promodesk: `store.changes.compute_changes` for the two syncs (the list in a TEMP table,
  counted), then the list exported as CSV (spreadsheet-safe, atomic);
- baseline: one plain pass over the 1,000,000 codes (`count(*)` of a column), the least any
  comparison reads, in the same run.
Target (issue 12): <= 3 s.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from common import ALPHABET, OUT, emit, median, run_child

MEASURE = """
import time
from pathlib import Path
from promodesk.codefiles.spreadsheet import safe_cell_sql, write_csv
from promodesk.store.changes import EXPORT_HEADER, RunRange, changed_rows, compute_changes
from promodesk.store.db import connect
conn = connect(Path(sys.argv[1]), readonly=True)
first, second = int(sys.argv[2]), int(sys.argv[3])
start = time.perf_counter()
summary = compute_changes(conn, [RunRange(first, second)])
seconds = time.perf_counter() - start
start = time.perf_counter()
written = write_csv(Path(sys.argv[4]), EXPORT_HEADER, changed_rows(conn, safe_cell_sql),
                    rows_are_safe=True)
export = time.perf_counter() - start
result = {'seconds': seconds, 'export_seconds': export, 'listed': summary.total,
          'written': written, 'codes': summary.tally(codes=True)}
"""

BASELINE = """
import sqlite3, time
conn = sqlite3.connect(f'file:{sys.argv[1]}?mode=ro', uri=True)
start = time.perf_counter()
conn.execute("SELECT count(status) FROM impact_codes WHERE status <> ''").fetchone()
result = {'seconds': time.perf_counter() - start}
"""


def workspace_with(codes: int) -> tuple[Path, dict[str, object]]:
    from promodesk.domain.records import ImpactPromoCodeRecord
    from promodesk.domain.vendors import Vendor
    from promodesk.store.db import connect, transaction
    from promodesk.store.importers.base import ensure_account
    from promodesk.store.indexer import build_indexes
    from promodesk.store.records import impact_row
    from promodesk.store.runs import finish_run, start_run
    from promodesk.store.workspace import create_workspace
    from promodesk.store.writes import IMPACT_CODES, Staging

    path = OUT / f"what_changed_{codes}.promodesk"
    facts = path.with_suffix(".json")
    if path.exists() and facts.exists():
        return path, json.loads(facts.read_text())
    rng = random.Random(codes)
    code_of = ["".join(rng.choices(ALPHABET, k=10)) for _ in range(codes + codes // 400)]

    def row(n: int, state: str) -> tuple[object, ...]:
        return impact_row(
            ImpactPromoCodeRecord.model_validate(
                {
                    "Id": str(10_000_000 + n),
                    "Code": code_of[n],
                    "CampaignId": str(1000 + n % 5),
                    "CampaignName": f"Program {n % 5}",
                    "AssignedPartnerId": str(2000 + n % 300),
                    "State": state,
                }
            )
        )

    changed = set(rng.sample(range(codes), codes // 200))  # 0.5%: ACTIVE -> INACTIVE
    gone = set(rng.sample(sorted(set(range(codes)) - changed), codes // 400))  # 0.25%
    new = range(codes, codes + codes // 400)  # 0.25%
    with tempfile.TemporaryDirectory(dir=OUT) as folder:
        building = Path(folder) / path.name
        create_workspace(building, label="bench")
        conn = connect(building)
        runs = []
        seconds = []
        for snapshot in (0, 1):
            start = time.perf_counter()
            with transaction(conn):
                account = ensure_account(
                    conn, Vendor.IMPACT, key="imp", name="Partners", kind="live"
                )
                run = start_run(conn, "sync", account_id=account)
                staging = Staging(conn, IMPACT_CODES, account)
                numbers = (
                    range(codes)
                    if snapshot == 0
                    else [n for n in (*range(codes), *new) if n not in gone]
                )
                for offset in range(0, len(numbers), 50_000):
                    staging.add(
                        row(n, "INACTIVE" if snapshot and n in changed else "ACTIVE")
                        for n in numbers[offset : offset + 50_000]
                    )
                written = staging.write(run_id=run, as_of="2026-11-20T09:00:00Z", gone_scope={})
                finish_run(
                    conn,
                    run,
                    "done",
                    added=written.added,
                    changed=written.changed,
                    gone=written.gone,
                )
            seconds.append(round(time.perf_counter() - start, 2))
            runs.append(run)
            if snapshot == 0:
                build_indexes(conn)
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.close()
        building.replace(path)
    facts.write_text(
        json.dumps(
            {
                "runs": runs,
                "sync_seconds": seconds,
                "expected": {"changed": len(changed), "removed": len(gone), "added": len(new)},
            }
        )
    )
    return path, json.loads(facts.read_text())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    workspace, facts = workspace_with(args.codes)
    first, second = facts["runs"]  # type: ignore[misc]
    ours, bare = [], []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.repeat):
            ours.append(
                run_child(MEASURE, str(workspace), str(first), str(second), f"{folder}/c.csv")
            )
            bare.append(run_child(BASELINE, str(workspace)))
    assert ours[-1]["codes"] == facts["expected"], (ours[-1]["codes"], facts["expected"])
    seconds = median([run["seconds"] for run in ours])
    emit(
        {
            "benchmark": "what_changed",
            "codes": args.codes,
            "repeat": args.repeat,
            "sync_seconds": facts["sync_seconds"],
            "changes": ours[-1]["codes"],
            "compare_seconds": seconds,
            "csv_export_seconds": median([run["export_seconds"] for run in ours]),
            "baseline_scan_seconds": median([run["seconds"] for run in bare]),
            "ratio_to_scan": round(seconds / median([run["seconds"] for run in bare]), 2),
            "peak_rss_mb": max(run["peak_rss_mb"] for run in ours),
            "targets": {"compare_seconds": "<= 3.0"},
        }
    )


if __name__ == "__main__":
    main()
