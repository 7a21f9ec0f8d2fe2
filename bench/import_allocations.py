#!/usr/bin/env python3
"""Importing a 1,000,000-row Optimove allocation export, beside a bare csv -> sqlite loop.

    .venv/bin/python bench/import_allocations.py [--rows N] [--repeat R]

Each measurement runs in its own process (so peak RSS is that job's alone):
- baseline: csv.reader -> sqlite3.executemany into a table with no indexes, one transaction;
- promodesk: the real importer into a new workspace (validation, dedupe key, counts, history);
  until this returns the rows are committed, browsable and searchable;
- indexes: the background step that follows (sort indexes + trigram search index);
- again: the same rows imported once more under another name (a later export that repeats
  them: each row found already there is recorded as shared), then the first import removed
  (its rows handed to the second), in a process of its own.
Targets (issue #2): import <= 2x baseline, peak RSS <= 300 MB.
"""

from __future__ import annotations

import argparse
import tempfile

from common import allocation_export, emit, median, run_child

BASELINE = """
import csv, os, sqlite3, sys, time
path, db = sys.argv[1], sys.argv[2]
conn = sqlite3.connect(db)
conn.execute('PRAGMA journal_mode=WAL'); conn.execute('PRAGMA synchronous=NORMAL')
conn.execute('CREATE TABLE t(customerId, promocodeId, promotionId, fileId, uniqueCode, '
             'timestamp, occurenceId, seriesId, actionId)')
start = time.perf_counter()
with open(path, newline='', encoding='utf-8') as f:
    reader = csv.reader(f); next(reader)
    conn.execute('BEGIN')
    conn.executemany('INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?)', reader)
    conn.execute('COMMIT')
result = {'seconds': time.perf_counter() - start}
"""

PROMODESK = """
import sys, time
from pathlib import Path
from promodesk.store.workspace import create_workspace
from promodesk.store.db import connect
from promodesk.store.importers.dispatch import import_file
from promodesk.store.indexer import build_indexes
path, db = Path(sys.argv[1]), Path(sys.argv[2])
create_workspace(db, label='bench')
conn = connect(db)
start = time.perf_counter()
imported = import_file(conn, path)
seconds = time.perf_counter() - start
start = time.perf_counter()
build_indexes(conn)
indexing = time.perf_counter() - start
result = {'seconds': seconds, 'index_seconds': indexing, 'rows': imported.rows_added}
"""


AGAIN = """
import shutil, sys, time
from pathlib import Path
from promodesk.store.db import connect
from promodesk.store.importers.dispatch import import_file
from promodesk.store.imports import list_imports, remove_import
path, db = Path(sys.argv[1]), Path(sys.argv[2])
later = db.parent / ('later-' + path.name)
shutil.copyfile(path, later)
conn = connect(db)
[first] = list_imports(conn)
start = time.perf_counter()
again = import_file(conn, later)
seconds = time.perf_counter() - start
start = time.perf_counter()
removed = remove_import(conn, first.id)
removal = time.perf_counter() - start
result = {'seconds': seconds, 'added': again.rows_added, 'remove_first_seconds': removal,
          'handed': removed.rows_shared, 'removed': removed.rows_removed}
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    export = allocation_export(args.rows)
    baseline, ours, again = [], [], []
    for _ in range(args.repeat):  # interleaved, so both see the same machine load
        with tempfile.TemporaryDirectory() as folder:
            baseline.append(run_child(BASELINE, str(export), f"{folder}/bare.db"))
            ours.append(run_child(PROMODESK, str(export), f"{folder}/bench.promodesk"))
            again.append(run_child(AGAIN, str(export), f"{folder}/bench.promodesk"))
    assert all(run["rows"] == args.rows for run in ours)
    assert all((run["added"], run["handed"]) == (0, args.rows) for run in again), again
    base_s = median([run["seconds"] for run in baseline])
    ours_s = median([run["seconds"] for run in ours])
    emit(
        {
            "benchmark": "import_allocations",
            "rows": args.rows,
            "file_mb": round(export.stat().st_size / 1e6, 1),
            "repeat": args.repeat,
            "baseline_seconds": base_s,
            "baseline_peak_rss_mb": max(run["peak_rss_mb"] for run in baseline),
            "import_seconds": ours_s,
            "import_peak_rss_mb": max(run["peak_rss_mb"] for run in ours),
            "ratio_to_baseline": round(ours_s / base_s, 2),
            "background_index_seconds": median([run["index_seconds"] for run in ours]),
            "import_again_seconds": median([run["seconds"] for run in again]),
            "import_again_vs_import": round(
                median([a["seconds"] / o["seconds"] for a, o in zip(again, ours, strict=True)]), 2
            ),
            "remove_first_seconds": median([run["remove_first_seconds"] for run in again]),
            "again_peak_rss_mb": max(run["peak_rss_mb"] for run in again),
            "targets": {"ratio_to_baseline": "<= 2.0", "import_peak_rss_mb": "<= 300"},
        }
    )


if __name__ == "__main__":
    main()
