#!/usr/bin/env python3
"""The standalone bundle: its size, and its start beside `python -m promodesk` in the same run.

    packaging/build && .venv/bin/python bench/bundle.py [--repeat 7]

Start is timed as in bench/cold_start.py: from spawn to the first paint of the window, and to
the first rows on screen, on a copy of the demo workspace, medians, runs interleaved.
With dist/promodesk-onefile present (packaging/build --onefile) it is timed too.
Targets (issue #3): onedir <= 155 MB, start <= 1.2x the source start. (The onedir target was
150 MB until the Insights charts: Qt Charts adds 3.4 MB, 148.3 -> 151.7 MB; README, Insights.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cold_start import start_setting, timed
from common import REPO, emit, median

DIST = REPO / "dist"


def size_mb(path: Path) -> float:
    if path.is_file():
        return round(path.stat().st_size / 1e6, 1)
    total = sum(item.lstat().st_size for item in path.rglob("*") if not item.is_symlink())
    return round(total / 1e6, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    onedir = DIST / "promodesk" / "promodesk"
    onefile = DIST / "promodesk-onefile"
    if not onedir.exists():
        sys.exit("build the bundle first: packaging/build")
    archives = sorted(DIST.glob("promodesk-*-linux-*.tar.gz"))
    commands = {
        "source": [sys.executable, "-m", "promodesk"],
        "onedir": [str(onedir)],
    }
    if onefile.exists():
        commands["onefile"] = [str(onefile)]
    paint: dict[str, list[float]] = {name: [] for name in commands}
    rows: dict[str, list[float]] = {name: [] for name in commands}
    with start_setting() as (env, workspace_path):
        workspace = str(workspace_path)
        for _ in range(args.repeat):
            for name, command in commands.items():
                opened = [*command, "--workspace", workspace]
                paint[name].append(
                    timed([*opened, "--exit-after", "first-paint"], "first-paint", env)
                )
                rows[name].append(timed([*opened, "--exit-after", "rows"], "rows", env))
    result: dict[str, object] = {
        "benchmark": "bundle",
        "platform": env["QT_QPA_PLATFORM"],
        "repeat": args.repeat,
        "onedir_mb": size_mb(DIST / "promodesk"),
        "archive_mb": size_mb(archives[-1]) if archives else None,
        "onefile_mb": size_mb(onefile) if onefile.exists() else None,
    }
    for name in commands:
        result[f"{name}_first_paint_s"] = median(paint[name])
        result[f"{name}_rows_on_screen_s"] = median(rows[name])
    result["onedir_start_ratio_to_source"] = round(
        median(paint["onedir"]) / median(paint["source"]), 2
    )
    result["targets"] = {"onedir_mb": "<= 155", "onedir_start_ratio_to_source": "<= 1.2"}
    emit(result)


if __name__ == "__main__":
    main()
