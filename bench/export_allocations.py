#!/usr/bin/env python3
"""Exporting 1,000,000 allocations of one promocode from a workspace, beside a bare loop.

    .venv/bin/python bench/export_allocations.py [--rows N] [--repeat R]

The workspace is made once (bench/out): a 1,000,000-row allocation export of one promocode,
imported and indexed as the app leaves it. Each measurement runs in its own process:
- baseline: sqlite3 SELECT of the nine columns -> csv.writer.writerows into a file (no
  spreadsheet safety, no temporary file, no fsync);
- promodesk: `export_workspace_allocations`, spreadsheet-safe (the default) and atomic
  (temporary file, fsync, rename), with progress.
Targets (issue #11): <= 1.5x the baseline, peak RSS <= 150 MB.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import tempfile
from pathlib import Path

from common import ALPHABET, OUT, emit, median, run_child

from promodesk.domain.records import ALLOCATION_COLUMNS

PROMOCODE = "pc-bench"

BASELINE = """
import csv, os, sqlite3, time
workspace, target = sys.argv[1], sys.argv[2]
start = time.perf_counter()
conn = sqlite3.connect(f'file:{workspace}?mode=ro', uri=True)
cursor = conn.execute(
    'SELECT customer_id, promocode_id, promotion_id, file_id, unique_code, allocated_at, '
    'occurence_id, series_id, action_id FROM optimove_allocations WHERE promocode_id = ? '
    'ORDER BY id', (sys.argv[3],))
with open(target, 'w', newline='', encoding='utf-8') as handle:
    writer = csv.writer(handle)
    writer.writerow(['customerId', 'promocodeId', 'promotionId', 'fileId', 'uniqueCode',
                     'timestamp', 'occurenceId', 'seriesId', 'actionId'])
    writer.writerows(cursor)
result = {'seconds': time.perf_counter() - start, 'bytes': os.path.getsize(target)}
"""

PROMODESK = """
import time
from pathlib import Path
from promodesk.services.codes import export_workspace_allocations
from promodesk.store.allocation_export import AllocationScope
workspace, target = Path(sys.argv[1]), Path(sys.argv[2])
updates = []
start = time.perf_counter()
rows = export_workspace_allocations(
    workspace, AllocationScope(sys.argv[3]), target, progress=updates.append)
result = {'seconds': time.perf_counter() - start, 'rows': rows,
          'bytes': target.stat().st_size, 'progress_updates': len(updates)}
"""


def workspace_with(rows: int) -> Path:
    """A workspace holding `rows` allocations of one promocode, indexed (made once)."""
    from promodesk.store.db import connect
    from promodesk.store.importers.dispatch import import_file
    from promodesk.store.indexer import build_indexes
    from promodesk.store.workspace import create_workspace

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"export_{rows}.promodesk"
    if path.exists():
        return path
    rng = random.Random(rows)
    with tempfile.TemporaryDirectory(dir=OUT) as folder:
        export = Path(folder) / "allocations.csv"
        with export.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(ALLOCATION_COLUMNS)
            for n in range(rows):
                writer.writerow(
                    [
                        # One customer in a thousand has an id a spreadsheet would run.
                        f"={n}" if n % 1000 == 0 else str(rng.randrange(10**7, 10**8)),
                        PROMOCODE,
                        "promo-bench",
                        f"file-{n // 100_000}",
                        "".join(rng.choices(ALPHABET, k=10)),
                        f"2026-{9 + n * 3 // rows:02d}-{1 + n % 28:02d}"
                        f"T{n % 24:02d}:{n % 60:02d}:{(n * 7) % 60:02d}Z",
                        str(rng.randrange(100_000, 999_999)),
                        str(rng.randrange(1_000, 9_999)),
                        str(rng.choice([41, 42, 57])),
                    ]
                )
        temp = Path(folder) / "workspace.promodesk"
        create_workspace(temp, label="bench")
        conn = connect(temp)
        import_file(conn, export)
        build_indexes(conn)
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.close()
        os.replace(temp, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    workspace = workspace_with(args.rows)
    baseline, ours = [], []
    for _ in range(args.repeat):  # interleaved, so both see the same machine load
        with tempfile.TemporaryDirectory(dir=OUT) as folder:
            baseline.append(run_child(BASELINE, str(workspace), f"{folder}/bare.csv", PROMOCODE))
            ours.append(run_child(PROMODESK, str(workspace), f"{folder}/export.csv", PROMOCODE))
    assert all(run["rows"] == args.rows for run in ours)
    base_s = median([run["seconds"] for run in baseline])
    ours_s = median([run["seconds"] for run in ours])
    emit(
        {
            "benchmark": "export_allocations",
            "rows": args.rows,
            "file_mb": round(ours[0]["bytes"] / 1e6, 1),
            "repeat": args.repeat,
            "baseline_seconds": base_s,
            "baseline_peak_rss_mb": max(run["peak_rss_mb"] for run in baseline),
            "export_seconds": ours_s,
            "export_peak_rss_mb": max(run["peak_rss_mb"] for run in ours),
            "ratio_to_baseline": round(ours_s / base_s, 2),
            "targets": {"ratio_to_baseline": "<= 1.5", "export_peak_rss_mb": "<= 150"},
        }
    )


if __name__ == "__main__":
    main()
