"""Starting the app as a user does: a real process, a real window, the first paint, then rows.

Speed is measured in bench/cold_start.py; these tests hold the start-up path to what makes
it fast (the first frame paints before the panels, which need Qt's enum namespace) and check
that the path still ends with rows on screen.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from promodesk.domain.vendors import Vendor
from promodesk.qt import QSettings
from tests.ui.conftest import wait_job

FIRST_FRAME = """
import sys
import PySide6.QtCore as core
from promodesk.app import _paint_now
from promodesk.qt import QApplication, QSettings
from promodesk.ui.main_window import MainWindow
from promodesk.ui.tasks import TaskRunner

app = QApplication([sys.argv[0]])
settings = QSettings(sys.argv[1], QSettings.Format.IniFormat)
window = MainWindow(TaskRunner(), settings, defer_panels=True)
window.show()
_paint_now(app, window)
print("painted", window.isVisible(), sorted(v.value for v in window.panels))
print("Qt namespace loaded:", "Qt" in core.__dict__)
window.current_panel()
print("after the panel:", "Qt" in core.__dict__, sorted(v.value for v in window.panels))
"""


def run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


def test_the_first_frame_paints_without_qts_enum_namespace(tmp_path: Path) -> None:
    # PySide6 builds all 93 enums of `Qt` on first touch (~20 ms, a fifth of a bare window's
    # start). Anything in the first frame that touches it (a Qt.AlignmentFlag, setShortcut())
    # puts that back in front of the first paint.
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("window/tab", 2)
    settings.sync()
    done = run(["-c", FIRST_FRAME, str(tmp_path / "settings.ini")])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines == [
        "painted True []",
        "Qt namespace loaded: False",
        "after the panel: True ['impact']",
    ], done.stderr


def test_the_app_opens_a_workspace_and_shows_its_rows(demo_copy: Path) -> None:
    done = run(["-m", "promodesk", "--workspace", str(demo_copy), "--exit-after", "rows"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("rows "), done.stdout
    assert "Traceback" not in done.stderr, done.stderr


def test_start_up_removes_what_interrupted_saves_left(demo_copy: Path) -> None:
    # A save-as killed half-way leaves a hidden copy of the user's data (and its journal)
    # beside the target. The next start removes old ones, in the folder of the workspace it
    # opens and in the workspaces folder, after the first paint: by the time rows show.
    from promodesk.atomic import temp_path_for
    from promodesk.services.paths import workspaces_dir

    workspaces_dir().mkdir(parents=True, exist_ok=True)
    stale = [
        temp_path_for(demo_copy.with_name("Copy.promodesk")),
        Path(f"{temp_path_for(demo_copy.with_name('Other.promodesk'))}-journal"),
        temp_path_for(workspaces_dir() / "My workspace.promodesk"),
    ]
    running = temp_path_for(demo_copy.with_name("Now.promodesk"))  # a save going on now
    users = demo_copy.with_name(".notes.promodesk-tmp.txt")
    hour_ago = time.time() - 7200
    for path in [*stale, running, users]:
        path.write_bytes(b"SQLite format 3\x00 a copy of the user's data")
    for path in [*stale, users]:
        os.utime(path, (hour_ago, hour_ago))
    done = run(["-m", "promodesk", "--workspace", str(demo_copy), "--exit-after", "rows"])
    assert done.returncode == 0, done.stderr
    assert [path for path in stale if path.exists()] == []
    assert running.exists() and users.exists()


def test_a_deferred_window_builds_the_shown_panel_first(
    qtbot: Any, windows: Any, demo_copy: Path, tmp_path: Path
) -> None:
    QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat).setValue("window/tab", 1)
    window = windows(defer_panels=True)
    built: list[Vendor] = []
    window.panel_built.connect(lambda panel: built.append(panel.vendor))
    window.show()
    assert window.panels == {}
    assert window.tabs.currentIndex() == 1
    assert window.tabs.tabText(1) == "Altcraft"

    panel = window.current_panel()
    assert built == [Vendor.ALTCRAFT]
    assert window.tabs.currentIndex() == 1 and window.tabs.currentWidget() is panel
    assert window.current_panel() is panel  # built once

    # The workspace opens with one panel built; the others get its rows when they are made.
    assert wait_job(qtbot, window.open_workspace(demo_copy)).error is None
    window.build_remaining_panels()
    assert built == [Vendor.ALTCRAFT, Vendor.OPTIMOVE, Vendor.IMPACT]
    assert [window.tabs.tabText(i) for i in range(3)] == ["Optimove", "Altcraft", "impact.com"]
    assert window.tabs.currentWidget() is panel
    panels: Any = window.panels
    expected = {
        panels[Vendor.OPTIMOVE].allocations: 20_000,
        panels[Vendor.ALTCRAFT].codes: 500,
        panels[Vendor.IMPACT].codes: 300,
    }
    for browser, rows in expected.items():
        qtbot.waitUntil(lambda m=browser.model, n=rows: m.rowCount() == n, timeout=15_000)
    assert window.offline_label.text().startswith("Offline · data as of ")
