#!/usr/bin/env python3
"""Generating 1,000,000 codes that are new to a workspace holding 1,000,000 codes.

    .venv/bin/python bench/generate_codes.py [--codes N] [--repeat R]

The workspace (made once, bench/out) holds the 1,000,000 unique codes of bench/check_codes.py
(9 characters of the same alphabet the generator uses, so a drawn code can collide). Each
measurement runs in its own process:
- promodesk: `generate_code_file` with the workspace: draw (secrets), keep unique (case and
  look-alikes included), match every code table of the workspace once, redraw what it knew,
  write atomically;
- promodesk without a workspace: the draw and the write alone;
- baseline: what a short script would do: every workspace code lower-cased into a Python
  set, `secrets.choice` per character, a set for the new codes, one write.
No target in the issue; the figures say what the workspace check costs and what it saves
in memory.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from check_codes import code_file
from common import OUT, emit, median, run_child

PROMODESK = """
import time
from pathlib import Path
from promodesk.codefiles.generator import CodeSpec
from promodesk.services.codes import generate_code_file
count, target = int(sys.argv[1]), Path(sys.argv[2])
workspace = Path(sys.argv[3]) if len(sys.argv) > 3 else None
start = time.perf_counter()
outcome = generate_code_file(CodeSpec(count, 9), target, workspace=workspace)
result = {'seconds': time.perf_counter() - start, 'codes': sum(n for _, n in outcome.files),
          'redrawn': outcome.redrawn}
"""

BASELINE = """
import secrets, sqlite3, time
count, target, workspace = int(sys.argv[1]), sys.argv[2], sys.argv[3]
alphabet = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'
start = time.perf_counter()
conn = sqlite3.connect(f'file:{workspace}?mode=ro', uri=True)
known = set()
for table, column in (('optimove_pool_codes', 'code'), ('optimove_allocations', 'unique_code'),
                      ('altcraft_codes', 'code'), ('impact_codes', 'code')):
    known.update(code for (code,) in conn.execute(f'SELECT lower({column}) FROM {table}'))
fresh = set()
while len(fresh) < count:
    code = ''.join(secrets.choice(alphabet) for _ in range(9))
    if code.lower() not in known:
        fresh.add(code)
with open(target, 'w', encoding='utf-8') as handle:
    handle.write('\\n'.join(fresh) + '\\n')
result = {'seconds': time.perf_counter() - start, 'codes': len(fresh), 'known': len(known)}
"""


def workspace_with(codes: int) -> Path:
    from promodesk.store.db import connect
    from promodesk.store.importers.dispatch import import_file
    from promodesk.store.workspace import create_workspace

    path = OUT / f"codes_{codes}.promodesk"
    if path.exists():
        return path
    source = code_file(codes, damaged=False)
    with tempfile.TemporaryDirectory(dir=OUT) as folder:
        temp = Path(folder) / "workspace.promodesk"
        create_workspace(temp, label="bench")
        conn = connect(temp)
        import_file(conn, source)
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.close()
        os.replace(temp, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    workspace = workspace_with(args.codes)
    ours, alone, baseline = [], [], []
    for _ in range(args.repeat):  # interleaved, so all see the same machine load
        with tempfile.TemporaryDirectory(dir=OUT) as folder:
            count = str(args.codes)
            ours.append(run_child(PROMODESK, count, f"{folder}/new.csv", str(workspace)))
            alone.append(run_child(PROMODESK, count, f"{folder}/alone.csv"))
            baseline.append(run_child(BASELINE, count, f"{folder}/bare.csv", str(workspace)))
    assert all(run["codes"] == args.codes for run in ours + alone + baseline)
    ours_s = median([run["seconds"] for run in ours])
    base_s = median([run["seconds"] for run in baseline])
    emit(
        {
            "benchmark": "generate_codes",
            "codes": args.codes,
            "workspace_codes": args.codes,
            "repeat": args.repeat,
            "generate_with_workspace_seconds": ours_s,
            "generate_with_workspace_peak_rss_mb": max(run["peak_rss_mb"] for run in ours),
            "redrawn": [run["redrawn"] for run in ours],
            "generate_alone_seconds": median([run["seconds"] for run in alone]),
            "generate_alone_peak_rss_mb": max(run["peak_rss_mb"] for run in alone),
            "baseline_seconds": base_s,
            "baseline_peak_rss_mb": max(run["peak_rss_mb"] for run in baseline),
            "ratio_to_baseline": round(ours_s / base_s, 2),
        }
    )


if __name__ == "__main__":
    main()
