#!/usr/bin/env python3
"""`promodesk check-codes` on a 1,000,000-code file, beside `sort -u FILE | wc -l`.

    .venv/bin/python bench/check_codes.py [--codes N] [--repeat R]

The file is 1,000,000 codes of 9 characters: exactly 10,000,000 bytes, Optimove's cap, so it
is clean and the whole check runs (every line, the duplicate set, the encoding scan). Both are
timed as whole processes, interleaved, in the same run: sort only finds the distinct lines;
check-codes also starts Python, checks every line and writes its JSON verdict. A second file
with 1% of its lines damaged (duplicates, case-only duplicates, spaces) shows the cost of the
second pass that names each duplicate's earlier line. Targets (issue #11): <= 3x the sort,
peak RSS <= 200 MB.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from pathlib import Path

from common import ALPHABET, OUT, REPO, emit, median, run_child

CHECK = """
import subprocess, time
start = time.perf_counter()
done = subprocess.run(
    [sys.executable, '-m', 'promodesk', 'check-codes', sys.argv[1], '--vendor', 'optimove',
     '--no-workspace', '--json', '--max-problems', '20'],
    capture_output=True, text=True,
)
seconds = time.perf_counter() - start
verdict = json.loads(done.stdout.splitlines()[0])
result = {
    'seconds': seconds,
    'exit': done.returncode,
    'rows': verdict['rows'],
    'valid': verdict['valid'],
    'summary': verdict['summary'],
    'check_peak_rss_mb': round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
}
"""


def code_file(codes: int, *, damaged: bool) -> Path:
    """Deterministic codes, made once and reused."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"codes_{codes}{'_damaged' if damaged else ''}.csv"
    if path.exists():
        return path
    rng = random.Random(codes)
    drawn: set[str] = set()
    while len(drawn) < codes:
        drawn.add("".join(rng.choices(ALPHABET, k=9)))
    lines = sorted(drawn)
    rng.shuffle(lines)
    if damaged:
        for n in range(0, codes, 100):  # 1%: a duplicate, a case-only duplicate, spaces
            kind = (n // 100) % 3
            earlier = lines[rng.randrange(0, max(1, n))]
            lines[n] = earlier if kind == 0 else earlier.lower() if kind == 1 else f" {lines[n]} "
    temp = path.with_suffix(".tmp")
    temp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    temp.replace(path)
    return path


def sort_unique(path: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        ["sh", "-c", f"sort -u '{path}' | wc -l"], capture_output=True, text=True, check=True
    )
    seconds = time.perf_counter() - start
    assert int(done.stdout) > 0
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "promodesk")], check=True)
    clean, damaged = code_file(args.codes, damaged=False), code_file(args.codes, damaged=True)
    sorts, checks, damaged_checks = [], [], []
    for _ in range(args.repeat):  # interleaved, so both see the same machine load
        sorts.append(sort_unique(clean))
        checks.append(run_child(CHECK, str(clean)))
        damaged_checks.append(run_child(CHECK, str(damaged)))
    assert all(run["exit"] == 0 and run["valid"] == args.codes for run in checks), checks[0]
    sort_s = median(sorts)
    check_s = median([run["seconds"] for run in checks])
    emit(
        {
            "benchmark": "check_codes",
            "codes": args.codes,
            "file_mb": round(clean.stat().st_size / 1e6, 2),
            "repeat": args.repeat,
            "sort_unique_seconds": sort_s,
            "check_codes_seconds": check_s,
            "ratio_to_sort_unique": round(check_s / sort_s, 2),
            "check_codes_peak_rss_mb": max(run["check_peak_rss_mb"] for run in checks),
            "damaged_1_percent": {
                "seconds": median([run["seconds"] for run in damaged_checks]),
                "ratio_to_sort_unique": round(
                    median([run["seconds"] for run in damaged_checks]) / sort_s, 2
                ),
                "peak_rss_mb": max(run["check_peak_rss_mb"] for run in damaged_checks),
                "valid": damaged_checks[0]["valid"],
                "summary": damaged_checks[0]["summary"],
            },
            "targets": {"ratio_to_sort_unique": "<= 3.0", "check_codes_peak_rss_mb": "<= 200"},
        }
    )


if __name__ == "__main__":
    main()
