#!/usr/bin/env python3
"""The longest event-loop stall while the wizards do a million of something, from the window.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/wizard_stalls.py [--codes N]

Drives the real main window and wizards, as a marketer would (1366x768):
- check: Create ▸ Check and upload code files… on a 1,000,000-code file with 1% damaged lines
  (bench/check_codes.py's), against a workspace holding those 1,000,000 codes: every line is
  "already in the workspace", so the problems table pages through a million problems; then
  the table is scrolled to its last row;
- generate: the same wizard generating 1,000,000 new codes against that workspace (drawn,
  matched against every code table, redrawn, written), then checking them;
- export: Create ▸ Export allocations… writing 1,000,000 allocations of one promocode from
  a workspace (bench/export_allocations.py's), spreadsheet-safe, atomically.
A Qt timer ticking every 5 ms records the longest gap per phase (bench/table_1m.py's meter):
the time the window could not have reacted to anything. In the same run, as the baselines: the
same meter on the idle window, and beside a bare Qt window (a table, no promodesk) while the
same services do the same three jobs, which is what the work alone costs the GUI thread
(worker threads share the GIL and, here, two cores). Target (issue #11): no stall over 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from check_codes import code_file
from common import OUT, emit, median
from export_allocations import PROMOCODE
from export_allocations import workspace_with as export_workspace
from generate_codes import workspace_with as codes_workspace
from table_1m import StallMeter, signalled

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


# The phases a job runs in (the others: opening a wizard or a workspace, the idle floor).
WORKING = ("check", "check_scroll_problems", "generate", "export")


class PhaseStalls(StallMeter):
    """The longest stall of each phase."""

    def __init__(self) -> None:
        super().__init__()
        self.by_phase: dict[str, float] = {}

    def _tick(self) -> None:
        now = time.perf_counter()
        gap = now - self._last - 0.005
        if gap > self.by_phase.get(self.phase, 0.0):
            self.by_phase[self.phase] = gap
        super()._tick()


async def shown(window, open_it):
    """The wizard `open_it()` opens, once it shows (its modules load off the GUI thread)."""
    future = asyncio.get_running_loop().create_future()

    def opened(wizard) -> None:
        if not future.done():
            future.set_result(wizard)

    window.wizards.opened.connect(opened)
    try:
        open_it()
        return await future
    finally:
        window.wizards.opened.disconnect(opened)


async def finished(wizard) -> float:
    """Seconds until the wizard's job (and any it chains) is done."""
    start = time.perf_counter()
    while wizard.busy:
        await wizard.job.as_future()
        await asyncio.sleep(0)
    return time.perf_counter() - start


def indexed_codes_workspace(codes: int) -> Path:
    """bench/generate_codes.py's workspace with its sort and search indexes built (as the
    window leaves a workspace it has opened once), made once."""
    from promodesk.store.db import connect
    from promodesk.store.indexer import build_indexes

    path = OUT / f"wizard_codes_{codes}.promodesk"
    if path.exists():
        return path
    temp = OUT / f".wizard_codes_{codes}.building"
    shutil.copyfile(codes_workspace(codes), temp)
    conn = connect(temp)
    build_indexes(conn)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    os.replace(temp, path)
    return path


async def measure_bare(codes: int, scratch: Path) -> dict[str, float]:
    """The same three jobs (the services the wizards call, as they call them) beside a bare
    Qt window with a table: the stalls the work itself causes (the GIL, two cores shared),
    whatever shows it."""
    from promodesk.codefiles.generator import CodeSpec
    from promodesk.codefiles.rules import rules_for
    from promodesk.qt import QMainWindow, QTableView
    from promodesk.services.codes import (
        check_code_files_async,
        export_workspace_allocations_async,
        generate_code_file_async,
    )
    from promodesk.store.allocation_export import AllocationScope
    from promodesk.ui.wizards.common import RowsModel

    window = QMainWindow()
    model = RowsModel(("Line", "Problem"))
    model.set_rows([(str(n), "problem") for n in range(200)])
    view = QTableView()
    view.setModel(model)
    window.setCentralWidget(view)
    window.resize(1366, 768)
    window.show()
    codes_ws = scratch / "bare_codes.promodesk"
    shutil.copyfile(indexed_codes_workspace(codes), codes_ws)
    export_ws = scratch / "bare_export.promodesk"
    shutil.copyfile(export_workspace(codes), export_ws)
    await asyncio.sleep(0.5)
    stalls = PhaseStalls()
    stalls.start()
    stalls.phase = "check"
    report = await check_code_files_async(
        [code_file(codes, damaged=True)], "optimove", workspace=codes_ws
    )
    report.close()
    stalls.phase = "generate"
    made = await generate_code_file_async(
        CodeSpec(codes, 9),
        scratch / "bare_generated.csv",
        workspace=codes_ws,
        max_file_bytes=rules_for("optimove").max_file_bytes,
    )
    report = await check_code_files_async(
        [path for path, _ in made.files], "optimove", workspace=codes_ws
    )
    report.close()
    stalls.phase = "export"
    await export_workspace_allocations_async(
        export_ws, AllocationScope(PROMOCODE), scratch / "bare_allocations.csv"
    )
    stalls.timer.stop()
    window.close()
    return {phase: round(value * 1000, 1) for phase, value in stalls.by_phase.items()}


