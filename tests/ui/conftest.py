"""GUI test set-up: a qasync loop per test, a real window, a demo workspace copy per test.

Sync tests: each gets a qasync loop marked as already running (Qt's event processing inside
qtbot.wait* drives asyncio); teardown stops it and spins Qt once. Async tests get a qasync loop
from the pytest_asyncio_loop_factories hook and await futures resolved by Qt signals
(qtbot.wait* inside a coroutine can hang).
"""

from __future__ import annotations

import asyncio
import gc
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync

from promodesk.qt import QApplication, QSettings, QTimer
from promodesk.services.demo import build_demo_workspace
from promodesk.services.workspace_session import EXPECTED_ERRORS
from promodesk.ui.main_window import MainWindow
from promodesk.ui.tasks import Job, TaskRunner

pytestmark = pytest.mark.gui


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/ui/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.gui)


def pytest_asyncio_loop_factories(config: Any, item: Any) -> dict[str, Any]:
    def qt_loop() -> asyncio.AbstractEventLoop:
        app = QApplication.instance() or QApplication(["promodesk-tests"])
        app.setQuitOnLastWindowClosed(False)  # as in the app: closing a window is not quitting
        return qasync.QEventLoop(app)

    return {"qasync": qt_loop}


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    qapp.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    loop.stop()
    QTimer.singleShot(0, qapp.quit)
    qapp.exec()
    # Closed here, while Qt is alive: a loop left to the garbage collector tries to disconnect
    # signals of deleted Qt objects and prints errors at exit.
    loop.close()
    # qasync registered itself as the running loop and never unregisters; the next async
    # test's runner would refuse to start.
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)
    gc.collect()


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace, built once per run; tests get their own copy."""
    path = tmp_path_factory.mktemp("demo") / "Demo.promodesk"
    build_demo_workspace(path)
    return path


@pytest.fixture
def demo_copy(demo_master: Path, tmp_path: Path) -> Path:
    target = tmp_path / "Demo.promodesk"
    shutil.copyfile(demo_master, target)
    return target


def make_window(folder: Path, **options: Any) -> MainWindow:
    settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
    runner = TaskRunner()
    runner.expected_errors = EXPECTED_ERRORS
    return MainWindow(runner, settings, accounts_path=folder / "accounts.json", **options)


@pytest.fixture
def windows(qtbot: Any, qloop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[Any]:
    """Makes main windows and, at teardown, closes them the way the app does: close, let the
    jobs roll back, close the workspace, then delete. (qtbot.addWidget would delete them
    before this teardown runs.)"""
    made: list[MainWindow] = []

    def make(folder: Path = tmp_path, **options: Any) -> MainWindow:
        window = make_window(folder, **options)
        made.append(window)
        return window

    yield make
    for window in made:
        if window.isVisible():
            close_window(qtbot, window)
        window.deleteLater()
    QApplication.processEvents()


def wait_job(qtbot: Any, job: Job | None, timeout: int = 30_000) -> Job:
    assert job is not None
    if not job.done:
        with qtbot.waitSignal(job.finished, timeout=timeout):
            pass
    return job


def close_window(qtbot: Any, window: MainWindow) -> None:
    if not window.isVisible():
        return
    window.close()
    done = asyncio.ensure_future(window.shutdown())
    qtbot.waitUntil(done.done, timeout=30_000)
    done.result()


@pytest.fixture
def window(qtbot: Any, windows: Any, demo_copy: Path) -> Iterator[MainWindow]:
    """The main window, open on a copy of the demo workspace, every table loaded."""
    main = windows()
    main.show()
    job = wait_job(qtbot, main.open_workspace(demo_copy))
    assert job.error is None, job.error
    # These tests import into their copy of the Demo; the question the Demo asks first
    # ("your own workspace instead?") has tests of its own.
    main.importing.demo_confirmed = True
    for panel in main.panels.values():
        for browser in panel.browsers:
            qtbot.waitUntil(
                lambda b=browser: not b.model.busy and b.model.rowCount() > 0, timeout=15_000
            )
    return main
