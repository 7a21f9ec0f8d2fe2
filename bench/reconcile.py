#!/usr/bin/env python3
"""Reconciling 1,000,000 Optimove allocations with 500,000 redemptions, beside a bare SQL join
of the same tables in the same run.

    .venv/bin/python bench/reconcile.py [--allocations N] [--redemptions M] [--repeat R]

The workspace is made once (bench/out): bench's 1,000,000-row allocation export imported and
indexed, and a shop's redemption export of 500,000 rows imported through the real importer
(its mapping saved): 90% of them redeemed by the customer the code went to (some typed in
lower case or with spaces around), 5% by someone else, 5% codes never allocated; times with
and without an offset (the shop's zone is Europe/Moscow). Each measurement runs in its own
process, interleaved:
- baseline: the bare join, each allocation's code (`lower()`, the least a match needs) looked
  up in the redemptions' key index, the joined rows written to a TEMP table with the columns
  a reconciliation compares (customers, times, promocode); also with the two ids only;
- promodesk: `store.reconcile.reconcile`: matching (exact keys, the best allocation per
  redemption), every count, the rate per promotion, the lists of codes redeemed by someone
  else and never allocated; and "everything": also the per-day series (a pass over every
  allocation and redemption) and the list of codes never redeemed (every allocation older
  than 30 days without a redemption, here ~500,000 rows).
Target (issue 12): reconcile <= 2x the bare join.
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
from pathlib import Path

from common import OUT, allocation_export, emit, median, run_child

BASELINE = """
import sqlite3, time
conn = sqlite3.connect(f'file:{sys.argv[1]}?mode=ro', uri=True)
conn.execute('PRAGMA cache_size = -65536')
conn.execute('PRAGMA temp.cache_size = -65536')
columns = {
    'ids': 'a.id, r.id',
    'columns': 'a.id, r.id, a.customer_id, r.customer_key, a.allocated_at, r.redeemed_at, '
               'a.account_id, a.promocode_id, a.file_id',
}[sys.argv[2]]
start = time.perf_counter()
conn.execute(f'CREATE TEMP TABLE pairs AS SELECT {columns} FROM optimove_allocations a '
             'CROSS JOIN redemptions r ON r.code_key = lower(a.unique_code)')
pairs = conn.execute('SELECT count(*) FROM temp.pairs').fetchone()[0]
result = {'seconds': time.perf_counter() - start, 'pairs': pairs}
"""

PROMODESK = """
import time
from pathlib import Path
from promodesk.store.db import connect
from promodesk.store.reconcile import ReconcileOptions, reconcile
conn = connect(Path(sys.argv[1]), readonly=True)
start = time.perf_counter()
everything = sys.argv[2] == 'everything'
summary = reconcile(conn, ReconcileOptions(list_unredeemed=everything, per_day=everything))
seconds = time.perf_counter() - start
listed = conn.execute('SELECT count(*) FROM temp.reconciliation').fetchone()[0]
result = {'seconds': seconds, 'matched': summary.matched, 'other_customer':
          summary.other_customer, 'never_allocated': summary.never_allocated,
          'not_redeemed': summary.not_redeemed, 'listed': listed}
"""


def workspace_with(allocations: int, redemptions: int) -> tuple[Path, float]:
    """The workspace (made once) and how long the redemption import took."""
    from promodesk.store.db import connect
    from promodesk.store.importers.dispatch import import_file
    from promodesk.store.indexer import build_indexes
    from promodesk.store.redemptions import RedemptionMapping, import_redemptions
    from promodesk.store.schema import SCHEMA_VERSION
    from promodesk.store.workspace import create_workspace

    # (made again for a new workspace format: the children open it read-only, unmigrated)
    name = f"reconcile_{allocations}_{redemptions}_v{SCHEMA_VERSION}"
    path = OUT / f"{name}.promodesk"
    timing = OUT / f"{name}.import_seconds"
    if path.exists() and timing.exists():
        return path, float(timing.read_text())
    import time

    export = allocation_export(allocations)
    rng = random.Random(redemptions)
    with tempfile.TemporaryDirectory(dir=OUT) as folder:
        building = Path(folder) / path.name
        create_workspace(building, label="bench")
        conn = connect(building)
        import_file(conn, export)
        build_indexes(conn)
        shop = Path(folder) / "orders.csv"
        with (
            export.open(newline="", encoding="utf-8") as source,
            shop.open("w", newline="", encoding="utf-8") as target,
        ):
            rows = csv.reader(source)
            next(rows)
            writer = csv.writer(target)
            writer.writerow(["Order", "Discount Code", "Email", "Created at"])
            chosen = sorted(rng.sample(range(allocations), redemptions))
            wanted = iter(chosen)
            next_wanted = next(wanted, None)
            for number, row in enumerate(rows):
                if number != next_wanted:
                    continue
                next_wanted = next(wanted, None)
                customer, code, at = row[0], row[4], row[5]
                roll = rng.random()
                if roll < 0.05:
                    customer = f"someone-{number}"
                elif roll < 0.10:
                    code = f"NEVER-{number}"
                elif roll < 0.20:
                    code = f"  {code.lower()} "
                stamp = at[:10] + " 12:00:00" if number % 2 else at[:10] + "T09:00:00+03:00"
                writer.writerow([str(number), code, customer, stamp])
        start = time.perf_counter()
        import_redemptions(
            conn,
            shop,
            source_name="Shop",
            mapping=RedemptionMapping("Discount Code", "Email", "Created at", "Europe/Moscow"),
        )
        seconds = time.perf_counter() - start
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.close()
        building.replace(path)
    timing.write_text(str(seconds))
    return path, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--allocations", type=int, default=1_000_000)
    parser.add_argument("--redemptions", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    workspace, import_seconds = workspace_with(args.allocations, args.redemptions)
    ids, joined, ours, everything = [], [], [], []
    for _ in range(args.repeat):  # interleaved, so all see the same machine load
        ids.append(run_child(BASELINE, str(workspace), "ids"))
        joined.append(run_child(BASELINE, str(workspace), "columns"))
        ours.append(run_child(PROMODESK, str(workspace), "matching"))
        everything.append(run_child(PROMODESK, str(workspace), "everything"))
    ids_s = median([run["seconds"] for run in ids])
    base_s = median([run["seconds"] for run in joined])
    ours_s = median([run["seconds"] for run in ours])
    all_s = median([run["seconds"] for run in everything])
    last = everything[-1]
    emit(
        {
            "benchmark": "reconcile",
            "allocations": args.allocations,
            "redemptions": args.redemptions,
            "repeat": args.repeat,
            "redemption_import_seconds": round(import_seconds, 2),
            "bare_join_seconds": base_s,
            "bare_join_pairs": joined[-1]["pairs"],
            "bare_join_ids_only_seconds": ids_s,
            "reconcile_seconds": ours_s,
            "ratio_to_bare_join": round(ours_s / base_s, 2),
            "ratio_to_ids_only_join": round(ours_s / ids_s, 2),
            "reconcile_everything_seconds": all_s,
            "ratio_everything_to_bare_join": round(all_s / base_s, 2),
            "matched": last["matched"],
            "other_customer": last["other_customer"],
            "never_allocated": last["never_allocated"],
            "not_redeemed": last["not_redeemed"],
            "listed": last["listed"],
            "peak_rss_mb": max(run["peak_rss_mb"] for run in everything),
            "targets": {"ratio_to_bare_join": "<= 2.0"},
        }
    )


if __name__ == "__main__":
    main()
