"""Shared by the benchmarks: test data, child processes, JSON output."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import random
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from promodesk.domain.records import ALLOCATION_COLUMNS

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def allocation_export(rows: int) -> Path:
    """A deterministic Optimove allocation export with `rows` rows (made once, then reused)."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"allocations_{rows}.csv"
    if path.exists():
        return path
    rng = random.Random(rows)
    temp = path.with_suffix(".tmp")
    with temp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(ALLOCATION_COLUMNS)
        for n in range(rows):
            writer.writerow(
                [
                    f"{rng.randrange(10**7, 10**8)}",
                    f"pc-{n % 3}",
                    f"promo-{n % 3}",
                    f"file-{n // 100_000}",
                    "".join(rng.choices(ALPHABET, k=10)),
                    f"2026-{9 + n * 3 // rows:02d}-{1 + n % 28:02d}"
                    f"T{n % 24:02d}:{n % 60:02d}:{(n * 7) % 60:02d}Z",
                    str(rng.randrange(100_000, 999_999)),
                    str(rng.randrange(1_000, 9_999)),
                    str(rng.choice([41, 42, 57])),
                ]
            )
    os.replace(temp, path)
    return path


def run_child(code: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run Python `code` in a fresh process; it prints one JSON object as its last line.
    Adds the child's peak RSS (MB)."""
    probe = (
        "import json, resource, sys\n"
        + code
        + "\npeak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss"
        "\nresult['peak_rss_mb'] = round(peak / 1024, 1)"
        "\nprint(json.dumps(result))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=REPO,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def median(values: list[float]) -> float:
    return round(statistics.median(values), 4)


def emit(result: dict[str, Any]) -> None:
    # What else ran meanwhile: a benchmark alone keeps about one core busy (a load near 1);
    # more means other work shared the cores, and its figures are to be read with that.
    loads = os.getloadavg() if hasattr(os, "getloadavg") else ()  # (not on Windows)
    result["machine"] = {
        "cpus": os.cpu_count(),
        "load_average_1_5_15_min": [round(load, 2) for load in loads] or None,
    }
    print(json.dumps(result, indent=2))


@contextlib.contextmanager
def fake_server(*args: str) -> Iterator[dict[str, dict[str, str]]]:
    """bench/fake_server.py in its own process; yields what `sandbox serve --json` prints."""
    process = subprocess.Popen(
        [sys.executable, str(REPO / "bench" / "fake_server.py"), *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the fake server did not start")
        yield json.loads(line)
    finally:
        process.terminate()
        process.wait(timeout=30)