async def measure(codes: int, scratch: Path) -> dict[str, object]:
    from promodesk.qt import QSettings
    from promodesk.ui.main_window import MainWindow
    from promodesk.ui.tasks import TaskRunner
    from promodesk.ui.wizards.problems import PAGE_SIZE

    checked_file = code_file(codes, damaged=True)
    codes_ws = scratch / "codes.promodesk"
    shutil.copyfile(indexed_codes_workspace(codes), codes_ws)
    export_ws = scratch / "export.promodesk"
    shutil.copyfile(export_workspace(codes), export_ws)
    bare = await measure_bare(codes, scratch)
    window = MainWindow(TaskRunner(), QSettings(str(scratch / "s.ini"), QSettings.Format.IniFormat))
    window.resize(1366, 768)
    window.show()
    await window.open_workspace(codes_ws).as_future()
    stalls = PhaseStalls()
    stalls.start()
    seconds: dict[str, float] = {}

    stalls.phase = "idle"
    await asyncio.sleep(2.0)

    stalls.phase = "open_wizard_first_time"
    start = time.perf_counter()
    wizard = await shown(window, lambda: window.wizards.open_code_files(paths=[checked_file]))
    seconds["open_wizard_first_time"] = time.perf_counter() - start
    await asyncio.sleep(0.2)
    stalls.phase = "check"
    wizard.next()
    seconds["check"] = await finished(wizard)
    model = wizard.check_page.view.model
    problems = model.rowCount()
    stalls.phase = "check_scroll_problems"
    start = time.perf_counter()
    wizard.check_page.view.table.scrollToBottom()
    if model.problem(problems - 1) is None:  # asks for the last page
        await signalled(model.page_loaded, lambda: model.problem(problems - 1) is not None)
    seconds["check_scroll_problems"] = time.perf_counter() - start
    loaded_pages = model.loaded_pages
    wizard.reject()
    await asyncio.sleep(0.2)

    stalls.phase = "open_wizard"
    wizard = await shown(window, lambda: window.wizards.open_code_files())
    stalls.phase = "generate"
    source = wizard.source_page
    source.generate.setChecked(True)
    source.count.setValue(codes)
    source.length.setValue(9)
    source.target.set_path(scratch / "generated.csv")
    wizard.next()
    seconds["generate_and_check"] = await finished(wizard)
    generated = sum(verdict.codes for verdict in wizard.report.files)
    wizard.reject()
    await asyncio.sleep(0.2)

    stalls.phase = "open_export_workspace"
    await window.open_workspace(export_ws).as_future()
    stalls.phase = "open_export_wizard_first_time"
    wizard = await shown(window, lambda: window.wizards.open_export())
    stalls.phase = "export_pages"  # as a marketer goes: the promocode, Next, the file
    wizard.scope_page.promocode.setEditText(PROMOCODE)
    await asyncio.sleep(0.2)
    wizard.next()
    await asyncio.sleep(0.2)
    wizard.save_page.target.set_path(scratch / "allocations.csv")
    await asyncio.sleep(0.2)
    stalls.phase = "export"  # from the Export button on
    wizard.next()
    seconds["export"] = await finished(wizard)
    exported = wizard.rows
    wizard.accept()
    stalls.timer.stop()
    window.close()
    await window.shutdown()
    worst = {phase: round(value * 1000, 1) for phase, value in stalls.by_phase.items()}
    return {
        "codes_checked": codes,
        "problems_listed": problems,
        "problem_pages_held_after_scrolling": loaded_pages,
        "problem_page_size": PAGE_SIZE,
        "codes_generated": generated,
        "allocations_exported": exported,
        "seconds": {name: round(value, 2) for name, value in seconds.items()},
        "longest_stall_ms": worst,
        "longest_stall_while_working_ms": max(
            value for phase, value in worst.items() if phase in WORKING
        ),
        "idle_window_longest_stall_ms": worst.get("idle", 0.0),
        "same_jobs_beside_a_bare_qt_window_longest_stall_ms": bare,
    }


def combined(runs: list[dict[str, object]]) -> dict[str, object]:
    """Runs side by side: per phase, the median of each run's longest stall, and the worst."""

    def phases(key: str) -> dict[str, list[float]]:
        found: dict[str, list[float]] = {}
        for run in runs:
            for phase, value in run[key].items():  # type: ignore[attr-defined]
                found.setdefault(phase, []).append(value)
        return found

    window = phases("longest_stall_ms")
    bare = phases("same_jobs_beside_a_bare_qt_window_longest_stall_ms")
    last = runs[-1]
    return {
        **{key: last[key] for key in last if "stall" not in key and key != "seconds"},
        "seconds_median": {
            name: median([run["seconds"][name] for run in runs])  # type: ignore[index]
            for name in last["seconds"]  # type: ignore[union-attr]
        },
        "longest_stall_ms_median": {phase: median(values) for phase, values in window.items()},
        "longest_stall_ms_worst": {phase: max(values) for phase, values in window.items()},
        "while_working_longest_stall_ms_median_of_runs": median(
            [run["longest_stall_while_working_ms"] for run in runs]  # type: ignore[misc]
        ),
        "bare_qt_window_same_jobs_longest_stall_ms_median": {
            phase: median(values) for phase, values in bare.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import qasync

    from promodesk.qt import QApplication

    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    runs = []
    with loop:
        for _ in range(args.repeat):
            scratch = Path(tempfile.mkdtemp())
            try:
                runs.append(loop.run_until_complete(measure(args.codes, scratch)))
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
    emit(
        {
            "benchmark": "wizard_stalls",
            "platform": os.environ.get("QT_QPA_PLATFORM"),
            "repeat": args.repeat,
            **combined(runs),
            "targets": {"while_working_longest_stall_ms": "<= 50"},
        }
    )


if __name__ == "__main__":
    main()
